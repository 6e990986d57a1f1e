"""``scripts/study.py``: the stabiliser studies on the report's schedules.

For each GAN a few **variants** (the profile's settings and the stabilisers most likely to help, see
docs/models.md) are trained on the ``report`` profile with ``--precision auto``, each on
two seeds, into ``runs/<experiment>/study/<variant>-s<seed>/``:

* ``run EXPERIMENT [--variants a,b] [--seeds 0,1] [--stop-after N]`` trains them one after
  another (one training at a time: two at once only slow each other), resuming unfinished runs
  and skipping finished ones, so the same command continues a study after an interruption;
  ``--stop-after N`` pauses every run after epoch N (screen all variants on a third of the
  schedule, then continue the promising ones with ``--variants``);
* ``plot EXPERIMENT`` draws every run's per-epoch curves (tracked FID, coverage, conditional
  accuracy, D's accuracy on fakes; trained and averaged generator) into
  ``figures/studies/<experiment>.png``;
* ``table EXPERIMENT`` prints the README table: last- and best-epoch tracked FID, and the
  10,000-sample numbers of ``scripts/evaluate.py`` (run it first) for the trained and the
  averaged generator, with wall time, seed and settings;
* ``means EXPERIMENT [--epochs A-B]`` prints each run's tracked values averaged over epochs A
  to B (default: each run's last three): one epoch's 2,000-sample FID swings by tens of points,
  so the screening decisions compare these means;
* ``promote EXPERIMENT --variants V --seeds S`` copies the finished run of the chosen variant
  and seed to the profile's own run directory (``runs/<experiment>/report``), where
  ``reproduce_all.py --profile report`` draws the figures from instead of training it again;
  only a run at the profile's current settings qualifies (the default seed, and the variant
  made the default first), and its ``config.json`` then says where it came from;
* ``schedule EXPERIMENT`` prints the paper-schedule table
  (:func:`replication.figures.schedule.schedule_table`): the shipped report run beside
  ``<runs>/<experiment>/paper`` and the study's runs at the ``paper`` profile, their tracked
  values on the way and their 10,000-sample numbers at the end; and draws their curves per
  iteration into ``figures/studies/<experiment>-paper-schedule.png``;
* ``record EXPERIMENT`` copies each study run's text files (``config.json``, ``status.json``,
  ``history.csv``, ``metrics.json``; a few kB, no weights) into
  ``figures/studies/records/<experiment>/study/<run>/``, committed with the study figure, so
  that ``plot``, ``table`` and ``means`` with ``--runs figures/studies/records`` redraw the
  study's figure and tables on any clone, without the run directories (git-ignored, hours of
  training each).
"""

from __future__ import annotations

import argparse
import sys

from replication.cli import int_list, positive_int, script_main
from replication.config import PROFILES
from replication.errors import run_command
from replication.study.runs import (FIGURES_DIR, RECORD_FILES, RECORDS, promote, record, run,
                                    run_dir, study_runs)
from replication.study.tables import means, paper_schedule_runs, schedule_table, table
from replication.study.variants import SEEDS, STUDIES, Variant, chosen, studied, variants_of


def plot(experiment: str, root="runs", out=FIGURES_DIR, profile="report"):
    """The study's curves (:func:`replication.figures.studies.plot`)."""
    from replication.figures import studies  # matplotlib

    return studies.plot(experiment, root, out, profile)


def schedule_curves(experiment: str, root="runs", out=FIGURES_DIR):
    """The paper-schedule curves (:func:`replication.figures.studies.schedule_curves`)."""
    from replication.figures import studies  # matplotlib

    return studies.schedule_curves(experiment, root, out)


def _window(text: str) -> tuple[int, int]:
    first, sep, last = text.partition("-")
    try:
        window = (int(first), int(last if sep else first))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected epochs like 4-6, got {text!r}") from None
    if window[0] < 1 or window[1] < window[0]:
        raise argparse.ArgumentTypeError(f"expected epochs like 4-6 (first >= 1, last >= "
                                         f"first), got {text!r}")
    return window


HELP = "the stabiliser and design studies on the report's schedules"
DESCRIPTION = __doc__.split("\n", 2)[2]


def add_arguments(parser) -> None:
    parser.add_argument("action", choices=("run", "plot", "table", "means", "schedule",
                                           "promote", "record"))
    parser.add_argument("experiment", choices=studied())
    parser.add_argument("--variants", metavar="A,B",
                        help="variants to train (default: all); promote: the one variant")
    parser.add_argument("--seeds", type=int_list(0, "non-negative"), metavar="0,1",
                        help=f"seeds (default {','.join(map(str, SEEDS))}; record: every "
                             "seed, and every variant unless --variants names some)")
    parser.add_argument("--stop-after", type=positive_int, metavar="N",
                        help="pause every run after epoch N (a screening pass); rerun without "
                             "it to continue")
    parser.add_argument("--epochs", type=_window, metavar="A-B",
                        help="means: the epochs to average (default: each run's last three)")
    parser.add_argument("--runs", default="runs", metavar="DIR", help="runs root (default %(default)s)")
    parser.add_argument("--profile", choices=PROFILES, default="report",
                        help="the schedule (default report, the study's; smoke tries the "
                             "machinery in seconds, into <experiment>/study-smoke)")
    parser.add_argument("--out", default=FIGURES_DIR, metavar="DIR",
                        help="plot, schedule and record: where the figure and the records go "
                             "(default figures/studies)")


def main(argv=None) -> int:
    return script_main("python scripts/study.py", sys.modules[__name__], argv)


def run_cli(args, parser) -> int:
    seeds = list(SEEDS) if args.seeds is None else args.seeds
    if args.action == "promote" and (not args.variants or "," in args.variants
                                     or len(seeds) != 1):
        parser.error("promote: name one variant and one seed, e.g. --variants baseline --seeds 0")
    return run_command(lambda: _act(args, seeds), hint="rerun the same command to continue")


def _act(args, seeds) -> None:
    if args.action == "run":
        run(args.experiment, chosen(args.experiment, args.variants), seeds, args.runs,
            stop_after=args.stop_after, profile=args.profile)
    elif args.action == "plot":
        print(f"wrote {plot(args.experiment, args.runs, args.out, args.profile)}")
    elif args.action == "promote":
        target = promote(args.experiment, args.variants, seeds[0], args.runs, args.profile)
        source = run_dir(args.experiment, args.variants, seeds[0], args.runs, args.profile)
        print(f"copied {source} to {target}; "
              f"python scripts/reproduce_all.py --profile {args.profile} draws from it")
    elif args.action == "record":
        named = None if args.variants is None else \
            [variant.name for variant in chosen(args.experiment, args.variants)]
        for path in record(args.experiment, args.runs, args.out, args.profile, named,
                           args.seeds):
            print(f"recorded {path}")
    elif args.action == "schedule":
        print("\n".join(schedule_table(args.experiment, args.runs)))
        print(f"wrote {schedule_curves(args.experiment, args.runs, args.out)}")
    elif args.action == "means":
        print("\n".join(means(args.experiment, args.epochs, args.runs, args.profile)))
    else:
        print("\n".join(table(args.experiment, args.runs, args.profile)))


__all__ = ["FIGURES_DIR", "RECORDS", "RECORD_FILES", "SEEDS", "STUDIES", "Variant", "chosen",
           "studied", "variants_of", "run_dir", "run", "study_runs", "promote", "record",
           "table", "means", "schedule_table", "paper_schedule_runs", "plot", "schedule_curves",
           "main"]
