"""``overview.png``: the results at a glance (the README's front picture).

The last epoch's grids of four runs side by side - the VAE's latent manifold, the DCGAN's
samples, and the conditional GAN's and AC-GAN's class grids (one row per class) - drawn from
their snapshots like every other figure, each panel titled with its run's training time.
``reproduce_all.py`` draws it after the runs it used (the shipped runs with ``--pretrained``);
after a short profile's runs it adds a second row, the shipped report runs, so that a newcomer
sees at once what minutes and hours of training buy.  It is not one of the report's figures.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from replication import experiments, plots
from replication.figures.core import Context
from replication.figures.manifest import update_manifest
from replication.runs import RunDir, now

FILENAME = "overview.png"


def panels() -> dict:
    """experiment -> (snapshot array, what the panel shows), from the registry's ``overview``."""
    return {spec.name: spec.overview for spec in experiments.of_report() if spec.overview}


def _fmt_time(seconds: float) -> str:
    return f"{seconds / 60:.1f} min" if seconds < 3600 else f"{seconds / 3600:.2f} h"


def _panel(ax, name: str, ctx: Context, what: str, who: str) -> None:
    key, _ = panels()[name]
    spec = experiments.get(name)
    snap = ctx.snapshot()
    images = snap[key]
    cols = int(snap["columns"]) if "columns" in snap else int(round(np.sqrt(len(images))))
    plots.show_image(ax, plots.tile(images, cols))
    trained = _fmt_time(ctx.run.training_seconds())
    ax.set_title(f"{spec.title} ({ctx.dataset_title}): {what}\n" + (f"{who}: " if who else "")
                 + f"epoch {ctx.last_epoch}/{ctx.total_epochs} ({ctx.config['profile']}), "
                 f"trained {trained}", fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
    if spec.conditional and ctx.class_names:
        h = images.shape[1] + 1
        ax.set_yticks([1 + h * (i + 0.5) for i in range(len(ctx.class_names))])
        ax.set_yticklabels(ctx.class_names, fontsize=7)
        ax.tick_params(length=0)


def draw_overview(runs: dict, out, beside: dict | None = None) -> Path | None:
    """Draw ``out/overview.png`` from ``runs`` (experiment -> run directory); the panels whose
    run is missing are left out, and nothing is drawn without any.  ``beside`` (experiment ->
    run directory, the shipped report runs) adds them as a second row under their
    experiment's panel.  Returns the path."""
    shown = panels()
    contexts = {name: Context(RunDir(runs[name])) for name in shown if name in runs}
    if not contexts:
        return None
    others = {name: Context(RunDir(beside[name])) for name in contexts
              if beside and name in beside}
    fig, grid = _subplots(len(contexts), 2 if others else 1)
    for column, (name, ctx) in enumerate(contexts.items()):
        what = shown[name][1]
        _panel(grid[0][column], name, ctx, what, "this run" if others else "")
        if others:
            if name in others:
                _panel(grid[1][column], name, others[name], what, "shipped run")
            else:
                grid[1][column].axis("off")
    first = next(iter(contexts.values()))
    footer = (f"last-epoch grids of the trained generators (and the VAE's decoder), drawn from "
              f"the runs' snapshots; {first.info.get('device', '')}\n" +
              "; ".join(f"{name}: {ctx.run.path}" for name, ctx in contexts.items()))
    if others:
        footer += "\nsecond row, the shipped report runs: " + "; ".join(
            f"{name}: {ctx.run.path}" for name, ctx in others.items())
    path = Path(out) / FILENAME
    plots.save_figure(fig, path, footer=footer)
    update_manifest(Path(out), {FILENAME: {
        "id": "overview",
        "caption": "The results at a glance (not a figure of the report)"
                   + (", beside the shipped report runs." if others else "."),
        "runs": {name: str(ctx.run.path) for name, ctx in contexts.items()},
        **({"beside": {name: str(ctx.run.path) for name, ctx in others.items()}}
           if others else {}),
        "profile": first.config.get("profile"),
        "epochs_run": {name: ctx.last_epoch for name, ctx in contexts.items()},
        "run_state": {name: ctx.info.get("state") for name, ctx in contexts.items()},
        "drawn_at": now(),
    }})
    print(f"wrote {path}", flush=True)
    return path


def _subplots(n: int, rows: int = 1):
    import matplotlib.pyplot as plt

    # room between the panels for the class names a conditional grid carries on its left
    fig, axes = plt.subplots(rows, n, figsize=(4.6 * n, 4.9 * rows), squeeze=False,
                             gridspec_kw={"wspace": 0.32, "hspace": 0.25})
    return fig, [list(row) for row in axes]
