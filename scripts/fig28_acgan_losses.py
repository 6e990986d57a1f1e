"""fig28 (acgan): AC-GAN loss per epoch, with the source accuracy and the class accuracy on real and generated images.

Usage: python scripts/fig28_acgan_losses.py [--run-dir RUN] [--out DIR]
"""
import sys

from replication.figures import script_main

if __name__ == "__main__":
    sys.exit(script_main("fig28"))
