"""fig09 (dcgan): The DCGAN generator: a noise vector projected and reshaped, then fractionally-strided (transposed) convolutions up to the image; no pooling or fully connected hidden layers.

Usage: python scripts/fig09_dcgan_generator.py [--run-dir RUN] [--out DIR]
"""
import sys

from replication.figures import script_main

if __name__ == "__main__":
    sys.exit(script_main("fig09"))
