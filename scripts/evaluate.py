"""Evaluate finished runs into RUN_DIR/metrics.json: VAE bounds, GAN sample metrics (see --help)."""
import sys

from replication.evaluate import main

if __name__ == "__main__":
    sys.exit(main())
