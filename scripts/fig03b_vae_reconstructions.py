"""fig03b (vae): Generated images: test digits (top) and their reconstructions (bottom).

Usage: python scripts/fig03b_vae_reconstructions.py [--run-dir RUN] [--out DIR]
"""
import sys

from replication.figures import script_main

if __name__ == "__main__":
    sys.exit(script_main("fig03b"))
