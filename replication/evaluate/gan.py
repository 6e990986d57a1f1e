"""The GANs' sample metrics for ``scripts/evaluate.py``: the trained generator, the averaged
generator (when the run has one) and the two references (real training images, the untrained
generator), each N samples through one extractor against the real test images: FID and KID;
precision, recall, density and coverage (k-NN manifolds); with a classifier's logits IS, class
coverage and conditional accuracy; for a conditional model, intra-class FID and the spread of
each class's samples beside the real images' own."""

from __future__ import annotations

import time

import numpy as np

from replication import data, experiments, load_model
from replication.evaluate.vae import real_test_limit
from replication.experiments import config_from_dict
from replication.generation import generate
from replication.metrics import (KID_SUBSET_SIZE, KID_SUBSETS, class_coverage,
                                 conditional_accuracy, confusion_counts, frechet_distance,
                                 inception_score, intra_class_fid, kernel_inception_distance,
                                 per_class_accuracy, precision_recall_density_coverage,
                                 within_class_spread)
from replication.runs import RunDir


def _mean(values) -> float | None:
    present = [v for v in values if v is not None]
    return float(np.mean(present)) if present else None


def sample_metrics(features, logits, reference_features, num_classes: int,
                   intended_labels=None, kid_subsets: int = KID_SUBSETS,
                   kid_subset_size: int = KID_SUBSET_SIZE, seed: int = 0,
                   reference_labels=None) -> dict:
    """FID / KID / precision, recall, density, coverage of one sample set; with ``logits``
    (a classifier's) IS / class coverage (and conditional accuracy); with ``intended_labels``
    and ``reference_labels``, intra-class FID and the within-class spread."""
    kid, kid_sd = kernel_inception_distance(features, reference_features, subsets=kid_subsets,
                                            subset_size=kid_subset_size, seed=seed)
    out = {"FID": round(frechet_distance(features, reference_features), 3),
           "KID": float(f"{kid:.5g}"), "KID_sd": float(f"{kid_sd:.5g}"),
           **{k: (round(v, 4) if isinstance(v, float) else v) for k, v in
              precision_recall_density_coverage(reference_features, features).items()}}
    if logits is not None:
        score, score_sd = inception_score(logits)
        predicted = np.argmax(logits, axis=1)
        out.update({"IS": round(score, 3), "IS_sd": round(score_sd, 3),
                    "class_coverage": class_coverage(predicted, num_classes),
                    "num_classes": num_classes,
                    "predicted_class_counts": np.bincount(predicted,
                                                          minlength=num_classes).tolist()})
        if intended_labels is not None:
            out["conditional_accuracy"] = round(conditional_accuracy(predicted,
                                                                     intended_labels), 4)
            out["per_class_accuracy"] = [
                None if a is None else round(a, 4)
                for a in per_class_accuracy(predicted, intended_labels, num_classes)]
            out["confusion"] = confusion_counts(predicted, intended_labels, num_classes)
    if intended_labels is not None and reference_labels is not None:
        per_class = intra_class_fid(features, intended_labels, reference_features,
                                    reference_labels, num_classes)
        spread = within_class_spread(features, intended_labels, num_classes, seed=seed)
        out["intra_class_FID"] = round(_mean(per_class), 3)
        out["intra_class_FID_per_class"] = [None if v is None else round(v, 3) for v in per_class]
        out["within_class_spread"] = round(_mean(spread), 4)
        out["within_class_spread_per_class"] = [None if v is None else round(v, 4)
                                                for v in spread]
    return out


class References:
    """Real-data features per (dataset, extractor), computed once per invocation."""

    def __init__(self):
        self._cache = {}

    def get(self, key, compute):
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]


def _real_spread(references: References, config, extractor, test, test_features, k) -> dict:
    """The real test images' own within-class spread (the yardstick of a conditional model's),
    computed once per invocation."""
    own = references.get((config.dataset, extractor.name, len(test), "spread", config.seed),
                         lambda: within_class_spread(test_features, np.asarray(test.labels), k,
                                                     seed=config.seed))
    return {"real_within_class_spread": round(_mean(own), 4),
            "real_within_class_spread_per_class": [None if v is None else round(v, 4)
                                                   for v in own]}


def evaluate_gan(run: RunDir, info: dict, extractor, references: References, *, samples: int,
                 limit: int | None, kid_subsets: int, kid_subset_size: int) -> dict:
    """One GAN run's numbers in ``extractor``'s space (its trained and averaged generator, the
    untrained one as the ceiling, the real training split as the floor); the real images'
    features come from ``references``, shared across the runs of one invocation."""
    import keras

    spec, config = experiments.get(info["experiment"]), config_from_dict(info["config"])
    generator = load_model(run.model_dir / spec.model_files()["trained"])  # before the minutes
    dataset = data.load(config.dataset, info.get("data_source", "bundled"), verbose=False)
    k, conditional = dataset.num_classes, spec.conditional
    started = time.perf_counter()
    test = dataset.test.take(real_test_limit(limit, info["config"]))
    test_features, _ = references.get(
        (config.dataset, extractor.name, len(test), "test"), lambda: extractor(test.images))
    common = dict(num_classes=k, kid_subsets=kid_subsets, kid_subset_size=kid_subset_size,
                  seed=config.seed,
                  reference_labels=np.asarray(test.labels) if conditional else None)

    def real_row():
        rng = np.random.default_rng(config.seed)
        index = np.sort(rng.permutation(len(dataset.train))[:samples])
        f, z = extractor(dataset.train.images[index])
        return sample_metrics(f, z, test_features,
                              intended_labels=dataset.train.labels[index], **common)

    # (per conditioning: a conditional model's floor row has the per-class numbers too)
    real = references.get((config.dataset, extractor.name, len(test), "train", samples,
                           conditional), real_row)

    def generated_row(generator):
        images, labels = generate(generator, samples, config.noise_dim, k if conditional else 0,
                                  seed=config.seed + 2)
        f, z = extractor(images)
        return sample_metrics(f, z, test_features,
                              intended_labels=labels if conditional else None, **common)

    model_row = generated_row(generator)
    averaged_file = run.model_dir / spec.model_files()["averaged"]
    averaged_row = None
    if averaged_file.exists():  # the averaged generator (EMA), scored on the same inputs
        averaged_row = generated_row(load_model(averaged_file))
    keras.utils.set_random_seed(config.seed)
    untrained_row = generated_row(spec.networks(config, dataset.image_shape, k)[0])
    if conditional:
        spread = _real_spread(references, config, extractor, test, test_features, k)
    else:
        spread, real = {}, {key: value for key, value in real.items() if key not in
                            ("conditional_accuracy", "per_class_accuracy", "confusion")}
    return {"extractor": extractor.name, "extractor_description": extractor.description,
            "samples": samples, "reference": f"real test split ({len(test)} images)",
            "kid": f"unbiased polynomial-kernel MMD^2, {kid_subsets} subsets of "
                   f"{min(kid_subset_size, samples, len(test))}",
            "data": dataset.description, "model": model_row,
            **({"averaged": averaged_row} if averaged_row is not None else {}),
            "untrained_generator": untrained_row,
            "real_train": real, **spread,
            "prdc": "k-NN manifolds, k = 5: precision and recall (Kynkäänniemi et al. 2019), "
                    "density and coverage (Naeem et al. 2020), against the real test split",
            "seconds": round(time.perf_counter() - started, 1)}
