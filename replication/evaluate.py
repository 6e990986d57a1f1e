"""``scripts/evaluate.py RUN_DIR...``: quantitative evaluation of finished runs -> metrics.json.

Implemented so far: the VAEs' test-set bounds (single-sample negative ELBO, IWAE with k
importance samples, reconstruction), in nats per image.  The GAN metrics (FID/KID/IS over a
pluggable extractor, conditional accuracy) are not implemented yet and are reported as such.
"""

from __future__ import annotations

import argparse
import sys
import time

from replication.runs import RunDir, now, write_json

VAE_EXPERIMENTS = ("vae", "effnet_vae")


def evaluate_vae(run: RunDir, info: dict, samples: int, limit: int | None) -> dict:
    import keras

    from replication import data
    from replication.metrics import vae_bounds

    name = info["experiment"]
    model = keras.saving.load_model(run.model_dir / f"{name}.keras")
    dataset = data.load(info["config"]["dataset"], info.get("data_source", "bundled"), verbose=False)
    test = dataset.test.take(limit)
    started = time.perf_counter()
    bounds = vae_bounds(model, test.images.astype("float32") / 255.0, samples=samples,
                        seed=info["config"]["seed"])
    return {**{k: round(v, 3) for k, v in bounds.items()}, "unit": "nats per image",
            "iwae_samples": samples, "test_images": len(test), "data": dataset.description,
            "seconds": round(time.perf_counter() - started, 1)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python scripts/evaluate.py", description=__doc__)
    parser.add_argument("runs", nargs="+", metavar="RUN_DIR")
    parser.add_argument("--iwae-samples", type=int, default=1000,
                        help="importance samples per test image (default 1000)")
    parser.add_argument("--limit", type=int, help="evaluate only this many test images")
    args = parser.parse_args(argv)
    status = 0
    for path in args.runs:
        run = RunDir(path)
        try:
            info = run.info()
        except (FileNotFoundError, ValueError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            status = 2
            continue
        if info.get("state") != "finished":
            print(f"error: {path} is not finished ({info.get('state')}); finish it with --resume",
                  file=sys.stderr)
            status = 2
            continue
        if info["experiment"] not in VAE_EXPERIMENTS:
            print(f"{path}: GAN metrics (FID/KID/IS, conditional accuracy) are not implemented "
                  "yet", file=sys.stderr)
            status = 2
            continue
        result = evaluate_vae(run, info, args.iwae_samples, args.limit)
        write_json(run.path / "metrics.json", {"experiment": info["experiment"],
                                               "profile": info["config"]["profile"],
                                               "epochs": info.get("epochs_done"),
                                               "evaluated_at": now(), **result})
        print(f"{path}: -ELBO {result['neg_elbo']:.2f}, -IWAE(k={args.iwae_samples}) "
              f"{result['neg_iwae']:.2f}, reconstruction {result['reconstruction']:.2f} nats "
              f"per image over {result['test_images']} test images ({result['seconds']} s)")
    return status
