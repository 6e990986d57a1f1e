"""Feature extractors for the GAN metrics: ``images (uint8) -> (features, logits)``.

* ``classifier`` (the default; fully offline): the project's own classifier of the run's
  dataset (:mod:`replication.models.classifier`).  For MNIST and CIFAR-10 (bundled or tfds
  data) the **shipped** classifiers in ``replication/assets/classifiers/<dataset>/`` are used:
  trained once with the project's own command, weights only, with ``classifier.json`` saying
  how (command, data, test accuracy, date, versions).  For other data (a user's ``--data``
  folder) or other profiles, a classifier is trained once on the real training split and
  cached in ``<cache>/classifiers/<dataset>-<profile>[-<data>]/`` (``<cache>`` is
  ``$REPLICATION_CACHE`` or ``~/.cache/replication``; ``$REPLICATION_CLASSIFIER_CACHE`` moves
  just the classifiers) with its test accuracy in ``accuracy.json``.  Features: the global
  max-pool of the last stage; logits: its class logits.
* ``inception``: Keras ``InceptionV3`` with ImageNet weights (downloaded by Keras when online,
  or a local ``.h5`` file), images resized bilinearly to 299x299 and scaled to ``[-1, 1]``
  (grey images repeated to three channels).  Features: the 2048-d average pool; logits: the
  log of its 1000-way ImageNet softmax.  This is *not* the TF
  "inception-2015-12-05" graph behind published FIDs, so its numbers are close to, but not
  directly comparable with, papers'.
* ``lite0`` (offline): EfficientNet-Lite0 with its ImageNet weights (installed with the
  project, :mod:`replication.models.efficientnet_lite`), images normalised as its own
  training did and resized bilinearly from 32x32 to ``LITE0_SIZE`` (128, four times the side:
  a quarter of the compute of ImageNet's 224); features: the 1,280-d average pool.  Nothing in
  it was trained on CIFAR-10 or by this project, so a distance in its space is independent of
  the project's classifier.  It has no logits here: the classifier-space numbers (IS,
  coverage, conditional accuracy) are left out of its rows.

Every extractor has a ``description`` that goes into ``metrics.json`` beside each number.
"""

from __future__ import annotations

import csv
import hashlib
import os
import time
from pathlib import Path

import numpy as np

from replication import data, load_model
from replication.batching import in_batches, inference
from replication.data import default_cache_dir
from replication.errors import ReplicationError
from replication.runs import (CLASSIFIER_FILE, RunDir, atomic_path, command_line, now, read_json,
                              write_json)

EXTRACTORS = ("classifier", "inception", "lite0")
LITE0_SIZE = 128  # the lite0 extractor's input side (32x32 images resized bilinearly)


class ExtractorError(ReplicationError):
    """An extractor cannot be made (missing weights, no classifier); the message says why."""


class ClassifierExtractor:
    name = "classifier"

    def __init__(self, dataset: str, profile: str = "report", *, data_source: str = "bundled",
                 cache_dir=None, batch_size: int = 500):
        from replication.models.classifier import feature_model

        self.dataset = dataset
        self.batch_size = batch_size
        shipped = shipped_classifier(dataset) if uses_shipped_classifier(
            profile, data_source, cache_dir) else None
        if shipped is not None:
            model_file, info = shipped
            where = "shipped"
        else:
            info = classifier_info(dataset, profile, data_source=data_source,
                                   cache_dir=cache_dir)
            model_file = classifier_run_dir(dataset, profile, cache_dir, data_source) / \
                "model" / CLASSIFIER_FILE
            where = f"profile {profile}"
        self.model_file = model_file
        classifier = load_model(model_file, compile=False)
        self.model = feature_model(classifier)
        self.test_accuracy = info["test_accuracy"]
        self.description = (f"project classifier ({dataset}, {where}, "
                            f"test accuracy {100 * self.test_accuracy:.2f} %)")
        self.info = info

    def __call__(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        forward = inference(self.model)

        def extract(batch):
            f, z = forward(np.asarray(batch, np.float32) / 255.0)
            return np.asarray(f, np.float32), np.asarray(z, np.float32)

        return in_batches(extract, images, batch_size=self.batch_size)


class InceptionExtractor:
    name = "inception"
    size = 299

    def __init__(self, weights: str = "imagenet", batch_size: int = 100):
        import keras

        try:
            base = keras.applications.InceptionV3(include_top=True, weights=weights)
        except Exception as exc:  # download failure, wrong/corrupt file: one clear message
            where = ("download them (this machine may be offline)" if weights == "imagenet"
                     else f"read {weights}")
            raise ExtractorError(
                f"could not {where} for the InceptionV3 ImageNet weights "
                f"({type(exc).__name__}: {str(exc).splitlines()[0][:160]}); pass "
                "--inception-weights PATH to a local inception_v3_weights_tf_dim_ordering_tf_"
                "kernels.h5, or use --extractor classifier (offline)") from None
        self.model = keras.Model(base.inputs, [base.get_layer("avg_pool").output, base.outputs[0]])
        self.batch_size = batch_size
        source = "ImageNet weights" if weights == "imagenet" else f"weights {weights}"
        self.description = (f"Keras InceptionV3 ({source}; bilinear resize to 299, "
                            "not the TF inception-2015-12-05 graph of published FIDs)")

    def __call__(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        import tensorflow as tf

        def extract(batch):
            x = tf.convert_to_tensor(np.asarray(batch), tf.float32)
            if x.shape[-1] == 1:
                x = tf.repeat(x, 3, axis=-1)
            x = tf.image.resize(x, (self.size, self.size), method="bilinear")
            f, p = self.model(x / 127.5 - 1.0, training=False)
            return (np.asarray(f, np.float32),
                    np.log(np.clip(np.asarray(p, np.float64), 1e-30, None)))

        return in_batches(extract, images, batch_size=self.batch_size)


class Lite0Extractor:
    """EfficientNet-Lite0's ImageNet features (see the module doc); ``features(images)`` alone
    serves the zero-shot judges' linear probe too."""

    name = "lite0"

    def __init__(self, input_size: int = LITE0_SIZE, normalisation: str = "lite",
                 batch_size: int = 50):
        from replication.models import efficientnet_lite as el

        self.size, self.normalisation, self.batch_size = input_size, normalisation, batch_size
        self.model = el.build_lite0((input_size, input_size, 3), include_top=False,
                                    pooling="avg", weights="imagenet")
        self.description = (f"EfficientNet-Lite0, ImageNet weights, {input_size}x{input_size} "
                            "bilinear from 32x32, 1,280-d average pool (no CIFAR-10 training)")

    def features(self, images: np.ndarray) -> np.ndarray:
        import tensorflow as tf

        from replication.models import efficientnet_lite as el

        forward = inference(self.model)

        def extract(batch):
            x = np.asarray(batch)
            if x.shape[-1] == 1:
                x = np.repeat(x, 3, axis=-1)
            x = tf.image.resize(el.normalise(x, self.normalisation), (self.size, self.size),
                                method="bilinear")
            return np.asarray(forward(x), np.float32)

        return in_batches(extract, images, batch_size=self.batch_size)

    def __call__(self, images: np.ndarray) -> tuple[np.ndarray, None]:
        return self.features(images), None


def make_extractor(name: str, dataset: str, *, inception_weights: str = "imagenet",
                   classifier_profile: str = "report", data_source: str = "bundled",
                   cache_dir=None, lite0_size: int = LITE0_SIZE):
    if name == "classifier":
        return ClassifierExtractor(dataset, classifier_profile, data_source=data_source,
                                   cache_dir=cache_dir)
    if name == "inception":
        return InceptionExtractor(inception_weights)
    if name == "lite0":
        return Lite0Extractor(lite0_size)
    raise ExtractorError(f"unknown extractor {name!r}; choose one of {', '.join(EXTRACTORS)}")


def tracking_extractor(dataset: str, data_source: str = "bundled"):
    """The extractor of the per-epoch quality tracking: the shipped classifier for MNIST and
    CIFAR-10, or an already trained cached one for other data."""
    return ClassifierExtractor(dataset, "report", data_source=data_source, batch_size=1000)


# ------------------------------------------------------------------------------------------
# The shipped classifiers

SHIPPED_DIR = Path(__file__).resolve().parent / "assets" / "classifiers"
SHIPPED_MODEL = CLASSIFIER_FILE  # the same name in the package's classifiers folder
SHIPPED_INFO = "classifier.json"
# Data sources the shipped classifiers were trained on (the tfds copy is the same dataset).
SHIPPED_SOURCES = ("bundled", "tfds")


def uses_shipped_classifier(profile: str, data_source: str, cache_dir=None) -> bool:
    return profile == "report" and data_source in SHIPPED_SOURCES and cache_dir is None


def shipped_classifier(dataset: str) -> tuple[Path, dict] | None:
    """``(model file, classifier.json)`` of the shipped classifier of ``dataset``, if any."""
    folder = SHIPPED_DIR / dataset
    model_file, info_file = folder / SHIPPED_MODEL, folder / SHIPPED_INFO
    if not (model_file.exists() and info_file.exists()):
        return None
    return model_file, read_json(info_file)


def ship_classifier(run_dir, dest=None) -> Path:
    """Copy a finished classifier run into the package: the model without optimizer state,
    and ``classifier.json`` (how it was trained, its test accuracy).  Returns the folder."""
    run = RunDir(run_dir)
    try:
        info = run.info()
    except (FileNotFoundError, ValueError) as exc:
        raise ExtractorError(str(exc)) from None
    if info.get("experiment") != "classifier" or info.get("state") != "finished":
        raise ExtractorError(f"{run.path} holds no finished classifier run")
    dataset = info["config"]["dataset"]
    measured = _measure_classifier(run.path, dataset, info.get("data_source", "bundled"))
    folder = Path(dest) if dest is not None else SHIPPED_DIR / dataset
    folder.mkdir(parents=True, exist_ok=True)
    model = load_model(run.model_dir / CLASSIFIER_FILE, compile=False)
    with atomic_path(folder / SHIPPED_MODEL, suffix=".keras") as tmp:
        model.save(tmp)  # not compiled: no optimizer state
    history = run.history()
    write_json(folder / SHIPPED_INFO, {
        **measured,
        "command": command_line(str(info.get("command", "")).split()),
        "config": info["config"],
        "final_train_accuracy": round(history[-1].get("accuracy", float("nan")), 4),
        "trained_at": info.get("finished_at"),
        "shipped_at": now(),
        "file": SHIPPED_MODEL,
        "parameters": int(model.count_params()),
    })
    return folder


# ------------------------------------------------------------------------------------------
# The cached classifier


def classifier_run_dir(dataset: str, profile: str = "report", cache_dir=None,
                       data_source: str = "bundled") -> Path:
    """``<cache_dir>/<dataset>-<profile>`` (``-<hash of the source>`` for data other than the
    bundled/tfds copies); by default ``cache_dir`` is ``$REPLICATION_CLASSIFIER_CACHE`` or
    ``<data cache>/classifiers``."""
    if cache_dir is None:
        cache_dir = os.environ.get("REPLICATION_CLASSIFIER_CACHE") or \
            default_cache_dir() / "classifiers"
    name = f"{dataset}-{profile}"
    if data_source not in SHIPPED_SOURCES:
        source = str(Path(data_source).resolve())
        name += "-" + hashlib.sha256(source.encode()).hexdigest()[:12]
    return Path(cache_dir) / name


def classifier_info(dataset: str, profile: str = "report", *, data_source: str = "bundled",
                    cache_dir=None) -> dict:
    """The ``accuracy.json`` of the cached classifier of ``dataset`` (test accuracy on the
    whole test split, training time, provenance), measured once after it was trained.

    Evaluating never trains: without a finished classifier this raises an
    :class:`ExtractorError` giving the one command that trains it.
    """
    path = classifier_run_dir(dataset, profile, cache_dir, data_source)
    run = RunDir(path)
    accuracy_file = path / "accuracy.json"
    if accuracy_file.exists():
        return read_json(accuracy_file)
    finished = (path / "model" / CLASSIFIER_FILE).exists() and \
        run.info().get("state") == "finished"
    if not finished:
        resume = " --resume" if run.config_file.exists() else ""
        raise ExtractorError(
            f"no trained {dataset} classifier for this data in {path}; train it once with "
            f"`python -m replication train classifier --profile {profile} --dataset {dataset} "
            f"--data {data_source} --run-dir {path}{resume}`")
    info = _measure_classifier(path, dataset, data_source)
    write_json(accuracy_file, info)
    return info


def _measure_classifier(path: Path, dataset: str, data_source: str) -> dict:
    model = load_model(path / "model" / CLASSIFIER_FILE, compile=False)
    loaded = data.load(dataset, data_source, verbose=False)
    started = time.perf_counter()
    predicted = in_batches(lambda x: np.argmax(np.asarray(model(
        x.astype(np.float32) / 255.0, training=False)), axis=1), loaded.test.images)
    hits = int((predicted == loaded.test.labels).sum())
    with open(path / "history.csv") as fh:
        rows = list(csv.DictReader(fh))
    config = read_json(path / "config.json")
    return {"dataset": dataset, "test_accuracy": hits / len(loaded.test),
            "test_images": len(loaded.test),
            "epochs": len(rows),
            "training_seconds": round(sum(float(r["seconds"]) for r in rows), 1),
            "profile": config["config"]["profile"], "data": config["data"],
            "device": config["device"], "versions": config["versions"],
            "measured_in_seconds": round(time.perf_counter() - started, 1)}
