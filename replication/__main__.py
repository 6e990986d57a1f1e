"""Command line: ``python -m replication train|figures|sample EXPERIMENT [options]``.

Bad input ends in one line on stderr and exit code 2; a run that cannot go on (diverged,
interrupted, a refused write) in one line and exit code 1, with everything already computed
kept in the run directory (:mod:`replication.errors`).
"""

from __future__ import annotations

import argparse
import sys

from replication.config import (ACGAN_ACTIVATION_NOISE, ACGAN_CLASS_LOSSES, AUXILIARY,
                                CGAN_LABEL_CONDITIONING, DATASETS, EXPERIMENTS, GAN_LOSSES,
                                PROFILES, CGANConfig)
from replication.distribute import STRATEGIES
from replication.errors import run_command
from replication.levers import PRECISION_SETTINGS, XLA_SETTINGS

# Config fields set by the "GAN stabilisers and instruments" flags (same names).
GAN_OPTIONS = ("real_label", "d_learning_rate", "g_learning_rate", "class_loss",
               "activation_noise", "mismatched_labels", "label_conditioning", "ema_half_life",
               "ema_ramp",
               "track_samples")


def _int_at_least(minimum: int, meaning: str):
    """An argparse type: a whole number >= ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be {meaning}, got {value}")
        return value

    return parse


_positive_int = _int_at_least(1, "at least 1")
_non_negative_int = _int_at_least(0, "non-negative")


def _float_where(check, meaning: str):
    """An argparse type: a number for which ``check(value)`` holds."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not check(value):
            raise argparse.ArgumentTypeError(f"must be {meaning}, got {text}")
        return value

    return parse


_positive_float = _float_where(lambda v: v > 0, "positive")
_non_negative_float = _float_where(lambda v: v >= 0, "non-negative")
_fraction = _float_where(lambda v: 0 < v <= 1, "in (0, 1]")


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit code 2
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m replication",
                     description="Train the report's models and regenerate its figures.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    train = commands.add_parser(
        "train", help="train one experiment into a run directory",
        description="Train one experiment with fit(); writes config.json, history.csv, "
                    "per-epoch snapshots, checkpoints and the final .keras model(s) to the "
                    "run directory.")
    _add_train_arguments(train)
    _add_gan_arguments(train)

    figures = commands.add_parser(
        "figures", help="regenerate an experiment's figures from a run directory",
        description="Draw the report's figures and GIFs of one experiment from a finished "
                    "(or partly finished) run directory, without retraining, and list them in "
                    "OUT/manifest.json.")
    figures.add_argument("experiment", choices=EXPERIMENTS)
    figures.add_argument("--run-dir", metavar="DIR",
                         help="run directory (default: runs/<experiment>/quick)")
    figures.add_argument("--out", metavar="DIR",
                         help="output folder (default: figures/ for a report-profile run, "
                              "figures/<profile>/ for quick and paper, the run directory for "
                              "smoke)")
    figures.add_argument("--only", metavar="IDS",
                         help="comma-separated figure ids to draw (default: all of the experiment)")

    sample = commands.add_parser(
        "sample", help="draw a grid of new samples from a trained model (the shipped run by "
                       "default)",
        description="Draw new samples from the shipped run of EXPERIMENT (pretrained/"
                    "<experiment>/) or from any run directory: the GANs from N(0, I) noise "
                    "(the conditional ones for one class, or one row per class), the VAEs "
                    "by decoding z ~ N(0, I). Seconds on a CPU.")
    sample.add_argument("experiment", choices=EXPERIMENTS)
    sample.add_argument("--class", dest="klass", metavar="NAME|INDEX",
                        help="cgan/acgan: the class, as the dataset names it (cat) or its index "
                             "(default: one row per class)")
    sample.add_argument("--n", type=_positive_int, default=64, metavar="N",
                        help="how many samples (default 64)")
    sample.add_argument("--seed", type=_non_negative_int, default=0, metavar="S",
                        help="noise seed (default 0)")
    sample.add_argument("--generator", choices=("trained", "averaged"), default="trained",
                        help="GANs: the trained generator (default; what the report shows) or "
                             "the averaged one (EMA)")
    sample.add_argument("--run-dir", metavar="DIR",
                        help="run directory to sample from (default: the shipped run)")
    sample.add_argument("--out", metavar="FILE.png",
                        help="the grid (default: runs/samples/<experiment>[-<class>].png)")
    sample.add_argument("--npz", metavar="FILE",
                        help="also write the images (uint8) and labels as .npz")

    gallery = commands.add_parser(
        "gallery", help="rebuild the gallery README.md of a figures folder from its manifest")
    gallery.add_argument("--out", default="figures", metavar="DIR",
                         help="figures folder (default: figures/)")
    return parser


def _add_train_arguments(train) -> None:
    train.add_argument("experiment", choices=EXPERIMENTS + AUXILIARY,
                       help="which model of the report (or the evaluation's classifier)")
    train.add_argument("--profile", choices=PROFILES, default="quick",
                       help="schedule: smoke (seconds, tests), quick (minutes on a 2-core CPU), "
                            "report (the report's schedule), paper (the paper's schedule); "
                            "default: quick")
    train.add_argument("--epochs", type=_positive_int, help="override the profile's epoch count")
    train.add_argument("--batch-size", type=_positive_int, help="override the batch size")
    train.add_argument("--data", default="bundled", metavar="SOURCE",
                       help="'bundled' (default: the archives in data/, offline), 'tfds' "
                            "(tensorflow-datasets), or a PATH to a class-per-folder image tree "
                            "(train/<class>/<img>, optional test/<class>/<img>) or its .tar.gz")
    train.add_argument("--dataset", choices=DATASETS,
                       help="which dataset's shape and classes (default: the experiment's)")
    train.add_argument("--seed", type=_non_negative_int, help="random seed (default 0)")
    train.add_argument("--loss", choices=GAN_LOSSES,
                       help="GAN loss (GAN experiments; default non-saturating)")
    train.add_argument("--encoder-weights", metavar="WEIGHTS",
                       help="effnet_vae: 'imagenet' (default; downloaded once), 'none' (random "
                            "init) or a PATH to a local EfficientNet-B0 weights file")
    train.add_argument("--freeze-encoder-epochs", type=_non_negative_int, metavar="N",
                       help="effnet_vae: keep the pretrained encoder frozen for the first N epochs")
    train.add_argument("--run-dir", metavar="DIR",
                       help="run directory (default: runs/<experiment>/<profile>)")
    train.add_argument("--resume", action="store_true",
                       help="continue the run in --run-dir from its last checkpoint")
    train.add_argument("--strategy", choices=STRATEGIES,
                       default="default",
                       help="tf.distribute strategy: default (one device), mirrored (all local "
                            "GPUs, or --devices), multiworker (cluster from TF_CONFIG)")
    train.add_argument("--devices", metavar="LIST",
                       help="comma-separated devices for --strategy mirrored, e.g. /gpu:0,/gpu:1")
    train.add_argument("--precision", choices=PRECISION_SETTINGS,
                       help="numeric precision: fp32 (default), bf16 (mixed_bfloat16: CPUs "
                            "with AVX512-BF16, recent GPUs), fp16 (mixed_float16, GPUs; loss "
                            "scaling on every optimizer), auto (bf16 where scripts/bench.py "
                            "measured it faster on this kind of device, else fp32)")
    train.add_argument("--xla", choices=XLA_SETTINGS,
                       help="XLA compilation of the training step; auto (default) uses the "
                            "choice measured per device by scripts/bench.py")
    train.add_argument("--quiet", action="store_true",
                       help="one line per epoch instead of the progress bar")


def _add_gan_arguments(train) -> None:
    gan = train.add_argument_group(
        "GAN stabilisers and instruments",
        "The report is silent on these; each default is the report's plain training "
        "(see README, 'Stabilisers').")
    gan.add_argument("--real-label", type=_fraction, metavar="T",
                     help="one-sided label smoothing: D's target for real images (default 1.0, "
                          "no smoothing; Salimans et al. 2016 use 0.9); fakes keep target 0")
    gan.add_argument("--d-lr", type=_positive_float, metavar="RATE", dest="d_learning_rate",
                     help="D's Adam learning rate (TTUR, Heusel et al. 2017; default: the "
                          "experiment's learning rate; the AC-GAN allows 1e-4, 2e-4, 3e-4)")
    gan.add_argument("--g-lr", type=_positive_float, metavar="RATE", dest="g_learning_rate",
                     help="G's Adam learning rate (TTUR; default as --d-lr)")
    gan.add_argument("--class-loss", choices=ACGAN_CLASS_LOSSES,
                     help="acgan: D's class loss on 'all' images (default: the paper's loss) or "
                          "on 'real' images only (Keras' mnist_acgan, StudioGAN) - 'real' is a "
                          "DEPARTURE from the AC-GAN paper's loss")
    gan.add_argument("--activation-noise", type=float, choices=ACGAN_ACTIVATION_NOISE,
                     metavar="STD",
                     help="acgan: std of the Gaussian noise added to activations, the paper's "
                          "option (its table: 0, 0.1 or 0.2; default 0)")
    gan.add_argument("--mismatched-labels", action="store_true", default=None,
                     help="cgan: show D real images paired with a wrong label as fakes "
                          "(matching-aware discriminator, Reed et al. 2016), so D must read "
                          "the label")
    gan.add_argument("--label-conditioning", choices=CGAN_LABEL_CONDITIONING,
                     help="cgan: how the label enters the networks: 'input-concat' (one-hot "
                          "joined to G's noise and to D's image as planes), 'projection' "
                          "(projection D, Miyato & Koyama 2018, and class-conditional "
                          "BatchNorm in G), 'projection-d' (projection D, G's input "
                          "concatenation), 'late-concat' (label joined to D's 4x4 features); "
                          f"default {CGANConfig.label_conditioning!r}")
    gan.add_argument("--ema-half-life", type=_non_negative_int, metavar="IMAGES",
                     help="averaged generator (EMA of G's weights and BatchNorm statistics): "
                          "half-life in images (default 500000, StyleGAN2-ADA's CIFAR preset; "
                          "0 turns averaging off)")
    gan.add_argument("--ema-ramp", type=_non_negative_float, metavar="R",
                     help="EMA ramp: half-life = min(--ema-half-life, R x images seen) "
                          "(default 0.05; 0: no ramp)")
    gan.add_argument("--track-samples", type=_non_negative_int, metavar="N",
                     help="quality tracked every epoch: N generated images scored by the "
                          "shipped classifier (FID, coverage, conditional accuracy; default "
                          "2000; 0 turns it off)")


def train_flags(settings: dict) -> str:
    """Config overrides as the ``train`` flags that set them, e.g. ``--d-lr 0.0001``."""
    train = argparse.ArgumentParser(add_help=False)
    _add_train_arguments(train)
    _add_gan_arguments(train)
    flag = {action.dest: action.option_strings[0] for action in train._actions
            if action.option_strings}
    words = []
    for name, value in settings.items():
        if name not in flag:
            raise KeyError(f"no train flag sets {name}")
        words.append(flag[name] if value is True else f"{flag[name]} {value}")
    return " ".join(words)


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return run_command(lambda: COMMANDS[args.command](args))


def _train(args) -> None:
    from replication.train import train

    train(args.experiment, args.profile, run_dir=args.run_dir, data=args.data,
          resume=args.resume, verbose=2 if args.quiet else 1, epochs=args.epochs,
          batch_size=args.batch_size, seed=args.seed, dataset=args.dataset, loss=args.loss,
          encoder_weights=args.encoder_weights,
          freeze_encoder_epochs=args.freeze_encoder_epochs, strategy=args.strategy,
          devices=args.devices, precision=args.precision, xla=args.xla,
          **{name: getattr(args, name) for name in GAN_OPTIONS})


def _figures(args) -> None:
    from replication.figures import draw_experiment

    draw_experiment(args.experiment, args.run_dir, args.out,
                    only=args.only.split(",") if args.only else None)


def _sample(args) -> None:
    from replication.sample import sample

    sample(args.experiment, run_dir=args.run_dir, klass=args.klass, n=args.n, seed=args.seed,
           generator=args.generator, out=args.out, npz=args.npz)


def _gallery(args) -> None:
    from replication.gallery import build

    print(f"wrote {build(args.out)}")


COMMANDS = {"train": _train, "figures": _figures, "sample": _sample, "gallery": _gallery}


if __name__ == "__main__":
    sys.exit(main())
