"""GAN quality measured at the end of every epoch, and the collapse warning.

:class:`QualityTracker` generates a fixed set of images (fixed noise; labels ``0, 1, ..., K-1,
0, 1, ...`` for the conditional models) with the trained generator and, when averaging is on,
the averaged one, and scores them with the shipped evaluation classifier
(:mod:`replication.extractors`) against a fixed real reference, the run's evaluation split:

* ``fid`` – Fréchet distance in the classifier's feature space (N generated images against
  the whole reference; with N = 2,000 it sits above the 10,000-sample FID of
  ``scripts/evaluate.py``, so compare curves with curves, final numbers with final numbers);
* ``coverage`` – classes predicted for at least half their fair share of the N images;
* ``cond_acc`` – conditional models: share of the images made for class c classified as c.

The averaged generator's numbers carry the suffix ``_ema``.  Everything is a column of
``history.csv`` (so a resumed run continues the same curves) and a TensorBoard scalar.

:func:`collapse_warnings` reads one epoch's row against the earlier ones: D's accuracy on
fakes above 99.5 % for the epoch, or a tracked FID more than twice its best so far, each gives
one warning line.  Training goes on: the report's schedule is the schedule.
"""

from __future__ import annotations

import time

import numpy as np

from replication.extractors import ExtractorError, tracking_extractor
from replication.generation import generate
from replication.metrics import (class_coverage, conditional_accuracy,
                                 frechet_distance_from_moments)

# Thresholds of the collapse warning.
D_FAKE_ACCURACY_LIMIT = 0.995
FID_RISE_LIMIT = 2.0


class QualityTracker:
    """``tracker(gan) -> {"fid": ..., "coverage": ..., ["cond_acc": ...], "fid_ema": ...}``.

    Args:
        samples: N, the generated images scored per generator.
        noise_dim: the generator's noise length.
        num_classes: K of the classifier (and of the labels, when ``conditional``).
        conditional: the generator takes ``[noise, label]``.
        reference_images: uint8 real images, the fixed reference of the FID.
        extractor: ``images (uint8) -> (features, logits)``.
        seed: seed of the fixed noise.
    """

    def __init__(self, samples: int, noise_dim: int, num_classes: int, conditional: bool,
                 reference_images: np.ndarray, extractor, seed: int = 0):
        self.samples = int(samples)
        self.noise_dim = int(noise_dim)
        self.num_classes = int(num_classes)
        self.conditional = conditional
        self.extractor = extractor
        self.seed = seed
        self._reference_images = reference_images
        self._reference = None  # (mean, covariance) of the reference features, made on first use

    def reference_moments(self):
        if self._reference is None:
            features, _ = self.extractor(self._reference_images)
            x = np.asarray(features, np.float64)
            self._reference = (x.mean(axis=0), np.cov(x, rowvar=False))
            self._reference_images = None
        return self._reference

    def score(self, generator) -> dict:
        """FID, coverage (and conditional accuracy) of ``generator`` on the fixed inputs."""
        images, labels = generate(generator, self.samples, self.noise_dim,
                                  self.num_classes if self.conditional else 0, seed=self.seed)
        features, logits = self.extractor(images)
        x = np.asarray(features, np.float64)
        mean, cov = self.reference_moments()
        predicted = np.argmax(logits, axis=1)
        out = {"fid": round(frechet_distance_from_moments(x.mean(axis=0), np.cov(x, rowvar=False),
                                                          mean, cov), 3),
               "coverage": class_coverage(predicted, self.num_classes)}
        if self.conditional:
            out["cond_acc"] = round(conditional_accuracy(predicted, labels), 4)
        return out

    def __call__(self, gan) -> dict:
        started = time.perf_counter()
        out = self.score(gan.generator)
        averaged = gan.averaged_generator()
        if averaged is not None:
            out.update({f"{key}_ema": value for key, value in self.score(averaged).items()})
        out["track_seconds"] = round(time.perf_counter() - started, 2)
        return out


def quality_line(row: dict, num_classes: int, samples: int) -> str | None:
    """``quality: FID 41.2, coverage 10/10 | averaged G: FID 35.0, ...`` (None if untracked)."""
    if "fid" not in row:
        return None

    def part(suffix: str) -> str:
        text = (f"FID {row[f'fid{suffix}']:.1f}, "
                f"coverage {int(row[f'coverage{suffix}'])}/{num_classes}")
        if f"cond_acc{suffix}" in row:
            text += f", conditional accuracy {100 * row[f'cond_acc{suffix}']:.1f} %"
        return text

    line = f"quality ({samples:,} samples, project classifier): {part('')}"
    if "fid_ema" in row:
        line += f" | averaged G: {part('_ema')}"
    return line + f" [{row.get('track_seconds', 0):.1f} s]"


def collapse_warnings(row: dict, earlier: list[dict]) -> list[str]:
    """The warning lines one epoch's history ``row`` gives, against the ``earlier`` rows."""
    warnings = []
    epoch = int(row["epoch"])
    fake = row.get("d_acc_fake")
    if fake is not None and fake > D_FAKE_ACCURACY_LIMIT:
        warnings.append(
            f"collapse warning (epoch {epoch}): D's accuracy on fakes is {100 * fake:.2f} % "
            f"(above {100 * D_FAKE_ACCURACY_LIMIT:.1f} %): D is winning, G may be collapsing")
    fid = row.get("fid")
    previous = [(r["fid"], int(r["epoch"])) for r in earlier
                if r.get("fid") is not None and np.isfinite(r["fid"])]
    if fid is not None and previous:
        best, best_epoch = min(previous)
        if fid > FID_RISE_LIMIT * best:
            warnings.append(
                f"collapse warning (epoch {epoch}): tracked FID {fid:.1f} is more than "
                f"{FID_RISE_LIMIT:g}x its best ({best:.1f} at epoch {best_epoch})")
    return warnings


def make_tracker(config, dataset, conditional: bool, data_source: str):
    """The tracker of a GAN run, or ``None`` (with a printed reason) when it is off or no
    classifier exists for the run's data."""
    if not config.track_samples:
        return None
    try:
        extractor = tracking_extractor(config.dataset, data_source)
    except ExtractorError as exc:
        print(f"quality tracking off: {exc}", flush=True)
        return None
    reference = dataset.test if dataset.test is not None else dataset.train
    reference = reference.take(config.eval_examples)
    return QualityTracker(config.track_samples, config.noise_dim, dataset.num_classes,
                          conditional, reference.images, extractor, seed=config.seed + 3)
