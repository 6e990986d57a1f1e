"""The GANs' sample metrics for ``scripts/evaluate.py``: the trained generator, the averaged
generator (when the run has one) and the two references (real training images, the untrained
generator), each N samples through one extractor against the real test images."""

from __future__ import annotations

import time

import numpy as np

from replication import data, experiments, load_model
from replication.evaluate.vae import real_test_limit
from replication.experiments import config_from_dict
from replication.generation import generate
from replication.metrics import (KID_SUBSET_SIZE, KID_SUBSETS, class_coverage,
                                 conditional_accuracy, confusion_counts, frechet_distance,
                                 inception_score, kernel_inception_distance, per_class_accuracy)
from replication.runs import AVERAGED_GENERATOR_FILE, GENERATOR_FILE, RunDir


def sample_metrics(features, logits, reference_features, num_classes: int,
                   intended_labels=None, kid_subsets: int = KID_SUBSETS,
                   kid_subset_size: int = KID_SUBSET_SIZE,
                   seed: int = 0) -> dict:
    """FID / KID / IS / coverage (and conditional accuracy) of one sample set."""
    kid, kid_sd = kernel_inception_distance(features, reference_features, subsets=kid_subsets,
                                            subset_size=kid_subset_size, seed=seed)
    score, score_sd = inception_score(logits)
    predicted = np.argmax(logits, axis=1)
    out = {"FID": round(frechet_distance(features, reference_features), 3),
           "KID": float(f"{kid:.5g}"), "KID_sd": float(f"{kid_sd:.5g}"),
           "IS": round(score, 3), "IS_sd": round(score_sd, 3),
           "class_coverage": class_coverage(predicted, num_classes), "num_classes": num_classes,
           "predicted_class_counts": np.bincount(predicted, minlength=num_classes).tolist()}
    if intended_labels is not None:
        out["conditional_accuracy"] = round(conditional_accuracy(predicted, intended_labels), 4)
        out["per_class_accuracy"] = [
            None if a is None else round(a, 4)
            for a in per_class_accuracy(predicted, intended_labels, num_classes)]
        out["confusion"] = confusion_counts(predicted, intended_labels, num_classes)
    return out


class References:
    """Real-data features per (dataset, extractor), computed once per invocation."""

    def __init__(self):
        self._cache = {}

    def get(self, key, compute):
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]


def evaluate_gan(run: RunDir, info: dict, extractor, references: References, *, samples: int,
                 limit: int | None, kid_subsets: int, kid_subset_size: int) -> dict:
    import keras

    name = info["experiment"]
    config = config_from_dict(info["config"])
    generator = load_model(run.model_dir / GENERATOR_FILE)  # a missing model: before the minutes
    dataset = data.load(config.dataset, info.get("data_source", "bundled"), verbose=False)
    k = dataset.num_classes
    conditional = experiments.get(name).conditional
    started = time.perf_counter()
    test = dataset.test.take(real_test_limit(limit, info["config"]))
    test_features, _ = references.get(
        (config.dataset, extractor.name, len(test), "test"), lambda: extractor(test.images))
    common = dict(num_classes=k, kid_subsets=kid_subsets, kid_subset_size=kid_subset_size,
                  seed=config.seed)

    def real_row():
        rng = np.random.default_rng(config.seed)
        index = np.sort(rng.permutation(len(dataset.train))[:samples])
        f, z = extractor(dataset.train.images[index])
        return sample_metrics(f, z, test_features,
                              intended_labels=dataset.train.labels[index], **common)

    real = references.get((config.dataset, extractor.name, len(test), "train", samples), real_row)

    def generated_row(generator):
        images, labels = generate(generator, samples, config.noise_dim, k if conditional else 0,
                                  seed=config.seed + 2)
        f, z = extractor(images)
        return sample_metrics(f, z, test_features,
                              intended_labels=labels if conditional else None, **common)

    model_row = generated_row(generator)
    averaged_file = run.model_dir / AVERAGED_GENERATOR_FILE
    averaged_row = None
    if averaged_file.exists():  # the averaged generator (EMA), scored on the same inputs
        averaged_row = generated_row(load_model(averaged_file))
    keras.utils.set_random_seed(config.seed)
    untrained, _ = experiments.get(name).networks(config, dataset.image_shape, k)
    untrained_row = generated_row(untrained)
    if not conditional:
        real = {key: value for key, value in real.items()
                if key not in ("conditional_accuracy", "per_class_accuracy")}
    return {"extractor": extractor.name, "extractor_description": extractor.description,
            "samples": samples, "reference": f"real test split ({len(test)} images)",
            "kid": f"unbiased polynomial-kernel MMD^2, {kid_subsets} subsets of "
                   f"{min(kid_subset_size, samples, len(test))}",
            "data": dataset.description, "model": model_row,
            **({"averaged": averaged_row} if averaged_row is not None else {}),
            "untrained_generator": untrained_row,
            "real_train": real, "seconds": round(time.perf_counter() - started, 1)}
