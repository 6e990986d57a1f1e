"""Zero-shot CIFAR-10 with ImageNet-trained EfficientNet-Lite0: a check of the weight port.

Each CIFAR-10 test image is upsampled (bilinear) to the network's input size and classified by
the unchanged 1000-way ImageNet head; the CIFAR-10 prediction is the class whose ImageNet
classes (:data:`CIFAR10_FROM_IMAGENET`) together have the largest softmax probability.  A
correct port scores far above the 10 % of chance; a wrong padding, channel order, input
normalisation or BatchNorm epsilon drops it close to chance.  ``scripts/zero_shot_lite0.py``
runs it and writes the result as JSON.

The same network also judges a conditional GAN's samples, independently of the project's own
classifier, in two ways: zero-shot as above (:func:`zero_shot_generated`), and by a linear
probe (:func:`probe_judge`): a ridge classifier on Lite0's pooled ImageNet features, fitted on
real CIFAR-10 training images, which reads 32x32 images much better than the zero-shot
mapping while sharing nothing with the project's classifier but the training images.
"""

from __future__ import annotations

import functools
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

from replication import data, experiments, load_model
from replication.cli import int_at_least, positive_int, script_main
from replication.config import ConfigError
from replication.errors import MissingFileError, run_command
from replication.extractors import Lite0Extractor
from replication.metrics import class_coverage, ridge_classifier
from replication.runs import AVERAGED_GENERATOR_FILE, GENERATOR_FILE, RunDir, command_line

# ImageNet-1k class indices (the standard ILSVRC-2012 order, i.e. sorted WordNet ids) that
# stand for each CIFAR-10 class.  ImageNet has no generic deer, so antelopes stand in.
CIFAR10_FROM_IMAGENET: dict[str, tuple[int, ...]] = {
    "airplane": (
        404,  # airliner
        895,  # warplane, military plane
        908,  # wing
    ),
    "automobile": (
        436,  # beach wagon, station wagon
        468,  # cab, taxi
        511,  # convertible
        581,  # grille, radiator grille
        609,  # jeep, landrover
        627,  # limousine
        656,  # minivan
        661,  # Model T
        751,  # racer, race car
        817,  # sports car
    ),
    "bird": (
        *range(7, 25),     # cock, hen, ostrich, brambling, goldfinch ... bald eagle, vulture,
                           # great grey owl
        *range(80, 101),   # black grouse, ptarmigan ... peacock, quail, partridge, parrots,
                           # coucal, bee eater, hornbill, hummingbird, jacamar, toucan, drake,
                           # red-breasted merganser, goose, black swan
        *range(127, 147),  # white stork, black stork, spoonbill, flamingo, herons, bittern,
                           # crane, limpkin, gallinule, coot, bustard, waders, pelican,
                           # king penguin, albatross
    ),
    "cat": (
        281,  # tabby
        282,  # tiger cat
        283,  # Persian cat
        284,  # Siamese cat
        285,  # Egyptian cat
    ),
    "deer": (
        350,  # ibex
        351,  # hartebeest
        352,  # impala
        353,  # gazelle
    ),
    "dog": tuple(range(151, 269)),  # Chihuahua ... Mexican hairless: the 118 dog breeds
    "frog": (
        30,  # bullfrog
        31,  # tree frog
        32,  # tailed frog
    ),
    "horse": (
        339,  # sorrel
        603,  # horse cart
    ),
    "ship": (
        403,  # aircraft carrier
        472,  # canoe
        484,  # catamaran
        510,  # container ship
        554,  # fireboat
        576,  # gondola
        625,  # lifeboat
        628,  # liner, ocean liner
        694,  # paddlewheel
        724,  # pirate, pirate ship
        780,  # schooner
        814,  # speedboat
        833,  # submarine
        871,  # trimaran
        913,  # wreck
    ),
    "truck": (
        555,  # fire engine
        569,  # garbage truck
        675,  # moving van
        717,  # pickup, pickup truck
        734,  # police van
        864,  # tow truck
        867,  # trailer truck, tractor trailer
    ),
}
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                   "ship", "truck")


def class_matrix() -> np.ndarray:
    """(1000, 10) 0/1 matrix: ImageNet class -> CIFAR-10 class (each ImageNet class once)."""
    matrix = np.zeros((1000, len(CIFAR10_CLASSES)), np.float32)
    for j, name in enumerate(CIFAR10_CLASSES):
        for i in CIFAR10_FROM_IMAGENET[name]:
            if matrix[i].any():
                raise ValueError(f"ImageNet class {i} is mapped twice")
            matrix[i, j] = 1.0
    return matrix


def cifar_predictions(probs: np.ndarray) -> np.ndarray:
    """CIFAR-10 class per row of ImageNet softmax probabilities (largest summed mass)."""
    return np.argmax(np.asarray(probs) @ class_matrix(), axis=1)


PROBE_TRAIN = 10000  # real CIFAR-10 training images the linear probe is fitted on


@functools.lru_cache(maxsize=2)
def _classifier(input_size: int):
    """Lite0 with its ImageNet head and weights at ``input_size`` (built once per size)."""
    from replication.models import efficientnet_lite as el

    return el.build_lite0((input_size, input_size, 3), include_top=True, weights="imagenet")


@functools.lru_cache(maxsize=4)
def _features_extractor(input_size: int, normalisation: str, batch_size: int):
    """The evaluation's Lite0 extractor at ``input_size`` (built once per setting)."""
    return Lite0Extractor(input_size, normalisation, batch_size)


def _through(model, images, input_size: int, normalisation: str, batch_size: int,
             verbose: bool = False) -> np.ndarray:
    """``model`` on uint8 32x32 RGB ``images``, normalised and upsampled bilinearly."""
    import tensorflow as tf

    from replication.models import efficientnet_lite as el

    out = []
    for first in range(0, len(images), batch_size):
        x = el.normalise(images[first:first + batch_size], normalisation)
        x = tf.image.resize(x, (input_size, input_size), method="bilinear")
        out.append(np.asarray(model(x, training=False)))
        done = min(first + batch_size, len(images))
        if verbose and (done == len(images) or done % (10 * batch_size) == 0):
            print(f"{done}/{len(images)} images", flush=True)
    return np.concatenate(out)


def imagenet_probabilities(images, input_size: int = 224, normalisation: str = "lite",
                           batch_size: int = 50, verbose: bool = False) -> np.ndarray:
    """ImageNet softmax of Lite0 (its own ImageNet weights) for uint8 32x32 RGB ``images``,
    upsampled bilinearly to ``input_size``."""
    return _through(_classifier(input_size), images, input_size, normalisation, batch_size,
                    verbose)


def lite0_features(images, input_size: int = 224, normalisation: str = "lite",
                   batch_size: int = 50) -> np.ndarray:
    """Lite0's pooled ImageNet features (N, 1280) of uint8 32x32 RGB ``images``
    (:class:`replication.extractors.Lite0Extractor`, the evaluation's ``lite0`` space)."""
    return _features_extractor(input_size, normalisation, batch_size).features(images)


def _judged_run(run_dir):
    """The run directory, its info and its experiment, if its samples can be judged: a
    conditional GAN of CIFAR-10 (else one clear :class:`ConfigError`)."""
    run = RunDir(run_dir)
    try:
        info = run.info()
    except FileNotFoundError as exc:
        raise ConfigError(str(exc)) from None
    spec = experiments.get(info["experiment"])
    if not spec.conditional:
        raise ConfigError(f"{run.path} is not a conditional GAN run")
    if info["config"].get("dataset") != "cifar10":
        raise ConfigError(f"{run.path} is a {info['config'].get('dataset')} run: the Lite0 "
                          "judges read CIFAR-10 classes only")
    if not (run.model_dir / GENERATOR_FILE).is_file():
        raise MissingFileError(f"{run.model_dir / GENERATOR_FILE}: no such model file (the "
                               "judges read a finished run's generators)")
    return run, info, spec


def judged_generators(run_dir) -> tuple[str, ...]:
    """The generators of a run the judges read: the trained one, and the averaged one where
    the run kept it (a run with ``--ema-half-life 0`` has none)."""
    run, _, _ = _judged_run(run_dir)
    return ("trained",) + (("averaged",) if (run.model_dir / AVERAGED_GENERATOR_FILE).is_file()
                           else ())


def conditional_samples(run_dir, n: int, generator: str = "trained"):
    """``n`` class-balanced uint8 samples and their labels from a conditional GAN run's
    ``generator`` (trained | averaged), with the judges' fixed noise seed."""
    run, info, spec = _judged_run(run_dir)
    path = run.model_dir / (GENERATOR_FILE if generator == "trained" else AVERAGED_GENERATOR_FILE)
    images, labels = spec.draw(load_model(path, compile=False), info, n, seed=1234)
    return images, np.asarray(labels), info


def _per_class(hits, labels) -> dict:
    return {name: round(float(hits[labels == j].mean()), 3) if (labels == j).any() else None
            for j, name in enumerate(CIFAR10_CLASSES)}


def zero_shot_generated(run_dir, n: int = 2000, generator: str = "trained",
                        input_size: int = 224, normalisation: str = "lite",
                        batch_size: int = 50) -> dict:
    """An independent judge of a conditional GAN: the share of ``n`` class-balanced samples of
    the run's ``generator`` (trained | averaged) that ImageNet Lite0, zero-shot, puts in the
    class they were generated for (the same rule as :func:`zero_shot_cifar10`, whose accuracy
    on real test images is the ceiling to read it against)."""
    images, labels, info = conditional_samples(run_dir, n, generator)
    probs = imagenet_probabilities(images, input_size, normalisation, batch_size)
    correct = cifar_predictions(probs) == labels
    correct_max = max_rule_predictions(probs) == labels
    return {"run": str(run_dir), "generator": generator, "n": int(n),
            "epochs": info.get("epochs_done"),
            "agreement": round(float(correct.mean()), 4),
            "agreement_max_rule": round(float(correct_max.mean()), 4),
            "per_class_agreement": _per_class(correct, labels),
            "per_class_agreement_max_rule": _per_class(correct_max, labels)}


def probe_judge(run_dirs=(), n: int = 2000, n_train: int = PROBE_TRAIN, n_test: int = 2000,
                input_size: int = 224, normalisation: str = "lite",
                batch_size: int = 50) -> list[dict]:
    """The linear-probe judge: a ridge classifier on Lite0's pooled ImageNet features, fitted
    on ``n_train`` real CIFAR-10 training images (a fixed subset).  The first row is its
    accuracy on ``n_test`` real test images (the ceiling); then, per run and generator, the
    share of ``n`` class-balanced samples it puts in the class they were generated for, and
    the class coverage by the project's rule (:func:`replication.metrics.class_coverage`) with
    the counts it is read from."""
    for run_dir in run_dirs:  # refuse a run it cannot judge before the features' minutes
        _judged_run(run_dir)
    dataset = data.load("cifar10", "bundled", verbose=False)
    train, test = dataset.train.take(n_train), dataset.test.take(n_test)
    predict = ridge_classifier(lite0_features(train.images, input_size, normalisation,
                                              batch_size), train.labels, len(CIFAR10_CLASSES))
    common = {"judge": "Lite0 linear probe", "n_train": int(len(train)),
              "input_size": input_size}

    def judged(images, labels, **row):
        predicted = predict(lite0_features(images, input_size, normalisation, batch_size))
        hits = predicted == labels
        counts = np.bincount(predicted, minlength=len(CIFAR10_CLASSES))
        return {**row, **common, "n": int(len(labels)), "agreement": round(float(hits.mean()), 4),
                "per_class_agreement": _per_class(hits, labels),
                "class_coverage": class_coverage(predicted, len(CIFAR10_CLASSES)),
                "predicted_counts": dict(zip(CIFAR10_CLASSES, map(int, counts)))}

    rows = [judged(test.images, np.asarray(test.labels), run="real CIFAR-10 test images")]
    for run_dir in run_dirs:
        for generator in judged_generators(run_dir):
            images, labels, info = conditional_samples(run_dir, n, generator)
            rows.append(judged(images, labels, run=str(run_dir), generator=generator,
                               epochs=info.get("epochs_done")))
    return rows


def max_rule_predictions(probs: np.ndarray) -> np.ndarray:
    """CIFAR-10 class of the single most probable mapped ImageNet class (the summed rule
    favours dog, which has 118 ImageNet classes)."""
    matrix = class_matrix()
    best_mapped = np.argmax(np.asarray(probs) * matrix.any(axis=1), axis=1)
    return np.argmax(matrix[best_mapped], axis=1)


def zero_shot_cifar10(n: int = 2000, input_size: int = 224, normalisation: str = "lite",
                      batch_size: int = 50, top5_examples: int = 10, verbose: bool = True) -> dict:
    """Score ImageNet Lite0 zero-shot on ``n`` bundled CIFAR-10 test images; a JSON-able dict."""
    import keras
    import tensorflow as tf

    from replication.models import efficientnet_lite as el

    dataset = data.load("cifar10", "bundled", verbose=False)
    split = dataset.test.take(n)
    images, labels = split.images, np.asarray(split.labels)
    start = time.perf_counter()
    probs = imagenet_probabilities(images, input_size, normalisation, batch_size, verbose)
    seconds = time.perf_counter() - start
    predicted = cifar_predictions(probs)
    correct = predicted == labels
    per_class = {name: float(correct[labels == j].mean()) if (labels == j).any() else None
                 for j, name in enumerate(CIFAR10_CLASSES)}
    mapped_mass = probs @ class_matrix()
    max_rule = max_rule_predictions(probs)  # a second rule, for comparison
    owner = {i: name for name, indices in CIFAR10_FROM_IMAGENET.items() for i in indices}
    examples = []
    for j in range(min(top5_examples, len(CIFAR10_CLASSES))):  # the first image of each class
        hits = np.flatnonzero(labels == j)
        if not len(hits):
            continue
        i = int(hits[0])
        top5 = np.argsort(probs[i])[::-1][:5]
        examples.append({"index_in_subset": i, "label": CIFAR10_CLASSES[labels[i]],
                         "predicted": CIFAR10_CLASSES[predicted[i]],
                         "imagenet_top5": [{"class": int(k), "p": round(float(probs[i, k]), 4),
                                            "counts_for": owner.get(int(k))} for k in top5]})
    return {
        "what": "zero-shot CIFAR-10 accuracy of ImageNet EfficientNet-Lite0 (weights: "
                f"{el.WEIGHTS_REQUIREMENT}, read without PyTorch)",
        "method": "bundled CIFAR-10 test images (a fixed stratified subset, data.Split.take), "
                  f"upsampled bilinearly to {input_size}x{input_size}, ImageNet softmax summed "
                  "over the ImageNet classes mapped to each CIFAR-10 class "
                  "(replication.zero_shot.CIFAR10_FROM_IMAGENET); argmax",
        "n": int(len(images)),
        "input_size": input_size,
        "normalisation": el.INPUT_NORMALISATION if normalisation == "lite"
        else "torchvision ImageNet mean/std on [0, 1] RGB",
        "accuracy": float(correct.mean()),
        "per_class_accuracy": per_class,
        "accuracy_max_rule": float((max_rule == labels).mean()),
        "mean_mapped_probability": float(mapped_mass.sum(axis=1).mean()),
        "imagenet_top5_examples": examples,
        "seconds": round(seconds, 1),
        "versions": {"python": platform.python_version(), "tensorflow": tf.__version__,
                     "keras": keras.__version__, "numpy": np.__version__},
        "device": "CPU" if not tf.config.list_physical_devices("GPU") else "GPU",
        "platform": platform.platform(),
    }


def summary(result: dict) -> str:
    """The result as a few human-readable lines."""
    lines = [f"zero-shot CIFAR-10 accuracy of ImageNet EfficientNet-Lite0: "
             f"{100 * result['accuracy']:.1f} % on {result['n']} test images "
             f"({result['input_size']}x{result['input_size']}, {result['normalisation']}; "
             f"chance 10 %); by the most probable mapped class instead of the summed "
             f"probability: {100 * result['accuracy_max_rule']:.1f} %",
             "per class: " + ", ".join(f"{name} {100 * acc:.0f} %" for name, acc in
                                       result["per_class_accuracy"].items() if acc is not None)]
    for example in result["imagenet_top5_examples"]:
        top = ", ".join(f"{t['class']}{'/' + t['counts_for'] if t['counts_for'] else ''} "
                        f"{t['p']:.2f}" for t in example["imagenet_top5"])
        lines.append(f"  #{example['index_in_subset']} {example['label']} -> "
                     f"{example['predicted']}; ImageNet top-5: {top}")
    return "\n".join(lines)


HELP = ("the Lite0 port's zero-shot check on CIFAR-10, or (--run) an independent judge of "
        "conditional GAN samples")
DESCRIPTION = ("Zero-shot CIFAR-10 accuracy of ImageNet EfficientNet-Lite0 (offline), a check of "
               "the weight port; writes JSON. With --run, an independent judge of conditional "
               "GAN samples: Lite0 zero-shot, or a linear probe on its features.")


def add_arguments(parser) -> None:
    parser.add_argument("--n", type=positive_int, default=2000, help="test images (default 2000)")
    parser.add_argument("--input-size", type=int_at_least(32, "at least 32"), default=224, help="default 224")
    parser.add_argument("--normalisation", choices=("lite", "torchvision"), default="lite",
                        help="input convention: lite ((pixel-127)/128, the weights' own; "
                             "default) or torchvision (ImageNet mean/std), for comparison")
    parser.add_argument("--batch-size", type=positive_int, default=50)
    parser.add_argument("--out", default="figures/zero_shot_lite0.json",
                        help="JSON output (default figures/zero_shot_lite0.json)")
    parser.add_argument("--run", metavar="RUN_DIR", nargs="+",
                        help="instead: judge conditional GAN runs, the share of their samples "
                             "Lite0 puts in the class they were generated for (printed)")
    parser.add_argument("--judge", choices=("zero-shot", "probe"), default="zero-shot",
                        help="with --run: Lite0 zero-shot (default) or a linear probe on its "
                             "features fitted on real training images (printed first: its "
                             "accuracy on --n real test images)")
    parser.add_argument("--probe-train", type=positive_int, default=PROBE_TRAIN,
                        help=f"--judge probe: real training images it is fitted on "
                             f"(default {PROBE_TRAIN})")


def main(argv=None) -> int:
    return script_main("python scripts/zero_shot_lite0.py", sys.modules[__name__], argv)


def run_cli(args, parser) -> int:
    if args.judge == "probe" and not args.run:
        parser.error("--judge probe needs --run RUN_DIR ...")

    def judge():
        if args.judge == "probe":
            for row in probe_judge(args.run, args.n, args.probe_train, args.n, args.input_size,
                                   args.normalisation, args.batch_size):
                print(json.dumps(row), flush=True)
            return
        for path in args.run:  # refuse a run it cannot judge before the first rows
            _judged_run(path)
        for path in args.run:
            for generator in judged_generators(path):
                r = zero_shot_generated(path, args.n, generator, args.input_size,
                                        args.normalisation, args.batch_size)
                print(json.dumps(r), flush=True)

    def run():
        if args.run:
            return judge()
        result = zero_shot_cifar10(args.n, args.input_size, args.normalisation,
                                   args.batch_size)
        result["command"] = command_line()
        print(summary(result))
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {out}")

    return run_command(run)


__all__ = ["CIFAR10_FROM_IMAGENET", "CIFAR10_CLASSES", "class_matrix", "cifar_predictions",
           "zero_shot_cifar10", "zero_shot_generated", "probe_judge", "summary", "main",
           "HELP", "DESCRIPTION", "add_arguments", "run_cli"]
