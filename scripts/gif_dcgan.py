"""dcgan.gif (dcgan): DCGAN fixed-noise samples after every epoch.

Usage: python scripts/gif_dcgan.py [--run-dir RUN] [--out DIR]
"""
import sys

from replication.figures import script_main

if __name__ == "__main__":
    sys.exit(script_main("dcgan.gif"))
