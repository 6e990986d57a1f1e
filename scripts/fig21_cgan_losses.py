"""fig21 (cgan): Conditional GAN loss per epoch (and the discriminator's accuracy).

Usage: python scripts/fig21_cgan_losses.py [--run-dir RUN] [--out DIR]
"""
import sys

from replication.figures import script_main

if __name__ == "__main__":
    sys.exit(script_main("fig21"))
