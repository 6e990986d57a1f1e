"""acgan.gif (acgan): AC-GAN: fixed noise x fixed classes after every epoch.

Usage: python scripts/gif_acgan.py [--run-dir RUN] [--out DIR]
"""
import sys

from replication.figures import script_main

if __name__ == "__main__":
    sys.exit(script_main("acgan.gif"))
