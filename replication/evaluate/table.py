"""The comparison table: the rows each run's ``metrics.json`` gives, merged into
``DIR/metrics.json`` and rendered as ``DIR/metrics.md`` (the gallery shows it)."""

from __future__ import annotations

from pathlib import Path

from replication import experiments
from replication.runs import atomic_path, now, read_json, write_json

# The rows a GAN run gives: its trained generator, its averaged generator (when the run has
# one), and the two references.
GAN_ROW_KINDS = ("model", "averaged", "untrained_generator", "real_train")




def published_rows() -> list[dict]:
    """The published numbers the table shows beside ours."""
    return [{"experiment": spec.name, **row} for spec in experiments.of_report()
            for row in spec.published]


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


def _pair(row, first, second) -> str:
    if first not in row:
        return "—"
    return f"{row[first]:.3f} / {row[second]:.3f}"


GAN_INTRO = (
    "**GANs** — N generated samples against the whole real test split. FID and KID: lower is "
    "better; IS (the *classifier score* with the project classifier): higher is better. "
    "*Conditional accuracy*: share of the samples generated for class c that the classifier "
    "assigns to c. *Coverage*: classes predicted for at least half their fair share of the "
    "samples. Each model comes with its two references: the real training split (the floor) "
    "and the untrained generator (the ceiling). Published numbers use the TF Inception graph "
    "and are only comparable with the `inception` rows, never with the classifier-space rows.",
    "*Precision / recall* (fidelity / diversity) and *density / coverage*: k-NN manifolds of "
    "the features, k = 5 (Kynkäänniemi et al. 2019; Naeem et al. 2020); *intra-class FID*: FID "
    "per class against that class's real test images, averaged (conditional models). The "
    "`lite0` rows are in EfficientNet-Lite0's ImageNet feature space, trained on nothing of "
    "CIFAR-10: no classifier, so no IS, accuracy or class coverage there.")
ROW_LABELS = dict(zip(GAN_ROW_KINDS, ("this project", "this project, averaged G (EMA)",
                                      "untrained G (ceiling)", "real train vs test (floor)")))


def _vae_lines(vae_rows: list[dict]) -> list[str]:
    lines = ["**VAEs** — MNIST test split, nats per image (lower is better).", "",
             "| model | run | −ELBO | −IWAE (k) | reconstruction |", "|---|---|---|---|---|"]
    for r in vae_rows:
        lines.append(f"| {title(r['experiment'])} | `{r['profile']}`, {r['epochs']} "
                     f"epochs | {r['neg_elbo']:.2f} | {r['neg_iwae']:.2f} "
                     f"({r['iwae_samples']}) | {r['reconstruction']:.2f} |")
    return lines + [""]


def _gan_experiment_lines(experiment: str, gan_rows: list[dict]) -> list[str]:
    """One GAN experiment's rows: each run's trained and averaged G, then a ceiling and a floor
    once per extractor, then the published numbers."""
    lines = []
    kinds = list(ROW_LABELS)
    mine = [r for r in gan_rows if r["experiment"] == experiment]
    runs = list(dict.fromkeys(r["run"] for r in mine))  # in the order given
    references = set()  # a ceiling and a floor once per experiment and extractor
    for r in sorted(mine, key=lambda r: (r["extractor"], kinds.index(r["kind"]) >= 2,
                                         runs.index(r["run"]), kinds.index(r["kind"]))):
        who = ROW_LABELS[r["kind"]]
        if r["kind"] in ("model", "averaged"):
            folder = Path(r["run"])  # named when it is one of several, or a variant
            named = len(runs) > 1 or (folder.parent.name == "pretrained"
                                      and folder.name != experiment)
            name = f"`{folder.name}`, " if named else ""
            who += f" ({name}`{r['profile']}`, {r['epochs']} epochs)"
        elif (r["kind"], r["extractor"]) in references:
            continue
        else:
            references.add((r["kind"], r["extractor"]))
        accuracy = r.get("conditional_accuracy")
        classes = (f"{r['class_coverage']}/{r['num_classes']}" if "class_coverage" in r
                   else "—")
        lines.append(
            f"| {title(experiment)} | {who} | {r['extractor']}, {r['samples']:,} | "
            f"{_fmt(r, 'FID')} | {_fmt(r, 'KID', '.4g')} | {_fmt(r, 'IS')} | "
            f"{'—' if accuracy is None else f'{100 * accuracy:.1f} %'} | {classes} | "
            f"{_pair(r, 'precision', 'recall')} | {_pair(r, 'density', 'coverage')} | "
            f"{_fmt(r, 'intra_class_FID')} |")
    for p in experiments.get(experiment).published:
        lines.append(f"| {title(experiment)} | published: {p['source']} | "
                     f"TF Inception graph | {p.get('FID', '—')} | — | "
                     f"{p.get('IS', '—')} | — | — | — | — | — |")
    return lines


def render_table(rows: list[dict]) -> list[str]:
    """Markdown: the VAE bounds, then the GAN metrics beside the published numbers."""
    vae_rows = [r for r in rows if r["kind"] == "vae"]
    lines = _vae_lines(vae_rows) if vae_rows else []
    gan_rows = [r for r in rows if r["kind"] != "vae"]
    if gan_rows:
        lines += [GAN_INTRO[0], "", GAN_INTRO[1], "",
                  "| model | row | extractor, N | FID | KID | IS | conditional accuracy | "
                  "classes | precision / recall | density / coverage | intra-class FID |",
                  "|---|---|---|---|---|---|---|---|---|---|---|"]
        for spec in experiments.of_report():
            if not spec.likelihood:
                lines += _gan_experiment_lines(spec.name, gan_rows)
        lines.append("")
        descriptions = sorted({f"`{r['extractor']}`: {r['extractor_description']}"
                               for r in gan_rows})
        lines += ["Extractors: " + "; ".join(descriptions) + ".", ""]
    return lines


def update_table(out: Path, new_rows: list[dict], fresh: bool = False) -> Path:
    """Merge ``new_rows`` into ``out/metrics.json`` (replacing rows of the same run, kind and
    extractor; ``fresh``: replacing every row) and rewrite ``out/metrics.md``."""
    out.mkdir(parents=True, exist_ok=True)
    store = out / "metrics.json"
    rows = read_json(store)["rows"] if store.exists() and not fresh else []
    key = lambda r: (r["experiment"], r.get("run"), r["kind"], r.get("extractor"))
    replaced = {key(r) for r in new_rows}
    rows = [r for r in rows if key(r) not in replaced] + new_rows
    order = {e: i for i, e in enumerate(experiments.names())}
    rows.sort(key=lambda r: order.get(r["experiment"], 99))
    write_json(store, {"rows": rows, "published": published_rows(), "updated_at": now()})
    with atomic_path(out / "metrics.md", suffix=".md") as tmp:
        tmp.write_text("\n".join(["# Quantitative evaluation", ""] + render_table(rows)))
    return out / "metrics.md"
