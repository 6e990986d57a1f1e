"""fig01 (vae): Graphical model of the problem: latent z generates data x through the generative model p_theta (solid); the recognition model q_phi(z|x) (dashed) approximates the posterior.

Usage: python scripts/fig01_vae_graphical_model.py [--run-dir RUN] [--out DIR]
"""
import sys

from replication.figures import script_main

if __name__ == "__main__":
    sys.exit(script_main("fig01"))
