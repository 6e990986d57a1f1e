"""Command line: ``python -m replication <verb> [options]``, one verb per command: train, sample,
figures, gallery, reproduce, evaluate, study, bench, ship (``--help`` lists them).

Bad input ends in one line on stderr and exit code 2; a run that cannot go on (diverged,
interrupted, a refused write) in one line and exit code 1, with everything already computed
kept in the run directory (:mod:`replication.errors`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from replication import bench, cards, experiments, pages, reproduce, seeds, shipping, study
from replication.cli import (GAN_OPTIONS, Parser, add_gan_arguments, add_train_arguments,
                             help_formatter, non_negative_int, positive_int,
                             progress_verbosity)
from replication.errors import run_command
from replication.evaluate import cli as evaluate_cli
from replication.sample import sample
from replication.train import train


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="python -m replication",
                    description="Train the report's models and regenerate its figures.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    train_parser = commands.add_parser(
        "train", help="train one experiment into a run directory",
        description="Train one experiment with fit(); writes config.json, history.csv, "
                    "per-epoch snapshots, checkpoints and the final .keras model(s) to the "
                    "run directory.")
    add_train_arguments(train_parser)
    add_gan_arguments(train_parser)

    figures = commands.add_parser(
        "figures", help="regenerate an experiment's figures from a run directory",
        description="Draw the report's figures and GIFs of one experiment from a finished "
                    "(or partly finished) run directory, without retraining, and list them in "
                    "OUT/manifest.json.")
    figures.add_argument("experiment", choices=experiments.names())
    figures.add_argument("--run-dir", metavar="DIR",
                         help="run directory (default: runs/<experiment>/quick)")
    figures.add_argument("--out", metavar="DIR",
                         help="output folder (default: figures/ for a report-profile run, "
                              "figures/<profile>/ for quick and paper, the run directory for "
                              "smoke)")
    figures.add_argument("--only", metavar="IDS",
                         help="comma-separated figure ids to draw (default: all of the experiment)")

    sample_parser = commands.add_parser(
        "sample", help="draw a grid of new samples from a trained model (the shipped run by "
                       "default)",
        description="Draw new samples from the shipped run of EXPERIMENT (pretrained/"
                    "<experiment>/) or from any run directory: the GANs from N(0, I) noise "
                    "(the conditional ones for one class, or one row per class), the VAEs "
                    "by decoding z ~ N(0, I). Seconds on a CPU.")
    sample_parser.add_argument("experiment", choices=experiments.names())
    sample_parser.add_argument("--class", dest="klass", metavar="NAME|INDEX",
                        help="cgan/acgan: the class, as the dataset names it (cat) or its index "
                             "(default: one row per class)")
    sample_parser.add_argument("--n", type=positive_int, default=64, metavar="N",
                        help="how many samples (default %(default)s)")
    sample_parser.add_argument("--seed", type=non_negative_int, default=0, metavar="S",
                        help="noise seed (default %(default)s)")
    sample_parser.add_argument("--generator", choices=("trained", "averaged"), default="trained",
                        help="GANs: the trained generator (default; what the report shows) or "
                             "the averaged one (EMA)")
    sample_parser.add_argument("--run", metavar="NAME",
                        help="which shipped run: 'report' (pretrained/<experiment>, the "
                             "report's recipe at its schedule, the default: what the report "
                             "trained) or a named one (pretrained/<experiment>_NAME, e.g. "
                             "'matching' for cgan, 'paper-real-cls' for acgan; "
                             "docs/recipe.md)")
    sample_parser.add_argument("--run-dir", metavar="DIR",
                        help="run directory to sample from instead of a shipped run")
    sample_parser.add_argument("--out", metavar="FILE.png",
                        help="the grid (default: runs/samples/<experiment>[-<class>].png)")
    sample_parser.add_argument("--npz", metavar="FILE",
                        help="also write the images (uint8) and labels as .npz")

    gallery = commands.add_parser(
        "gallery", help="rebuild the gallery README.md of a figures folder from its manifest")
    gallery.add_argument("--out", default="figures", metavar="DIR",
                         help="figures folder (default: figures/)")

    for verb, module, summary in VERBS:
        sub = commands.add_parser(verb, help=summary, description=module.DESCRIPTION,
                                  formatter_class=help_formatter(module.DESCRIPTION))
        module.add_arguments(sub)
        sub.set_defaults(handler=module.run_cli, verb_parser=sub)
    return parser


# The verbs whose commands live in their own modules (also reachable as scripts/*.py):
# (verb, module with DESCRIPTION, add_arguments(parser) and run_cli(args, parser), one-line help).
VERBS = (
    ("reproduce", reproduce, "train every experiment (or some) and redraw every figure, or "
                             "redraw them from the shipped runs (--pretrained)"),
    ("evaluate", evaluate_cli, "score finished runs: VAE bounds, GAN FID/KID/coverage/"
                               "conditional accuracy (RUN_DIR/metrics.json)"),
    ("study", study, "the stabiliser and design studies on the report's schedules"),
    ("seeds", seeds, "each study variant's numbers as mean and range over its seeds, and the "
                     "seed that ships"),
    ("bench", bench, "time each model's training step (and the per-epoch work)"),
    ("ship", shipping, "copy finished runs into pretrained/ (or a classifier run into the "
                       "package's classifiers)"),
    ("cards", cards, "write the model cards (README.md) of the shipped runs from their files"),
    ("pages", pages, "write the tables of the README and docs/ from the runs and records they "
                     "report"),
)


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command not in COMMANDS:
        return args.handler(args, args.verb_parser)
    if args.command == "gallery" and not (Path(args.out) / "manifest.json").is_file():
        parser.error(f"gallery: {args.out} has no manifest.json, so it is not a figures folder "
                     "(figures are drawn into one by `figures` and `reproduce`)")
    return run_command(lambda: COMMANDS[args.command](args))


def _train(args) -> None:
    train(args.experiment, args.profile, run_dir=args.run_dir, data=args.data,
          resume=args.resume, verbose=progress_verbosity(args.quiet), epochs=args.epochs,
          batch_size=args.batch_size, seed=args.seed, dataset=args.dataset, loss=args.loss,
          encoder_weights=args.encoder_weights, encoder=args.encoder,
          encoder_upsample=args.encoder_upsample,
          freeze_encoder_epochs=args.freeze_encoder_epochs, strategy=args.strategy,
          devices=args.devices, precision=args.precision, xla=args.xla,
          **{name: getattr(args, name) for name in GAN_OPTIONS})


def _figures(args) -> None:
    from replication.figures import draw_experiment

    draw_experiment(args.experiment, args.run_dir, args.out,
                    only=args.only.split(",") if args.only else None)


def _sample(args) -> None:
    sample(args.experiment, run_dir=args.run_dir, name=args.run, klass=args.klass, n=args.n,
           seed=args.seed, generator=args.generator, out=args.out, npz=args.npz)


def _gallery(args) -> None:
    from replication.gallery import build

    print(f"wrote {build(args.out)}")


COMMANDS = {"train": _train, "figures": _figures, "sample": _sample, "gallery": _gallery}


if __name__ == "__main__":
    sys.exit(main())
