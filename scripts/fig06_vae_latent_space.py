"""fig06 (vae): Latent space: the encoded MNIST test set, coloured by digit.

Usage: python scripts/fig06_vae_latent_space.py [--run-dir RUN] [--out DIR]
"""
import sys

from replication.figures import script_main

if __name__ == "__main__":
    sys.exit(script_main("fig06"))
