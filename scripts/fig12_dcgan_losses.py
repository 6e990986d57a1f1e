"""fig12 (dcgan): DCGAN loss per epoch (with the discriminator's accuracy on real and generated images).

Usage: python scripts/fig12_dcgan_losses.py [--run-dir RUN] [--out DIR]
"""
import sys

from replication.figures import script_main

if __name__ == "__main__":
    sys.exit(script_main("fig12"))
