"""``overview.png``: the results at a glance (the README's front picture).

The last epoch's grids of four runs side by side - the VAE's latent manifold, the DCGAN's
samples, and the conditional GAN's and AC-GAN's class grids (one row per class) - drawn from
their snapshots like every other figure.  ``reproduce_all.py`` draws it after the runs it
used (the shipped runs with ``--pretrained``); it is not one of the report's figures.
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


def draw_overview(runs: dict, out) -> Path | None:
    """Draw ``out/overview.png`` from ``runs`` (experiment -> run directory); the panels whose
    run is missing are left out, and nothing is drawn without any.  Returns the path."""
    shown = panels()
    contexts = {name: Context(RunDir(runs[name])) for name in shown if name in runs}
    if not contexts:
        return None
    fig, axes = _subplots(len(contexts))
    for ax, (name, ctx) in zip(axes, contexts.items()):
        key, what = shown[name]
        spec = experiments.get(name)
        title = f"{spec.title} ({ctx.dataset_title}): {what}"
        snap = ctx.snapshot()
        images = snap[key]
        cols = int(snap["columns"]) if "columns" in snap else int(round(np.sqrt(len(images))))
        plots.show_image(ax, plots.tile(images, cols))
        schedule = f"epoch {ctx.last_epoch}/{ctx.total_epochs}, profile {ctx.config['profile']}"
        ax.set_title(f"{title}\n{schedule}", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
        if spec.conditional and ctx.class_names:
            h = images.shape[1] + 1
            ax.set_yticks([1 + h * (i + 0.5) for i in range(len(ctx.class_names))])
            ax.set_yticklabels(ctx.class_names, fontsize=7)
            ax.tick_params(length=0)
    first = next(iter(contexts.values()))
    footer = (f"last-epoch grids of the trained generators (and the VAE's decoder), drawn from "
              f"the runs' snapshots; {first.info.get('device', '')}\n" +
              "; ".join(f"{name}: {ctx.run.path}" for name, ctx in contexts.items()))
    path = Path(out) / FILENAME
    plots.save_figure(fig, path, footer=footer)
    update_manifest(Path(out), {FILENAME: {
        "id": "overview",
        "caption": "The results at a glance (not a figure of the report).",
        "runs": {name: str(ctx.run.path) for name, ctx in contexts.items()},
        "profile": first.config.get("profile"),
        "epochs_run": {name: ctx.last_epoch for name, ctx in contexts.items()},
        "run_state": {name: ctx.info.get("state") for name, ctx in contexts.items()},
        "drawn_at": now(),
    }})
    print(f"wrote {path}", flush=True)
    return path


def _subplots(n: int):
    import matplotlib.pyplot as plt

    # room between the panels for the class names a conditional grid carries on its left
    fig, axes = plt.subplots(1, n, figsize=(4.6 * n, 4.9), squeeze=False,
                             gridspec_kw={"wspace": 0.32})
    return fig, list(axes[0])
