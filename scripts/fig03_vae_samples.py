"""fig03 (vae): Generated images: random samples decoded from z ~ N(0, I).

Usage: python scripts/fig03_vae_samples.py [--run-dir RUN] [--out DIR]
"""
import sys

from replication.figures import script_main

if __name__ == "__main__":
    sys.exit(script_main("fig03"))
