"""fig13 (cgan): Structure of the conditional GAN: the class label enters both the generator (joined to the noise) and the discriminator (joined to the image's channels).

Usage: python scripts/fig13_cgan_structure.py [--run-dir RUN] [--out DIR]
"""
import sys

from replication.figures import script_main

if __name__ == "__main__":
    sys.exit(script_main("fig13"))
