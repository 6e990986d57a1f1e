"""How much of a digit's class the EfficientNet-Lite0 encoder's features carry before any VAE
training: a linear probe on MNIST.

The bonus VAE feeds each 28x28 digit to the encoder zero-padded to 32x32, repeated to three
channels and normalised as the ImageNet weights expect (:mod:`replication.models.efficientnet_vae`).
Here the same input goes through Lite0 without its top (average-pooled, 1,280 features), with
its ImageNet weights or at random initialisation, optionally upsampled (bilinear) to a larger
input size; a ridge-regression classifier fitted on the features of ``n_train`` training digits
is scored on ``n_test`` test digits, beside the same classifier on the digits' raw pixels.
The larger input sizes say what the 32x32 choice gives up, against their cost (the encoder's
compute grows with the square of the size).  A randomly initialised Lite0 in inference mode
(BatchNorm at its initial statistics) passes almost nothing through its 16 blocks (features
of the order of 1e-13): its row says that, and is no "random features" baseline.  ``scripts/probe_lite0_features.py``
runs it.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from replication import data
from replication.cli import int_list, positive_int, script_main
from replication.errors import run_command
from replication.metrics import ridge_classifier
from replication.runs import command_line, device_description, now, write_json


def features(images: np.ndarray, weights: str, input_size: int,
             batch_size: int = 100) -> np.ndarray:
    """Lite0's pooled features of MNIST ``images`` (N, 28, 28, 1) in [0, 1], entering as the
    bonus VAE's encoder input does, then resized to ``input_size``."""
    import tensorflow as tf

    from replication.models import efficientnet_lite as el
    from replication.models.efficientnet_vae import build_backbone

    backbone = build_backbone(input_size, weights, "efficientnet-lite0")
    mean, std = np.asarray(el.INPUT_MEAN), np.asarray(el.INPUT_STD)
    out = []
    for first in range(0, len(images), batch_size):
        x = tf.image.pad_to_bounding_box(images[first:first + batch_size], 2, 2, 32, 32)
        x = tf.repeat(x, 3, axis=-1)
        if input_size != 32:
            x = tf.image.resize(x, (input_size, input_size), method="bilinear")
        x = (x - mean) / std
        out.append(np.asarray(backbone(x, training=False)))
    return np.concatenate(out)


def ridge_accuracy(train_x, train_y, test_x, test_y, classes: int = 10) -> float:
    """Accuracy of :func:`replication.metrics.ridge_classifier` on the test features."""
    predict = ridge_classifier(train_x, train_y, classes)
    return float(np.mean(predict(test_x) == np.asarray(test_y)))


def probe(settings=(("imagenet", 32), ("none", 32), ("imagenet", 64)), n_train: int = 5000,
          n_test: int = 2000, seed: int = 0) -> list[dict]:
    """One row per (weights, input size): probe accuracy, seconds per 1,000 images."""
    mnist = data.load("mnist", "bundled", verbose=False)
    rng = np.random.default_rng(seed)
    train = rng.permutation(len(mnist.train.images))[:n_train]
    test = rng.permutation(len(mnist.test.images))[:n_test]

    def unit(images):
        return images.astype(np.float32)[..., :1] / 255.0

    rows = []
    pixels = [unit(split).reshape(len(split), -1) for split in
              (mnist.train.images[train], mnist.test.images[test])]
    accuracy = ridge_accuracy(pixels[0], mnist.train.labels[train], pixels[1],
                              mnist.test.labels[test])
    rows.append({"weights": "pixels (no encoder)", "input_size": 28,
                 "accuracy": round(accuracy, 4), "n_train": n_train, "n_test": n_test,
                 "seed": seed})
    print(f"the digits' own pixels: linear-probe accuracy {100 * accuracy:.1f} %", flush=True)
    for weights, size in settings:
        started = time.perf_counter()
        train_x = features(unit(mnist.train.images[train]), weights, size)
        test_x = features(unit(mnist.test.images[test]), weights, size)
        seconds = time.perf_counter() - started
        accuracy = ridge_accuracy(train_x, mnist.train.labels[train], test_x,
                                  mnist.test.labels[test])
        rows.append({"weights": weights, "input_size": size, "accuracy": round(accuracy, 4),
                     "seconds_per_1000": round(1000 * seconds / (n_train + n_test), 2),
                     "n_train": n_train, "n_test": n_test, "seed": seed})
        print(f"Lite0 {weights} at {size}x{size}: linear-probe accuracy {100 * accuracy:.1f} % "
              f"({rows[-1]['seconds_per_1000']:.2f} s per 1,000 images)", flush=True)
    return rows


HELP = "what EfficientNet-Lite0's features know of a digit before training (a linear probe)"
DESCRIPTION = ("Linear probe of EfficientNet-Lite0's features on MNIST (ImageNet weights vs "
               "random, input sizes): what the bonus VAE's encoder knows of a digit before "
               "training; writes JSON.")


def add_arguments(parser) -> None:
    parser.add_argument("--sizes", type=int_list(32, "at least 32 (the padded digit's size)"),
                        default="32,64", help="input sizes (default 32,64)")
    parser.add_argument("--n-train", type=positive_int, default=5000)
    parser.add_argument("--n-test", type=positive_int, default=2000)
    parser.add_argument("--out", default="figures/studies/records/effnet_vae/probe.json")


def main(argv=None) -> int:
    return script_main("python scripts/probe_lite0_features.py", sys.modules[__name__], argv)


def run_cli(args, parser) -> int:
    sizes = args.sizes
    settings = [("imagenet", s) for s in sizes] + [("none", sizes[0])]

    def run():
        rows = probe(settings, args.n_train, args.n_test)
        write_json(args.out, {"rows": rows, "device": device_description(), "measured_at": now(),
                              "command": command_line()})
        print(f"wrote {args.out}")

    return run_command(run)
