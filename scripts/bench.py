"""Benchmark each model's training step: fit() vs a plain loop, FLOPs, input pipeline, memory."""
import sys

from replication.bench import main

if __name__ == "__main__":
    sys.exit(main())
