"""fig26 (acgan): AC-GAN class-conditional samples after epoch 17 of 18 (one row per CIFAR-10 class, fixed noise).

Usage: python scripts/fig26_acgan_class_grid.py [--run-dir RUN] [--out DIR]
"""
import sys

from replication.figures import script_main

if __name__ == "__main__":
    sys.exit(script_main("fig26"))
