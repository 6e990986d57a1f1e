"""vae_grid.gif (vae): The latent-manifold grid (fig02) after every epoch of training.

Usage: python scripts/gif_vae_grid.py [--run-dir RUN] [--out DIR]
"""
import sys

from replication.figures import script_main

if __name__ == "__main__":
    sys.exit(script_main("vae_grid.gif"))
