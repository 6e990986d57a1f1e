"""fig07 (effnet_vae): Latent space of the VAE with the EfficientNet encoder: the encoded MNIST test set, coloured by digit.

Usage: python scripts/fig07_effnet_latent_space.py [--run-dir RUN] [--out DIR]
"""
import sys

from replication.figures import script_main

if __name__ == "__main__":
    sys.exit(script_main("fig07"))
