"""Results over seeds: each study variant's 10,000-sample numbers as the mean and the range
over its seeds, and which seed ships.

A single GAN run says little: seed-to-seed spread is of the size of the differences between
methods (Lucic et al. 2018, "Are GANs created equal?").  So every headline row of the results
is a variant of a study trained on several seeds by the same code and settings
(``python -m replication study run EXPERIMENT --variants V --seeds 0,1,2``), evaluated
(``python -m replication evaluate RUN``) and recorded (``study record``); this module reads
those records and prints, per variant, each number as ``mean (min-max)`` with the seeds it
rests on, and names the seed that ships in ``pretrained/`` (the record whose ``history.csv``
is the shipped run's: the same run, byte for byte).

``python -m replication seeds EXPERIMENT [--profile P] [--runs figures/studies/records]``;
``python -m replication pages`` writes these tables, and the README's results table, into the
pages (:mod:`replication.pages`).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

import numpy as np

from replication import experiments, study
from replication.cli import script_main
from replication.config import FULL_SCHEDULE_PROFILES, PROFILES, ConfigError
from replication.errors import run_command
from replication.runs import read_json, shipped_runs

# The numbers of a row: (key in metrics.json, heading, format of the mean, of the range, scale).
# GANs: the trained and the averaged generator of evaluate's classifier block (conditional
# accuracy for the conditional ones); VAEs: the test bounds.
GAN_NUMBERS = (("FID", "FID", "{:.1f}", "{:.1f}", 1.0),
               ("conditional_accuracy", "conditional accuracy (%)", "{:.1f}", "{:.1f}", 100.0),
               ("class_coverage", "classes covered", "{:.1f}", "{:.0f}", 1.0))
VAE_NUMBERS = (("neg_elbo", "negative ELBO (nats)", "{:.2f}", "{:.2f}", 1.0),
               ("neg_iwae", "negative IWAE bound (nats)", "{:.2f}", "{:.2f}", 1.0))
GENERATORS = (("model", "trained"), ("averaged", "averaged"))


@dataclass
class Row:
    """One variant: its seeds, each number's values over them, and the shipped seed."""

    variant: str
    settings: str
    seeds: list[int] = field(default_factory=list)
    values: dict[str, list[float]] = field(default_factory=dict)  # "FID/trained" -> per seed
    unevaluated: list[int] = field(default_factory=list)
    shipped: list[tuple[int, str]] = field(default_factory=list)  # (seed, pretrained folder)


def numbers_of(experiment: str) -> tuple:
    spec = experiments.get(experiment)
    if spec.likelihood:
        return VAE_NUMBERS
    return tuple(n for n in GAN_NUMBERS
                 if spec.conditional or n[0] != "conditional_accuracy")


def _values(experiment: str, metrics: dict) -> dict[str, float]:
    """The row's numbers of one evaluated run (``metrics.json``)."""
    out = {}
    if experiments.get(experiment).likelihood:
        for key, *_ in VAE_NUMBERS:
            if key in metrics:
                out[key] = float(metrics[key])
        return out
    block = metrics.get("gan", {}).get("classifier", {})
    for key, *_, scale in GAN_NUMBERS:
        for part, name in GENERATORS:
            if key in block.get(part, {}):
                out[f"{key}/{name}"] = float(block[part][key]) * scale
    return out


def rows(experiment: str, root="runs", profile: str = "report", pretrained=None) -> list[Row]:
    """A :class:`Row` per study variant that has runs under ``root`` (run directories or their
    records), in the study's order."""
    shipped = {}
    for run in shipped_runs(experiment, pretrained).values():
        if run.history_file.exists():
            shipped[run.history_file.read_bytes()] = run.path.name
    out: dict[str, Row] = {}
    for variant, seed, run in study.study_runs(experiment, root, profile):
        row = out.setdefault(variant.name, Row(variant.name, variant.describe()))
        if run.info().get("state") != "finished":
            continue
        row.seeds.append(seed)
        metrics_file = run.path / "metrics.json"
        values = _values(experiment, read_json(metrics_file)) if metrics_file.exists() else {}
        if not values:
            row.unevaluated.append(seed)
        for key, value in values.items():
            row.values.setdefault(key, []).append(value)
        folder = shipped.get(run.history_file.read_bytes())
        if folder:
            row.shipped.append((seed, folder))
    return [row for row in out.values() if row.seeds]


def spread(values: list[float], fmt: str, range_fmt: str | None = None) -> str:
    """``mean (min–max)`` of ``values`` (the range in ``range_fmt``); the value alone for one."""
    if not values:
        return "—"
    ends = range_fmt or fmt
    if len(values) == 1:
        return ends.format(values[0])
    return (f"{fmt.format(float(np.mean(values)))} "
            f"({ends.format(min(values))}–{ends.format(max(values))})")


def table(experiment: str, root="runs", profile: str = "report", pretrained=None) -> list[str]:
    """The markdown table of :func:`rows`: a row per variant, each number as its mean and range
    over the finished, evaluated seeds (trained / averaged generator for the GANs)."""
    found = rows(experiment, root, profile, pretrained)
    if not found:
        raise ConfigError(f"no finished study runs of {experiment} at the {profile} profile "
                          f"under {root}")
    gan = not experiments.get(experiment).likelihood
    numbers = numbers_of(experiment)
    heads = [f"{head}, {'trained / averaged' if gan else 'test split'}: mean (range)"
             for _, head, *_ in numbers]
    lines = ["| variant | seeds | " + " | ".join(heads) + " | shipped |",
             "|---|---|" + "---|" * len(heads) + "---|"]
    for row in found:
        cells = []
        for key, _, fmt, range_fmt, _ in numbers:
            if gan:
                cells.append(" / ".join(spread(row.values.get(f"{key}/{name}", []), fmt,
                                               range_fmt) for _, name in GENERATORS))
            else:
                cells.append(spread(row.values.get(key, []), fmt, range_fmt))
        seeds = ", ".join(map(str, row.seeds))
        if row.unevaluated:
            seeds += f" (not evaluated: {', '.join(map(str, row.unevaluated))})"
        shipped = "; ".join(f"seed {seed}: `pretrained/{folder}`" for seed, folder in row.shipped)
        lines.append(f"| {row.variant} | {len(row.seeds)}: {seeds} | " + " | ".join(cells)
                     + f" | {shipped or '—'} |")
    return lines


def seeds_of(experiment: str, variant: str, root="runs", profile: str = "report") -> list[int]:
    """The finished seeds of one variant (for checks and tests)."""
    for row in rows(experiment, root, profile):
        if row.variant == variant:
            return row.seeds
    return []


def faithful_variant(experiment: str, profile: str = "report") -> str | None:
    """The study variant that trains the profile's own recipe (no setting changed), if any."""
    default = experiments.make_config(experiment, profile)
    for variant in study.variants_of(experiment):
        trained = experiments.make_config(experiment, profile, **variant.settings)
        if not experiments.settings_changed(trained, default):
            return variant.name
    return None


def _cell(experiment: str, row: Row | None) -> str | None:
    """A row's headline numbers: the mean over its finished, evaluated seeds (trained
    generator), and how many; None before any is evaluated."""
    evaluated = len(row.seeds) - len(row.unevaluated) if row else 0
    if not evaluated:
        return None
    values = row.values
    if experiments.get(experiment).likelihood:
        cell = f"−ELBO {np.mean(values['neg_elbo']):.2f} nats"
    else:
        cell = f"FID {np.mean(values['FID/trained']):.1f}"
        if "conditional_accuracy/trained" in values:
            cell = f"{np.mean(values['conditional_accuracy/trained']):.1f} %, " + cell
        cell += f", {np.mean(values['class_coverage/trained']):.3g}/10"
    return cell + f" ({evaluated} seed{'s' if evaluated > 1 else ''})"


def headline(experiment: str, root=None, pretrained=None) -> str:
    """The README's cell for ``experiment``: the report recipe's numbers at the report's
    schedule, the mean over its finished, evaluated seeds (trained generator), and how many."""
    root = study.RECORDS if root is None else root
    name = faithful_variant(experiment)
    row = next((r for r in rows(experiment, root, "report", pretrained) if r.variant == name),
               None)
    return _cell(experiment, row) or "training"


def departures(experiment: str, root=None, pretrained=None) -> list[tuple[str, str, str]]:
    """``experiment``'s shipped departures: for each named variant that ships (found by its
    record being the shipped run), the shipped run's name (``sample --run NAME``), its study
    variant and schedule, and its numbers as :func:`headline`'s."""
    root = study.RECORDS if root is None else root
    found = []
    for profile in FULL_SCHEDULE_PROFILES:
        faithful = faithful_variant(experiment, profile)
        for row in rows(experiment, root, profile, pretrained):
            if row.variant == faithful:
                continue
            for _, folder in row.shipped:
                where = row.variant + ("" if profile == "report" else f", {profile} schedule")
                found.append((folder.removeprefix(f"{experiment}_"), where,
                              _cell(experiment, row) or "not evaluated"))
    return found


def results_table(root=None, pretrained=None) -> list[str]:
    """The README's results table: per experiment what the report shows, what its recipe
    reaches here (:func:`headline`) and the figure; under it a row per shipped departure
    (:func:`departures`)."""
    lines = ["| experiment | the report shows | what it reaches here | figure |",
             "|---|---|---|---|"]
    for spec in experiments.of_report():
        figure = spec.headline_figure
        lines.append(f"| `{spec.name}` | {spec.report_shows} | "
                     f"{headline(spec.name, root, pretrained)} | "
                     f"[{figure}](figures/{figure}.png) |")
        for name, where, cell in departures(spec.name, root, pretrained):
            lines.append(f"| ↳ `{name}` ({where}) | | {cell} | |")
    return lines


HELP = "each study variant's numbers as mean and range over its seeds, and the seed that ships"
DESCRIPTION = ("Each study variant's 10,000-sample numbers (evaluate's) as the mean and the "
               "range over its finished seeds, and which seed ships in pretrained/.")


def add_arguments(parser) -> None:
    parser.add_argument("experiment", choices=study.studied(), help="the study")
    parser.add_argument("--profile", choices=PROFILES, default="report",
                        help="the schedule of the study runs (default %(default)s)")
    parser.add_argument("--runs", default=str(study.RECORDS), metavar="DIR",
                        help="runs root, or the committed records (default %(default)s)")


def run_cli(args, parser) -> int:
    return run_command(lambda: print("\n".join(table(args.experiment, args.runs,
                                                     args.profile))))


def main(argv=None) -> int:
    return script_main("python -m replication seeds", sys.modules[__name__], argv)


if __name__ == "__main__":
    sys.exit(main())
