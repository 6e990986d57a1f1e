"""Linear probe of EfficientNet-Lite0's features on MNIST: ImageNet weights against random
initialisation, at the bonus VAE's 32x32 input and larger (replication.encoder_probe).

Usage: python scripts/probe_lite0_features.py [--sizes 32,64] [--n-train 5000] [--n-test 2000]
"""
import sys

from replication.encoder_probe import main

if __name__ == "__main__":
    sys.exit(main())
