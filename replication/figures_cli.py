"""The ``figures`` verb: ``python -m replication figures EXPERIMENT [--run-dir DIR]``.

Its own module, outside :mod:`replication.figures`, because that package loads matplotlib on
import and the command line (``--help``, a bad flag) stays light; the drawing is
:func:`replication.figures.draw_experiment`'s.
"""

from __future__ import annotations

from replication import experiments
from replication.errors import run_command
from replication.vocabulary import comma_list

HELP = "regenerate an experiment's figures from a run directory"
DESCRIPTION = ("Draw the report's figures and GIFs of one experiment from a finished (or partly "
               "finished) run directory, without retraining, and list them in "
               "OUT/manifest.json.")


def add_arguments(parser) -> None:
    parser.add_argument("experiment", choices=experiments.names())
    parser.add_argument("--run-dir", metavar="DIR",
                        help="run directory (default: runs/<experiment>/quick)")
    parser.add_argument("--out", metavar="DIR",
                        help="output folder (default: figures/ for a report-profile run, "
                             "figures/<profile>/ for quick and paper, the run directory for "
                             "smoke)")
    parser.add_argument("--only", metavar="IDS",
                        help="comma-separated figure ids to draw (default: all of the "
                             "experiment)")


def run_cli(args, parser) -> int:
    from replication.figures import draw_experiment  # matplotlib


    def run() -> None:
        draw_experiment(args.experiment, args.run_dir, args.out,
                        only=comma_list(args.only) or None)

    return run_command(run)
