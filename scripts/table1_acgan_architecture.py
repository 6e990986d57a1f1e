"""table1 (acgan): The AC-GAN architecture for CIFAR-10 (the paper's table), regenerated from the built Keras models; also drawn as table1.png.

Usage: python scripts/table1_acgan_architecture.py [--run-dir RUN] [--out DIR]
"""
import sys

from replication.figures import script_main

if __name__ == "__main__":
    sys.exit(script_main("table1"))
