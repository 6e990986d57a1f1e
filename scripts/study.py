"""Stabiliser studies on the report's schedules: run, plot, table (see --help)."""
import sys

from replication.study import main

if __name__ == "__main__":
    sys.exit(main())
