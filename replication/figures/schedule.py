"""A run at the paper's schedule beside the report's run: the gallery's section on it.

The report trained the AC-GAN for 18 epochs of 500 iterations (9,000); the paper's table says
50,000.  The ``paper`` profile runs that schedule, and its shipped run (the faithful one,
``pretrained/acgan_paper``, or else a named variant, ``pretrained/acgan_paper-real-cls``:
:func:`replication.runs.shipped_at`) adds, beside the report's own figures 22-28 (which stay
drawn from the report run: that is what the report shows), into ``figures/<experiment>_paper/``:

* ``grid.png`` / ``grid_ema.png``: the last epoch's class grid, trained and averaged G;
* ``same_noise.png``: the class grid of the same noise and labels at the report's last
  iteration and at the paper's last, side by side (trained G);
* ``curves.png``: the tracked FID, conditional accuracy and class coverage per iteration of the
  report run, the paper run and any other runs at the paper's schedule (a study's variants);
* ``table.md``: the same runs in numbers: each one's 10,000-sample evaluation
  (``evaluate.py``'s ``metrics.json``, where it was made after the run's last epoch) and its
  tracked values (three-epoch means) at the report's end and every quarter of the schedule.

The other runs are read from their ``history.csv`` / ``metrics.json`` only, so a study's
committed records (no snapshots, :func:`replication.study.record`) draw their curves too.
Every run is labelled with the ``train`` flags by which it departs from its profile
(:func:`settings_flags`, e.g. ``--class-loss real``), and so is the gallery's section.

Every file goes into the folder's ``manifest.json`` like the report's figures, and
:func:`gallery_section` turns them into the gallery's section.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from replication import experiments, plots
from replication.cli import settings_words
from replication.data import train_size
from replication.figures.core import Context, FigureError
from replication.figures.gan import AVERAGED_NOTE, QUALITY_TAG, class_grid_figure
from replication.figures.manifest import manifest_entry, update_manifest
from replication.runs import RunDir, atomic_path, provenance_line, read_json

PROFILE = "paper"
TABLE_FILE = "table.md"
FILES = ("grid.png", "grid_ema.png", "same_noise.png", "curves.png", TABLE_FILE)
WINDOW = 3  # epochs averaged in a tracked row of the table (one epoch's 2,000 samples swing)
CAPTIONS = {
    "grid.png": "The last epoch's class grid at the paper's schedule (one row per class, the "
                "fixed noise of every epoch), trained generator.",
    "grid_ema.png": "The same grid from the averaged generator.",
    "same_noise.png": "The same noise and labels at the report's last iteration and at the "
                      "paper's last, trained generator.",
    "curves.png": "Tracked quality per iteration: the report run, the paper-schedule run and the "
                  "other runs at the paper's schedule.",
    TABLE_FILE: "The same runs in numbers: the 10,000-sample evaluation after each run's last "
                "epoch, and the tracked values on the way.",
}


class _Spec:
    """What :func:`manifest_entry` reads of a figure, for a file of this section."""

    def __init__(self, experiment: str, filename: str):
        self.id = f"{experiment}_{PROFILE}/{filename}"
        self.caption = CAPTIONS[filename]
        self.experiment = experiment


def folder_name(experiment: str) -> str:
    return f"{experiment}_{PROFILE}"


def iterations_per_epoch(config: dict) -> int:
    """Training steps per epoch of a run's saved ``config``."""
    size = train_size(config["dataset"])
    examples = min(config.get("train_examples") or size, size)
    return examples // int(config["batch_size"])


def report_epochs(experiment: str) -> int:
    """The report profile's epoch count of ``experiment`` (its last iteration / epoch length)."""
    return experiments.make_config(experiment, "report").epochs


def draw_schedule_figures(ctx: Context, report: RunDir | None, out: Path,
                          others: tuple[RunDir, ...] = ()) -> list[Path]:
    """Draw the section's files of the paper-schedule run ``ctx`` into
    ``out/<experiment>_paper/``; ``report``: the report run (for the curves and the table),
    ``others``: more runs at the paper's schedule (run directories or study records).  Returns
    the files written, recorded in ``out``'s manifest."""
    experiment = ctx.info["experiment"]
    spec = experiments.get(experiment)
    if not spec.conditional:
        raise FigureError(f"the paper-schedule section is drawn for the conditional GANs, "
                          f"not {experiment}")
    if ctx.config.get("profile") != PROFILE:
        raise FigureError(f"{ctx.run.path} is a {ctx.config.get('profile')}-profile run, not "
                          f"one at the paper's schedule")
    folder = Path(out) / folder_name(experiment)
    folder.mkdir(parents=True, exist_ok=True)
    name, last = spec.title, ctx.last_epoch
    written = []

    def save(fig, filename, footer=None):
        written.append(plots.save_figure(fig, folder / filename, footer=footer or ctx.footer))

    save(class_grid_figure(ctx, last, name), "grid.png")
    if "ema_samples" in ctx.snapshot(last):
        save(class_grid_figure(ctx, last, name, key="ema_samples", note=AVERAGED_NOTE),
             "grid_ema.png")
    runs = ([Tracked(report, "report schedule")] if report is not None else []) + \
        [Tracked(ctx.run, labelled("paper schedule", ctx.config))]
    # A study's record of the run drawn here (same training start) is not a run of its own.
    runs += [run for run in (Tracked(other, record_label(other)) for other in others)
             if run.info.get("started_at") != ctx.info.get("started_at")]
    # The report run's length (its last epoch), else the report profile's.
    report_epoch = runs[0].last_epoch if report is not None else report_epochs(experiment)
    if ctx.nearest_epoch(report_epoch) < last:
        save(same_noise_figure(ctx, report_epoch, name), "same_noise.png")
    else:
        print(f"{ctx.run.path} has no epoch past the report's {report_epoch}: no same-noise "
              "comparison", flush=True)
    save(curves_figure(runs, name), "curves.png", footer=curves_footer(runs))
    table = folder / TABLE_FILE
    with atomic_path(table, suffix=".md") as tmp:
        tmp.write_text("\n".join(schedule_table(runs, report_epoch)) + "\n")
    written.append(table)
    update_manifest(Path(out), {f"{folder.name}/{path.name}":
                                manifest_entry(_Spec(experiment, path.name), ctx)
                                for path in written})
    for path in written:
        print(f"wrote {path}", flush=True)
    return written


class Tracked:
    """What the curves and the table read of a run: its tracked quality per epoch
    (``history.csv``) and its 10,000-sample evaluation (``metrics.json``), from a run directory
    or a study's record of one (no snapshots needed)."""

    def __init__(self, run: RunDir, label: str):
        self.run, self.label = run, label
        try:
            self.info = run.info()
        except FileNotFoundError as exc:
            raise FigureError(str(exc)) from None
        self.config = self.info["config"]
        self.history = run.history()
        self.steps = iterations_per_epoch(self.config)

    @property
    def footer(self) -> str:
        return provenance_line(self.info)

    @property
    def last_epoch(self) -> int:
        return int(self.history[-1]["epoch"]) if self.history else 0

    @property
    def tracked(self) -> bool:
        return bool(self.history) and "fid" in self.history[0]

    @property
    def num_classes(self) -> int:
        return len(self.info.get("class_names") or []) or 10

    def column(self, key: str):
        return np.array([row.get(key, np.nan) for row in self.history], dtype=float)

    def evaluation(self) -> dict | None:
        """``evaluate.py``'s classifier-space numbers, if made after the run's last epoch."""
        path = self.run.path / "metrics.json"
        if not path.exists():
            return None
        metrics = read_json(path)
        result = metrics.get("gan", {}).get("classifier")
        if result is None or int(metrics.get("epochs", -1)) != self.last_epoch:
            return None
        return result

    def means(self, epoch: int) -> tuple[int, int, dict[str, float]]:
        """The tracked values averaged over the :data:`WINDOW` epochs ending at ``epoch``:
        (first epoch, last epoch, {key: mean})."""
        rows = [r for r in self.history if epoch - WINDOW < int(r["epoch"]) <= epoch]
        if not rows:  # epochs missing from history.csv: the row says nothing, not a crash
            return epoch, epoch, {}
        keys = [k for k in ("fid", "cond_acc", "coverage") for k in (k, f"{k}_ema")]
        values = {k: float(np.nanmean([r.get(k, np.nan) for r in rows])) for k in keys
                  if any(k in r and not np.isnan(r[k]) for r in rows)}
        return int(rows[0]["epoch"]), int(rows[-1]["epoch"]), values


def table_epochs(run: Tracked, report_epoch: int, total: int) -> list[int]:
    """The epochs a run's tracked rows show: the report's end, every quarter of the paper's
    schedule of ``total`` epochs, and the run's last epoch (those it has reached)."""
    wanted = {report_epoch, *(round(total * q / 4) for q in (1, 2, 3, 4)), run.last_epoch}
    return sorted(e for e in wanted if 1 <= e <= run.last_epoch)


def schedule_table(runs: list[Tracked], report_epoch: int) -> list[str]:
    """Markdown: each run's tracked values on the way and its 10,000-sample evaluation at the
    end (trained / averaged generator), in the project classifier's space."""
    lines = ["| run | iteration (epoch) | numbers from | FID (trained / averaged G) | "
             "conditional accuracy | classes covered |", "|---|---|---|---|---|---|"]

    def pair(values, key, fmt):
        return " / ".join(fmt(values[k]) if k in values else "—" for k in (key, f"{key}_ema"))

    def row(run, epoch, source, values):
        lines.append(f"| {run.label} | {epoch * run.steps:,} ({epoch}) | {source} | "
                     f"{pair(values, 'fid', lambda v: f'{v:.1f}')} | "
                     f"{pair(values, 'cond_acc', lambda v: f'{100 * v:.1f} %')} | "
                     f"{pair(values, 'coverage', lambda v: f'{v:.3g}')} |")

    total = max(int(run.config["epochs"]) for run in runs)
    for run in runs:
        if run.tracked:
            samples = int(run.config.get("track_samples", 0))
            for epoch in table_epochs(run, report_epoch, total):
                first, last, values = run.means(epoch)
                row(run, epoch, f"tracked, {samples:,} samples, mean of epochs {first}-{last}",
                    values)
        result = run.evaluation()
        if result is not None:
            values = {}
            for which, suffix in (("model", ""), ("averaged", "_ema")):
                if which in result:
                    values.update({f"fid{suffix}": result[which]["FID"],
                                   f"cond_acc{suffix}": result[which]["conditional_accuracy"],
                                   f"coverage{suffix}": result[which]["class_coverage"]})
            row(run, run.last_epoch, f"`evaluate`, {int(result['samples']):,} samples", values)
    return lines


def settings_flags(config: dict) -> str:
    """The ``train`` flags by which a run's settings (its config.json ``config``) depart from
    its profile's (e.g. ``--class-loss real``); empty for a run at the profile's own settings.
    Speed settings (precision, XLA, the fused BatchNorm) are not departures."""
    changed = experiments.settings_changed(
        experiments.config_from_dict(config),
        experiments.make_config(config["experiment"], config["profile"]))
    return settings_words({name: saved for name, (saved, _) in changed.items()})


def labelled(name: str, config: dict) -> str:
    """``name`` and, in brackets, the flags by which the run of ``config`` departs from its
    profile (:func:`settings_flags`)."""
    flags = settings_flags(config)
    return f"{name} ({flags})" if flags else name


def record_label(run: RunDir) -> str:
    """A study run by its folder's name (``<variant>-s<seed>``) and its departures, or the
    words that it has none (so a reader without the study's variant names knows it)."""
    flags = settings_flags(run.info()["config"]) or "the profile's settings"
    return f"paper schedule, {run.path.name} ({flags})"


def same_noise_figure(ctx: Context, report_epoch: int, name: str):
    """The class grids of the same noise and labels at epoch ``report_epoch`` (the report's last
    iteration) and at the run's last epoch, side by side."""
    import matplotlib.pyplot as plt

    first = ctx.nearest_epoch(report_epoch)
    last = ctx.last_epoch
    if first == last:
        raise FigureError(f"{ctx.run.path} has no snapshot between the report's schedule and "
                          "its last epoch")
    steps = iterations_per_epoch(ctx.config)
    classes = ctx.class_names or [str(i) for i in range(ctx.num_classes)]
    fig, axes = plt.subplots(1, 2, figsize=(13, 7.2))
    for ax, epoch in zip(axes, (first, last)):
        snap = ctx.snapshot(epoch)
        columns = int(snap["columns"])
        grid = plots.tile(snap["samples"], columns)
        ax.imshow(grid.squeeze(), cmap="gray" if grid.shape[-1] == 1 else None)
        ax.set_xticks([])
        rows = int(np.ceil(len(snap["samples"]) / columns))
        ax.set_yticks([(i + 0.5) * grid.shape[0] / rows for i in range(rows)])
        ax.set_yticklabels(classes[:rows], fontsize=9)
        ax.set_title(f"this run at epoch {epoch}: {epoch * steps:,} iterations", fontsize=11)
    fig.suptitle(f"{name}: one paper-schedule run, the same noise and labels at "
                 f"{first * steps:,} iterations (the length of the report's schedule) and at "
                 f"{last * steps:,} (the paper's), trained generator", fontsize=12)
    fig.tight_layout()
    return fig


def curves_footer(runs: list[Tracked]) -> str:
    """The curves' provenance: each run's label, folder and how it was made, a line each."""
    return "\n".join(f"{run.label}: {run.run.path} ({run.footer.splitlines()[0]})"
                     for run in runs)


def curves_figure(runs: list[Tracked], name: str):
    """Tracked FID, conditional accuracy and coverage per iteration, one line per run (solid:
    trained G, dashed: averaged G); a dotted line where the first run ends if it is the
    report's."""
    import matplotlib.pyplot as plt

    classes = runs[0].num_classes
    keys = (("fid", "tracked FID (classifier features)", None),
            ("cond_acc", "conditional accuracy", (0.0, 1.0)),
            ("coverage", "classes covered", (0, classes + 0.3)))
    fig, axes = plt.subplots(1, len(keys), figsize=(5.4 * len(keys), 4.6))
    for k, run in enumerate(runs):
        if not run.tracked:
            continue
        x = run.column("epoch") * run.steps
        for ax, (key, title, ylim) in zip(axes, keys):
            ax.plot(x, run.column(key), f"C{k}-", linewidth=1.4,
                    label=f"{run.label}, trained G")
            if f"{key}_ema" in run.history[0]:
                ax.plot(x, run.column(f"{key}_ema"), f"C{k}--", linewidth=1.1,
                        alpha=0.85, label=f"{run.label}, averaged G")
            ax.set_title(title, fontsize=10)
            ax.set_xlabel("iteration")
            ax.grid(alpha=0.3)
            if ylim is None:
                ax.set_yscale("log")
            else:
                ax.set_ylim(*ylim)
    if runs[0].config.get("profile") == "report":  # where the report's schedule ends
        end = runs[0].last_epoch * runs[0].steps
        for ax in axes:
            ax.axvline(end, color="0.5", linestyle=":", linewidth=1.0)
        axes[1].annotate("the report's end", (end, 0.02), fontsize=8, color="0.4",
                         xytext=(-4, 0), textcoords="offset points", ha="right")
    samples = int(runs[0].config.get("track_samples", 0))
    axes[0].legend(fontsize=7)
    fig.suptitle(f"{name} per iteration, tracked after every epoch with {samples:,} samples and "
                 f"the project classifier {QUALITY_TAG}", fontsize=11)
    fig.tight_layout()
    return fig


def schedule_runs(experiment: str, records: Path) -> list[RunDir]:
    """Other runs at the paper's schedule recorded under ``records`` (a study's variants at the
    ``paper`` profile, :mod:`replication.study`), in name order."""
    folder = Path(records) / experiment / f"study-{PROFILE}"
    if not folder.is_dir():
        return []
    return [RunDir(path) for path in sorted(folder.iterdir())
            if (path / "history.csv").exists()]


def gallery_section(out: Path, manifest: dict) -> list[str]:
    """The gallery's lines for every paper-schedule section drawn into ``out``."""
    lines = []
    for experiment in experiments.names():
        folder = folder_name(experiment)
        entries = {name: entry for name, entry in manifest.items()
                   if name.startswith(folder + "/") and (Path(out) / name).exists()}
        if not entries:
            continue
        entry = next(iter(entries.values()))
        try:
            config = RunDir(entry["run"]).info()["config"]
            when = f"{int(entry['epochs_run']) * iterations_per_epoch(config):,} iterations"
            flags = settings_flags(config)
        except (FileNotFoundError, ValueError, KeyError):
            # the run is not on this machine: the gallery still shows it
            when, flags = "schedule", ""
        settings = (f", at the paper profile's settings but `{flags}`" if flags else
                    ", at the paper profile's settings")
        lines += [f"## {experiments.get(experiment).title} at the paper's {when}", "",
                  f"The run `{entry['run']}` at the paper's schedule: {entry['epochs_run']} of "
                  f"{entry['epochs_planned']} epochs ({entry.get('device')}, seed "
                  f"{entry.get('seed')}, {entry.get('precision')}){settings}. The report's "
                  "own figures above stay drawn from the report's run.", ""]
        for filename in FILES:
            key = f"{folder}/{filename}"
            if key not in entries:
                continue
            lines += [f"*{CAPTIONS[filename]}*", ""]
            if filename == TABLE_FILE:
                lines += (Path(out) / key).read_text().splitlines() + [""]
            else:
                lines += [f"![{filename}]({key})", ""]
    return lines
