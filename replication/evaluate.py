"""``scripts/evaluate.py RUN_DIR...``: quantitative evaluation of finished runs.

Writes ``RUN_DIR/metrics.json`` for each run and, with ``--table DIR``, the comparison table
``DIR/metrics.md`` + ``DIR/metrics.json`` (which the gallery shows) beside the published
numbers of SPEC.

* **VAEs** (``vae``, ``effnet_vae``): test-set negative ELBO, the importance-weighted bound
  (IWAE, ``--iwae-samples`` k, default 1000) and the reconstruction error, in nats per image.
* **GANs** (``dcgan``, ``cgan``, ``acgan``): ``--samples`` N generated images (default 10,000;
  class-balanced for the conditional models) against the whole real test split, through the
  ``--extractor`` (``classifier``: the project's own classifier, offline, default;
  ``inception``: Keras InceptionV3 with ImageNet weights): FID, KID (mean ± sd over subsets),
  Inception Score (the *classifier score* with the classifier extractor), class coverage, and
  for the conditional models the conditional accuracy (share of the samples generated for
  class c that the classifier puts in class c).  Two reference rows go with every model: the
  real training split against the test split (the floor any generator can reach) and the
  untrained generator (the ceiling).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from replication import experiments
from replication.runs import (AVERAGED_GENERATOR_FILE, GENERATOR_FILE, RunDir, atomic_path, now,
                              read_json, write_json)

# The rows a GAN run gives: its trained generator, its averaged generator (when the run has
# one), and the two references.
GAN_ROW_KINDS = ("model", "averaged", "untrained_generator", "real_train")


def published_rows() -> list[dict]:
    """The published numbers the table shows beside ours (from the experiment registry)."""
    return [{"experiment": spec.name, **row} for spec in experiments.of_report()
            for row in spec.published]


TEST_SPLIT_SIZE = 10_000  # MNIST's and CIFAR-10's test splits


def _test_limit(limit: int | None, config: dict) -> int | None:
    """How many real test images to use: ``--limit``, else the run's own evaluation split
    (``eval_examples``; None means the whole test split)."""
    return limit or config.get("eval_examples")


# ------------------------------------------------------------------------------------------
# VAEs


def evaluate_vae(run: RunDir, info: dict, samples: int, limit: int | None) -> dict:
    import keras

    from replication import data
    from replication.metrics import vae_bounds

    name = info["experiment"]
    model = keras.saving.load_model(run.model_dir / f"{name}.keras")
    dataset = data.load(info["config"]["dataset"], info.get("data_source", "bundled"), verbose=False)
    test = dataset.test.take(_test_limit(limit, info["config"]))
    started = time.perf_counter()
    bounds = vae_bounds(model, test.images.astype("float32") / 255.0, samples=samples,
                        seed=info["config"]["seed"])
    return {**{k: round(v, 3) for k, v in bounds.items()}, "unit": "nats per image",
            "iwae_samples": samples, "test_images": len(test), "data": dataset.description,
            "seconds": round(time.perf_counter() - started, 1)}


# ------------------------------------------------------------------------------------------
# GANs


def generate(generator, num: int, noise_dim: int, num_classes: int = 0, seed: int = 0,
             batch_size: int = 500) -> tuple[np.ndarray, np.ndarray | None]:
    """``num`` uint8 samples from ``generator`` (N(0, I) noise); class-balanced labels
    ``0, 1, ..., K-1, 0, 1, ...`` when ``num_classes`` (returned with the images)."""
    from replication.data import unscale_images

    rng = np.random.default_rng(seed)
    noise = rng.standard_normal((num, noise_dim)).astype(np.float32)
    labels = (np.arange(num) % num_classes).astype(np.int32) if num_classes else None
    out = []
    for start in range(0, num, batch_size):
        z = noise[start:start + batch_size]
        inputs = [z, labels[start:start + batch_size]] if num_classes else z
        out.append(unscale_images(np.asarray(generator(inputs, training=False)), "tanh"))
    return np.concatenate(out), labels


def sample_metrics(features, logits, reference_features, num_classes: int,
                   intended_labels=None, kid_subsets: int = 100, kid_subset_size: int = 1000,
                   seed: int = 0) -> dict:
    """FID / KID / IS / coverage (and conditional accuracy) of one sample set."""
    from replication.metrics import (class_coverage, conditional_accuracy, frechet_distance,
                                     inception_score, kernel_inception_distance)

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
    return out


class _References:
    """Real-data features per (dataset, extractor), computed once per invocation."""

    def __init__(self):
        self._cache = {}

    def get(self, key, compute):
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]


def evaluate_gan(run: RunDir, info: dict, extractor, references: _References, *, samples: int,
                 limit: int | None, kid_subsets: int, kid_subset_size: int) -> dict:
    import keras

    from replication import data
    from replication.config import config_from_dict

    name = info["experiment"]
    config = config_from_dict(info["config"])
    dataset = data.load(config.dataset, info.get("data_source", "bundled"), verbose=False)
    k = dataset.num_classes
    conditional = experiments.get(name).conditional
    started = time.perf_counter()
    test = dataset.test.take(_test_limit(limit, info["config"]))
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

    generator = keras.saving.load_model(run.model_dir / GENERATOR_FILE)
    model_row = generated_row(generator)
    averaged_file = run.model_dir / AVERAGED_GENERATOR_FILE
    averaged_row = None
    if averaged_file.exists():  # the averaged generator (EMA), scored on the same inputs
        averaged_row = generated_row(keras.saving.load_model(averaged_file))
    keras.utils.set_random_seed(config.seed)
    untrained, _ = experiments.get(name).networks(config, dataset.image_shape, k)
    untrained_row = generated_row(untrained)
    if not conditional:
        real = {key: value for key, value in real.items() if key != "conditional_accuracy"}
    return {"extractor": extractor.name, "extractor_description": extractor.description,
            "samples": samples, "reference": f"real test split ({len(test)} images)",
            "kid": f"unbiased polynomial-kernel MMD^2, {kid_subsets} subsets of "
                   f"{min(kid_subset_size, samples, len(test))}",
            "data": dataset.description, "model": model_row,
            **({"averaged": averaged_row} if averaged_row is not None else {}),
            "untrained_generator": untrained_row,
            "real_train": real, "seconds": round(time.perf_counter() - started, 1)}


# ------------------------------------------------------------------------------------------
# The comparison table


def table_rows(run_path: str, metrics: dict) -> list[dict]:
    """The rows one run's ``metrics.json`` contributes to the comparison table."""
    base = {"experiment": metrics["experiment"], "run": run_path, "profile": metrics["profile"],
            "epochs": metrics["epochs"], "evaluated_at": metrics.get("evaluated_at")}
    if "neg_elbo" in metrics:
        return [{**base, "kind": "vae", **{k: metrics[k] for k in
                                           ("neg_elbo", "neg_iwae", "reconstruction",
                                            "iwae_samples", "test_images")}}]
    rows = []
    for extractor, result in metrics.get("gan", {}).items():
        for which in GAN_ROW_KINDS:
            if which not in result:
                continue
            rows.append({**base, "kind": which, "extractor": extractor,
                         "extractor_description": result["extractor_description"],
                         "samples": result["samples"], **result[which]})
    return rows


def title(experiment: str) -> str:
    return experiments.get(experiment).title


def _fmt(row, key, spec=".2f"):
    value = row.get(key)
    if value is None:
        return "—"
    sd = row.get(f"{key}_sd")
    return f"{value:{spec}} ± {sd:{spec}}" if sd is not None else f"{value:{spec}}"


def render_table(rows: list[dict]) -> list[str]:
    """Markdown: the VAE bounds, then the GAN metrics beside the published numbers."""
    lines = []
    vae_rows = [r for r in rows if r["kind"] == "vae"]
    if vae_rows:
        lines += ["**VAEs** — MNIST test split, nats per image (lower is better).", "",
                  "| model | run | −ELBO | −IWAE (k) | reconstruction |", "|---|---|---|---|---|"]
        for r in vae_rows:
            lines.append(f"| {title(r['experiment'])} | `{r['profile']}`, {r['epochs']} "
                         f"epochs | {r['neg_elbo']:.2f} | {r['neg_iwae']:.2f} "
                         f"({r['iwae_samples']}) | {r['reconstruction']:.2f} |")
        lines.append("")
    gan_rows = [r for r in rows if r["kind"] != "vae"]
    if gan_rows:
        lines += [
            "**GANs** — N generated samples against the whole real test split. FID and KID: "
            "lower is better; IS (the *classifier score* with the project classifier): higher "
            "is better. *Conditional accuracy*: share of the samples generated for class c that "
            "the classifier assigns to c. *Coverage*: classes predicted for at least half their "
            "fair share of the samples. Each model comes with its two references: the real "
            "training split (the floor) and the untrained generator (the ceiling). Published "
            "numbers use the TF Inception graph and are only comparable with the `inception` "
            "rows, never with the classifier-space rows.", "",
            "| model | row | extractor, N | FID | KID | IS | conditional accuracy | "
            "coverage |", "|---|---|---|---|---|---|---|---|"]
        labels = dict(zip(GAN_ROW_KINDS, ("this project", "this project, averaged G (EMA)",
                                          "untrained G (ceiling)", "real train vs test (floor)")))
        for experiment in experiments.names("gan"):
            mine = [r for r in gan_rows if r["experiment"] == experiment]
            for r in sorted(mine, key=lambda r: (r["extractor"], list(labels).index(r["kind"]))):
                who = labels[r["kind"]]
                if r["kind"] in ("model", "averaged"):
                    who += f" (`{r['profile']}`, {r['epochs']} epochs)"
                accuracy = r.get("conditional_accuracy")
                lines.append(
                    f"| {title(experiment)} | {who} | {r['extractor']}, {r['samples']:,} | "
                    f"{_fmt(r, 'FID')} | {_fmt(r, 'KID', '.4g')} | {_fmt(r, 'IS')} | "
                    f"{'—' if accuracy is None else f'{100 * accuracy:.1f} %'} | "
                    f"{r['class_coverage']}/{r['num_classes']} |")
            for p in experiments.get(experiment).published:
                lines.append(f"| {title(experiment)} | published: {p['source']} | "
                             f"TF Inception graph | {p.get('FID', '—')} | — | "
                             f"{p.get('IS', '—')} | — | — |")
        lines.append("")
        descriptions = sorted({f"`{r['extractor']}`: {r['extractor_description']}"
                               for r in gan_rows})
        lines += ["Extractors: " + "; ".join(descriptions) + ".", ""]
    return lines


def update_table(out: Path, new_rows: list[dict]) -> Path:
    """Merge ``new_rows`` into ``out/metrics.json`` (replacing rows of the same experiment and
    kind/extractor) and rewrite ``out/metrics.md``."""
    out.mkdir(parents=True, exist_ok=True)
    store = out / "metrics.json"
    rows = read_json(store)["rows"] if store.exists() else []
    key = lambda r: (r["experiment"], r["kind"], r.get("extractor"))
    replaced = {key(r) for r in new_rows}
    rows = [r for r in rows if key(r) not in replaced] + new_rows
    order = {e: i for i, e in enumerate(experiments.names())}
    rows.sort(key=lambda r: order.get(r["experiment"], 99))
    write_json(store, {"rows": rows, "published": published_rows(), "updated_at": now()})
    with atomic_path(out / "metrics.md", suffix=".md") as tmp:
        tmp.write_text("\n".join(["# Quantitative evaluation", ""] + render_table(rows)))
    return out / "metrics.md"


# ------------------------------------------------------------------------------------------
# Command line


def main(argv=None) -> int:
    from replication.extractors import EXTRACTORS, ExtractorError, make_extractor

    parser = argparse.ArgumentParser(
        prog="python scripts/evaluate.py", formatter_class=argparse.RawDescriptionHelpFormatter,
        description=__doc__.split("\n", 2)[2])
    parser.add_argument("runs", nargs="+", metavar="RUN_DIR", help="finished run directories")
    parser.add_argument("--iwae-samples", type=int, default=1000,
                        help="VAEs: importance samples per test image (default 1000)")
    parser.add_argument("--samples", type=int, default=10_000,
                        help="GANs: generated samples (default 10000)")
    parser.add_argument("--extractor", choices=EXTRACTORS, default="classifier",
                        help="GANs: feature extractor (default: classifier, offline)")
    parser.add_argument("--inception-weights", default="imagenet", metavar="imagenet|PATH",
                        help="InceptionV3 weights: 'imagenet' (download) or a local .h5 file")
    parser.add_argument("--classifier-profile", default="report",
                        choices=("smoke", "quick", "report"),
                        help="schedule of the cached classifier (smoke: tests only)")
    parser.add_argument("--kid-subsets", type=int, default=100)
    parser.add_argument("--kid-subset-size", type=int, default=1000)
    parser.add_argument("--limit", type=int,
                        help="use only this many real test images (default: the run's own "
                             "evaluation split: all of it for quick/report runs)")
    parser.add_argument("--force", action="store_true",
                        help="re-evaluate even when metrics.json holds results for the same "
                             "epochs and settings (by default those are reused)")
    parser.add_argument("--table", metavar="DIR",
                        help="also merge the results into DIR/metrics.md and DIR/metrics.json "
                             "(the gallery's comparison table), e.g. figures")
    args = parser.parse_args(argv)
    for name in ("iwae_samples", "samples", "kid_subsets", "kid_subset_size"):
        if getattr(args, name) < 2:
            parser.error(f"--{name.replace('_', '-')} must be at least 2")
    if args.limit is not None and args.limit < 2:
        parser.error("--limit must be at least 2")

    status = 0
    extractors: dict = {}
    references = _References()
    table: list[dict] = []
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
        name = info["experiment"]
        previous = read_json(run.path / "metrics.json") if (run.path / "metrics.json").exists() else {}
        if previous.get("epochs") != info.get("epochs_done"):
            previous = {}  # the run has trained on since: old numbers no longer apply
        header = {"experiment": name, "profile": info["config"]["profile"],
                  "epochs": info.get("epochs_done"), "evaluated_at": now()}
        family = experiments.get(name).family if name in experiments.names() else None
        if family == "vae":
            reuse = (not args.force and previous.get("iwae_samples") == args.iwae_samples
                     and previous.get("test_images")
                     == (_test_limit(args.limit, info["config"]) or TEST_SPLIT_SIZE))
            if reuse:
                result = {k: v for k, v in previous.items() if k not in header}
                print(f"{path}: reusing metrics.json (same epochs and settings; --force redoes it)")
            else:
                result = evaluate_vae(run, info, args.iwae_samples, args.limit)
            metrics = {**header, **result}
            print(f"{path}: -ELBO {result['neg_elbo']:.2f}, -IWAE(k={args.iwae_samples}) "
                  f"{result['neg_iwae']:.2f}, reconstruction {result['reconstruction']:.2f} nats "
                  f"per image over {result['test_images']} test images ({result['seconds']} s)")
        elif family == "gan":
            dataset = info["config"]["dataset"]
            settings = {"samples": args.samples, "limit": args.limit,
                        "kid_subsets": args.kid_subsets, "kid_subset_size": args.kid_subset_size,
                        **({"classifier_profile": args.classifier_profile}
                           if args.extractor == "classifier"
                           else {"inception_weights": args.inception_weights})}
            result = previous.get("gan", {}).get(args.extractor)
            if not args.force and result is not None and result.get("settings") == settings:
                print(f"{path}: reusing metrics.json (same epochs and settings; --force redoes it)")
            else:
                key = (args.extractor, dataset)
                try:
                    if key not in extractors:
                        extractors[key] = make_extractor(
                            args.extractor, dataset, inception_weights=args.inception_weights,
                            classifier_profile=args.classifier_profile,
                            data_source=info.get("data_source", "bundled"))
                except ExtractorError as exc:
                    print(f"error: {exc}", file=sys.stderr)
                    return 2
                result = evaluate_gan(run, info, extractors[key], references,
                                      samples=args.samples, limit=args.limit,
                                      kid_subsets=args.kid_subsets,
                                      kid_subset_size=args.kid_subset_size)
                result["settings"] = settings
            metrics = {**header, "gan": {**previous.get("gan", {}), args.extractor: result}}
            m, u, r = result["model"], result["untrained_generator"], result["real_train"]

            def summary(row):
                extra = (f", conditional accuracy {100 * row['conditional_accuracy']:.1f} %"
                         if "conditional_accuracy" in row else "")
                return (f"FID {row['FID']:.2f}, KID {row['KID']:.4g}, IS {row['IS']:.2f}, "
                        f"coverage {row['class_coverage']}{extra}")

            print(f"{path}: {args.extractor}, N={args.samples}: {summary(m)} (untrained FID "
                  f"{u['FID']:.2f}, real {r['FID']:.2f}) ({result['seconds']} s)")
            if "averaged" in result:
                print(f"{path}: averaged generator (EMA): {summary(result['averaged'])}")
        else:
            print(f"error: {path} holds a {name} run, which has no evaluation", file=sys.stderr)
            status = 2
            continue
        write_json(run.path / "metrics.json", metrics)
        table += table_rows(str(path), metrics)
    if args.table and table:
        print(f"table: {update_table(Path(args.table), table)}")
    return status
