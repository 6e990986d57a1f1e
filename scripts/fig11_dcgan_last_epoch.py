"""fig11 (dcgan): DCGAN samples after the last epoch.

Usage: python scripts/fig11_dcgan_last_epoch.py [--run-dir RUN] [--out DIR]
"""
import sys

from replication.figures import script_main

if __name__ == "__main__":
    sys.exit(script_main("fig11"))
