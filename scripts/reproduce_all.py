"""Train every experiment of the report and regenerate every figure, table, GIF and the gallery.

    python scripts/reproduce_all.py                    # quick profile, minutes on 2 CPU cores
    python scripts/reproduce_all.py --profile report   # the report's schedules (hours on a CPU)

Finished runs are reused (a second invocation only redraws); interrupted runs resume.
"""
import sys

from replication.reproduce import main

if __name__ == "__main__":
    sys.exit(main())
