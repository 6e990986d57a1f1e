"""fig10 (dcgan): DCGAN samples after the first epoch.

Usage: python scripts/fig10_dcgan_epoch1.py [--run-dir RUN] [--out DIR]
"""
import sys

from replication.figures import script_main

if __name__ == "__main__":
    sys.exit(script_main("fig10"))
