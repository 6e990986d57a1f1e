"""cgan.gif (cgan): Conditional GAN: fixed noise x fixed classes after every epoch.

Usage: python scripts/gif_cgan.py [--run-dir RUN] [--out DIR]
"""
import sys

from replication.figures import script_main

if __name__ == "__main__":
    sys.exit(script_main("cgan.gif"))
