"""fig02 (vae): Generated images: the decoder's output over a grid of the 2-D latent plane.

Usage: python scripts/fig02_vae_manifold.py [--run-dir RUN] [--out DIR]
"""
import sys

from replication.figures import script_main

if __name__ == "__main__":
    sys.exit(script_main("fig02"))
