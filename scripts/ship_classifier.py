"""Ship a finished classifier run as the project's evaluation classifier of its dataset: the
``ship`` verb (a classifier run goes into ``replication/assets/classifiers/<dataset>/``, or
``--root DIR/<dataset>/``).

Usage: python scripts/ship_classifier.py RUN_DIR [--root DIR]

Writes the model without optimizer state and ``classifier.json`` (command, data source, test
accuracy on the whole test split, dates, package versions).  The classifiers in git were made
with ``python -m replication train classifier --profile report --dataset <dataset>`` and this
script.
"""
import sys

from replication.shipping import main

if __name__ == "__main__":
    sys.exit(main())
