"""fig05 (vae): Loss per epoch: reconstruction (cross-entropy), KL divergence x 100, and their total; training and validation.

Usage: python scripts/fig05_vae_losses.py [--run-dir RUN] [--out DIR]
"""
import sys

from replication.figures import script_main

if __name__ == "__main__":
    sys.exit(script_main("fig05"))
