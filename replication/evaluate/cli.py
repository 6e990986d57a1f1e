"""``scripts/evaluate.py RUN_DIR...``: evaluate finished runs, one after another.

Each run is read, its previous results reused when they still apply (the one rule below),
else evaluated; ``RUN_DIR/metrics.json`` is written and, with ``--table``, the rows are merged
into the comparison table.  Errors follow the project's policy (:mod:`replication.errors`):
one line each; a bad run directory does not stop the others (exit code 2 at the end).
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
from pathlib import Path

from replication import experiments
from replication.cli import command_parser, script_main
from replication.config import PROFILES
from replication.data import IMAGE_SHAPES
from replication.errors import (DamagedFileError, MissingFileError, ReplicationError,
                                refuse_unless_it_fits, run_command)
from replication.evaluate.gan import References, evaluate_gan
from replication.evaluate.table import table_rows, update_table
from replication.evaluate.vae import evaluate_vae
from replication.extractors import EXTRACTORS, LITE0_SIZE, ExtractorError, make_extractor
from replication.metrics import KID_SUBSET_SIZE, KID_SUBSETS, PRDC_K
from replication.runs import RunDir, device_description, now, read_json, write_json

# What a GAN result row holds; a result of an earlier version is made again, not reused
# (2: the conditional models' confusion counts; 3: precision, recall, density, coverage,
# intra-class FID and within-class spread).
GAN_ROWS_VERSION = 3


class RunNotEvaluable(ReplicationError):
    """A run directory that cannot be evaluated (missing, unfinished, not a model)."""


HELP = ("score finished runs: VAE bounds, GAN FID/KID/coverage/conditional accuracy "
        "(RUN_DIR/metrics.json)")
DESCRIPTION = """\
Writes RUN_DIR/metrics.json for each finished run and, with --table DIR, the comparison table
DIR/metrics.md + DIR/metrics.json (which the gallery shows) beside the published numbers.

* VAEs (vae, effnet_vae): test-set negative ELBO, the importance-weighted bound (IWAE,
  --iwae-samples k) and the reconstruction error, in nats per image.
* GANs (dcgan, cgan, acgan): --samples N generated images (class-balanced for the conditional
  models) against the whole real test split, through the --extractor: `classifier` (the
  project's own CIFAR-10/MNIST classifier, offline, the default), `lite0` (EfficientNet-Lite0's
  ImageNet features at --lite0-size, offline, trained on nothing of CIFAR-10: a space
  independent of the project) or `inception` (Keras InceptionV3, ImageNet weights to download).
  In every space: FID, KID (mean +- sd over subsets), and precision, recall, density and
  coverage (k-NN manifolds, k = 5: Kynkaanniemi et al. 2019, Naeem et al. 2020); for the
  conditional models intra-class FID (per class against that class's real images, and its
  mean) and the within-class spread (mean pairwise feature distance inside each class, beside
  the real images' own).  With a classifier's logits (classifier, inception) also the
  Inception Score (the classifier score), class coverage and the conditional accuracy (the
  share of the samples generated for class c that the classifier puts in class c).  Two
  reference rows go with every model: the real training split against the test split (the
  floor) and the untrained generator (the ceiling).

Earlier results of a run that has not trained since are reused when made with the same
settings (--force re-evaluates).
"""


def build_parser() -> argparse.ArgumentParser:
    return command_parser("python scripts/evaluate.py", sys.modules[__name__])


def add_arguments(parser) -> None:
    parser.add_argument("runs", nargs="+", metavar="RUN_DIR", help="finished run directories")
    parser.add_argument("--iwae-samples", type=int, default=1000,
                        help="VAEs: importance samples per test image (default %(default)s)")
    parser.add_argument("--samples", type=int, default=10_000,
                        help="GANs: generated samples (default %(default)s)")
    parser.add_argument("--extractor", choices=EXTRACTORS, default="classifier",
                        help="GANs: feature space: classifier (the project's, offline; "
                             "default), lite0 (EfficientNet-Lite0's ImageNet features, "
                             "offline), inception (InceptionV3, ImageNet weights to download)")
    parser.add_argument("--lite0-size", type=int, default=LITE0_SIZE, metavar="PIXELS",
                        help="lite0: the side the 32x32 images are resized to (default "
                             "%(default)s)")
    parser.add_argument("--inception-weights", default="imagenet", metavar="imagenet|PATH",
                        help="InceptionV3 weights: 'imagenet' (download) or a local .h5 file")
    parser.add_argument("--classifier-profile", default="report",
                        choices=PROFILES,
                        help="classifier: report (default: the shipped classifiers for MNIST and "
                             "CIFAR-10), or a cached one of another profile (smoke: tests)")
    parser.add_argument("--kid-subsets", type=int, default=KID_SUBSETS, metavar="N",
                        help="GANs: KID is averaged over N random subsets (default %(default)s)")
    parser.add_argument("--kid-subset-size", type=int, metavar="M",
                        help=f"GANs: images per KID subset, of each set (default "
                             f"{KID_SUBSET_SIZE}, or the whole set where it is smaller; at "
                             "most --samples and --limit)")
    parser.add_argument("--limit", type=int,
                        help="use only this many real test images (default: the run's own "
                             "evaluation split: all of it for quick/report runs)")
    parser.add_argument("--force", action="store_true",
                        help="re-evaluate even when metrics.json holds results for the same "
                             "epochs and settings (by default those are reused)")
    parser.add_argument("--table", metavar="DIR",
                        help="also merge the results into DIR/metrics.md and DIR/metrics.json "
                             "(the gallery's comparison table), e.g. figures")


def _check(args, parser):
    given_subset_size = args.kid_subset_size is not None
    if not given_subset_size:
        args.kid_subset_size = KID_SUBSET_SIZE
    for name in ("iwae_samples", "samples", "kid_subsets", "kid_subset_size"):
        if getattr(args, name) < 2:
            parser.error(f"--{name.replace('_', '-')} must be at least 2")
    if args.samples <= PRDC_K:
        parser.error(f"--samples must be more than {PRDC_K} (the k of precision and recall)")
    if args.lite0_size < 32:
        parser.error("--lite0-size must be at least 32 (the images' own side)")
    if args.limit is not None and args.limit < 2:
        parser.error("--limit must be at least 2")
    if given_subset_size:
        for flag, count in (("--samples", args.samples), ("--limit", args.limit)):
            if count is not None and args.kid_subset_size > count:
                parser.error(f"--kid-subset-size {args.kid_subset_size} is larger than {flag} "
                             f"{count}: KID's subsets are drawn from those images")
    return args


def reusable(previous: dict | None, settings: dict, force: bool) -> dict | None:
    """The one reuse rule: a previous result (of a run that has not trained since) is reused
    when it was made with the same settings, unless ``--force``."""
    if force or not previous or previous.get("settings") != settings:
        return None
    return previous


class _Evaluation:
    """One invocation: the extractors and real-image features it has made so far."""

    def __init__(self, args):
        self.args = args
        self.extractors: dict = {}
        self.references = References()

    def run(self, path: str) -> dict:
        """Evaluate one run directory; return its ``metrics.json`` content."""
        run = RunDir(path)
        try:
            info = run.info()
        except (FileNotFoundError, ValueError) as exc:
            raise RunNotEvaluable(str(exc)) from None
        if info.get("state") != "finished":
            raise RunNotEvaluable(f"{path} is not finished ({info.get('state')}); finish it "
                                  "with --resume")
        name = info["experiment"]
        spec = experiments.get(name) if name in experiments.names() else None
        if spec is None:
            raise RunNotEvaluable(f"{path} holds a {name} run, which has no evaluation")
        previous = {}
        if (run.path / "metrics.json").exists():
            previous = read_json(run.path / "metrics.json")
        if previous.get("epochs") != info.get("epochs_done"):
            previous = {}  # the run has trained on since: old numbers no longer apply
        header = {"experiment": name, "profile": info["config"]["profile"],
                  "epochs": info.get("epochs_done"), "evaluated_at": now(),
                  "evaluated_on": device_description()}  # CPUs' kernels move FID by ~0.1
        if spec.likelihood:
            return {**header, **self._vae(run, info, previous, path)}
        return {**header, "gan": {**previous.get("gan", {}),
                                  self.args.extractor: self._gan(run, info, previous, path)}}

    def _vae(self, run, info, previous, path) -> dict:
        args = self.args
        settings = {"iwae_samples": args.iwae_samples, "limit": args.limit}
        result = reusable(previous, settings, args.force)
        if result is not None:
            print(f"{path}: reusing metrics.json (same epochs and settings; --force redoes it)")
            result = {k: v for k, v in result.items()
                      if k not in ("experiment", "profile", "epochs", "evaluated_at")}
        else:
            result = {**evaluate_vae(run, info, args.iwae_samples, args.limit),
                      "settings": settings}
        print(f"{path}: -ELBO {result['neg_elbo']:.2f}, -IWAE(k={args.iwae_samples}) "
              f"{result['neg_iwae']:.2f}, reconstruction {result['reconstruction']:.2f} nats "
              f"per image over {result['test_images']} test images ({result['seconds']} s)")
        return result

    def _gan(self, run, info, previous, path) -> dict:
        args = self.args
        settings = {"samples": args.samples, "limit": args.limit, "rows": GAN_ROWS_VERSION,
                    "kid_subsets": args.kid_subsets, "kid_subset_size": args.kid_subset_size,
                    **{"classifier": {"classifier_profile": args.classifier_profile},
                       "inception": {"inception_weights": args.inception_weights},
                       "lite0": {"lite0_size": args.lite0_size}}[args.extractor]}
        result = reusable(previous.get("gan", {}).get(args.extractor), settings, args.force)
        if result is not None:
            print(f"{path}: reusing metrics.json (same epochs and settings; --force redoes it)")
        else:
            # the generated images (uint8, float32) and the real and generated features, three
            # generators' worth: what the whole evaluation holds at once
            shape = IMAGE_SHAPES.get(info["config"]["dataset"], (32, 32, 3))
            refuse_unless_it_fits(f"--samples {args.samples}",
                                  3 * args.samples * (5 * int(np.prod(shape)) + 8 * 2048))
            result = {**evaluate_gan(run, info, self._extractor(info), self.references,
                                     samples=args.samples, limit=args.limit,
                                     kid_subsets=args.kid_subsets,
                                     kid_subset_size=args.kid_subset_size),
                      "settings": settings}
        _print_gan(path, args, result)
        return result

    def _extractor(self, info: dict):
        args = self.args
        key = (args.extractor, info["config"]["dataset"], info.get("data_source", "bundled"))
        if key not in self.extractors:
            self.extractors[key] = make_extractor(
                args.extractor, key[1], inception_weights=args.inception_weights,
                classifier_profile=args.classifier_profile, data_source=key[2],
                lite0_size=args.lite0_size)
        return self.extractors[key]


def _print_gan(path: str, args, result: dict) -> None:
    m, u, r = result["model"], result["untrained_generator"], result["real_train"]

    def summary(row):
        extra = (f", IS {row['IS']:.2f}, classes covered {row['class_coverage']}"
                 if "IS" in row else "")
        extra += (f", conditional accuracy {100 * row['conditional_accuracy']:.1f} %"
                  if "conditional_accuracy" in row else "")
        extra += (f", intra-class FID {row['intra_class_FID']:.2f}"
                  if "intra_class_FID" in row else "")
        return (f"FID {row['FID']:.2f}, KID {row['KID']:.4g}, precision {row['precision']:.3f},"
                f" recall {row['recall']:.3f}, density {row['density']:.3f}, coverage "
                f"{row['coverage']:.3f}{extra}")

    print(f"{path}: {args.extractor}, N={args.samples}: {summary(m)} (untrained FID "
          f"{u['FID']:.2f}, real {r['FID']:.2f}) ({result['seconds']} s)")
    if "averaged" in result:
        print(f"{path}: averaged generator (EMA): {summary(result['averaged'])}")


def main(argv=None) -> int:
    return script_main("python scripts/evaluate.py", sys.modules[__name__], argv)


def run_cli(args, parser) -> int:
    _check(args, parser)
    return run_command(lambda: _evaluate_all(args))


def _evaluate_all(args) -> int:
    evaluation = _Evaluation(args)
    status = 0
    table: list[dict] = []
    for path in args.runs:
        try:
            metrics = evaluation.run(path)
        except ExtractorError:
            raise  # no extractor: no other run can be evaluated either
        except (RunNotEvaluable, MissingFileError, DamagedFileError) as exc:
            print(f"error: {exc}", file=sys.stderr)  # the other runs are still evaluated
            status = 2
            continue
        write_json(Path(path) / "metrics.json", metrics)
        table += table_rows(str(path), metrics)
    if args.table and table:
        print(f"table: {update_table(Path(args.table), table)}")
    return status
