"""The VAEs' test-set bounds for ``scripts/evaluate.py`` (replication.metrics.vae_bounds)."""

from __future__ import annotations

import time

from replication import data, load_model
from replication.metrics import vae_bounds
from replication.runs import RunDir


def real_test_limit(limit: int | None, config: dict) -> int | None:
    """How many real test images to use: ``--limit``, else the run's own evaluation split
    (``eval_examples``; None means the whole test split)."""
    return limit or config.get("eval_examples")


def evaluate_vae(run: RunDir, info: dict, samples: int, limit: int | None) -> dict:
    """Negative ELBO, negative IWAE bound (``samples`` importance samples) and reconstruction
    of the run's final model on its test images, in nats per image."""
    name = info["experiment"]
    model = load_model(run.model_dir / f"{name}.keras")
    dataset = data.load(info["config"]["dataset"], info.get("data_source", "bundled"), verbose=False)
    test = dataset.test.take(real_test_limit(limit, info["config"]))
    started = time.perf_counter()
    bounds = vae_bounds(model, test.images.astype("float32") / 255.0, samples=samples,
                        seed=info["config"]["seed"])
    return {**{k: round(v, 3) for k, v in bounds.items()}, "unit": "nats per image",
            "iwae_samples": samples, "test_images": len(test), "data": dataset.description,
            "seconds": round(time.perf_counter() - started, 1)}
