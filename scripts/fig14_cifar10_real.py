"""fig14 (cgan): Real CIFAR-10 images of the ten classes.

Usage: python scripts/fig14_cifar10_real.py [--run-dir RUN] [--out DIR]
"""
import sys

from replication.figures import script_main

if __name__ == "__main__":
    sys.exit(script_main("fig14"))
