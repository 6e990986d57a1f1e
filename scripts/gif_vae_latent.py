"""vae_latent.gif (vae): The latent-space scatter (fig06) after every epoch of training.

Usage: python scripts/gif_vae_latent.py [--run-dir RUN] [--out DIR]
"""
import sys

from replication.figures import script_main

if __name__ == "__main__":
    sys.exit(script_main("vae_latent.gif"))
