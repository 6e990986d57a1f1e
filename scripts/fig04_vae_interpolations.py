"""fig04 (vae): Generated images: linear interpolations in latent space between encoded test digits.

Usage: python scripts/fig04_vae_interpolations.py [--run-dir RUN] [--out DIR]
"""
import sys

from replication.figures import script_main

if __name__ == "__main__":
    sys.exit(script_main("fig04"))
