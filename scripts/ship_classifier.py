"""Ship a finished classifier run as the project's evaluation classifier of its dataset.

Usage: python scripts/ship_classifier.py RUN_DIR [--dest DIR]

Writes the model without optimizer state and ``classifier.json`` (command, data source, test
accuracy on the whole test split, dates, package versions) into
``replication/assets/classifiers/<dataset>/`` (or DIR).  The classifiers in git were made with
``python -m replication train classifier --profile report --dataset <dataset>`` and this script.
"""
import sys

from replication.cli import Parser
from replication.errors import run_command
from replication.extractors import ship_classifier


def main(argv=None) -> int:
    parser = Parser(prog="python scripts/ship_classifier.py",
                    description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dir", metavar="RUN_DIR", help="a finished classifier run")
    parser.add_argument("--dest", metavar="DIR",
                        help="target folder (default: replication/assets/classifiers/<dataset>)")
    args = parser.parse_args(argv)
    return run_command(lambda: print(f"shipped {ship_classifier(args.run_dir, args.dest)}"))


if __name__ == "__main__":
    sys.exit(main())
