"""fig16 (cgan): Conditional GAN class-conditional samples after epoch 4 of 15 (one row per CIFAR-10 class, fixed noise).

Usage: python scripts/fig16_cgan_class_grid.py [--run-dir RUN] [--out DIR]
"""
import sys

from replication.figures import script_main

if __name__ == "__main__":
    sys.exit(script_main("fig16"))
