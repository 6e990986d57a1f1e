"""The studies' figures: each study run's per-epoch curves, and the paper-schedule curves
(``python -m replication study plot|schedule``)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from replication import experiments, plots
from replication.config import ConfigError
from replication.figures import schedule
from replication.study.runs import FIGURES_DIR, run_dir, study_runs
from replication.study.tables import paper_schedule_runs
from replication.study.variants import variants_of


def _panels(experiment: str) -> list[tuple[str, str]]:
    """The history columns a study's figure draws, one panel each, with their titles."""
    spec = experiments.get(experiment)
    if spec.likelihood:  # the test split's per-epoch loss terms (fit()'s validation), nats
        return [("val_loss", "negative ELBO on the test split (nats)"),
                ("val_reconstruction_loss", "reconstruction term (nats)"),
                ("val_kl_loss", "KL term (nats)")]
    keys = [("fid", "tracked FID (classifier features)"), ("coverage", "classes covered")]
    if spec.conditional:
        keys.append(("cond_acc", "conditional accuracy"))
    return keys + [("d_acc_fake", "D's accuracy on fakes")]


def plot(experiment: str, root="runs", out=FIGURES_DIR, profile="report") -> Path:
    """Every study run's per-epoch curves into ``<out>/<experiment>.png``: the tracked FID,
    coverage, conditional accuracy and D's accuracy on fakes (trained and averaged G), or the
    VAEs' test-split loss terms."""
    runs = study_runs(experiment, root, profile)
    if not runs:
        raise ConfigError(f"no study runs of {experiment} under "
                          f"{run_dir(experiment, '', 0, root, profile).parent}")
    vae = experiments.get(experiment).likelihood
    keys = _panels(experiment)
    names_present = {variant.name for variant, _, _ in runs}
    rows = -(-2 * len(runs) // len(names_present))  # legend rows: a column per variant
    fig, grid = plt.subplots(2, len(keys), figsize=(5.2 * len(keys), 4.2 + 0.2 * rows),
                             squeeze=False, gridspec_kw={"height_ratios": (4.0, 0.2 * rows)})
    axes = grid[:1]
    legend_ax = fig.add_subplot(grid[1, 0].get_gridspec()[1, :])
    for ax in grid[1]:
        ax.remove()
    legend_ax.axis("off")
    names = [v.name for v in variants_of(experiment)]
    for variant, seed, run in runs:
        history = run.history()
        epochs = [r["epoch"] for r in history]
        colour = f"C{names.index(variant.name)}"
        marker = "os^v"[seed % 4]
        for ax, (key, title) in zip(axes[0], keys):
            label = f"{variant.name}, seed {seed}"
            trained = ", trained G" if not vae and key != "d_acc_fake" else ""
            ax.plot(epochs, [r.get(key, np.nan) for r in history], f"{colour}-{marker}",
                    markersize=3, linewidth=1.3, label=label + trained)
            if f"{key}_ema" in history[0]:
                ax.plot(epochs, [r.get(f"{key}_ema", np.nan) for r in history],
                        f"{colour}--{marker}", markersize=2, linewidth=1.0, alpha=0.8,
                        label=f"{label}, averaged G")
            ax.set_title(title, fontsize=10)
            ax.set_xlabel("epoch")
            ax.grid(alpha=0.3)
    if not vae:
        axes[0][0].set_yscale("log")
    # One legend below the panels, a column per variant (its seeds, trained and averaged G).
    handles, labels = axes[0][0].get_legend_handles_labels()
    legend_ax.legend(handles, labels, loc="center", ncol=len(names_present), fontsize=8,
                     frameon=False)
    info = runs[0][2].info()
    samples = info["config"].get("track_samples", 0)
    if vae:
        fig.suptitle(f"{experiment}: study on the {profile} schedule (fit()'s validation on the "
                     "test split after each epoch)", fontsize=11)
    else:
        fig.suptitle(f"{experiment}: study on the {profile} schedule (tracked with "
                     f"{samples:,} samples and the project classifier; solid: trained G, "
                     "dashed: averaged G)", fontsize=11)
    fig.tight_layout()
    target = Path(out) / f"{experiment}.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    footer = "\n".join(f"{v.name}: {v.describe()}" for v in variants_of(experiment)
                       if v.name in names_present)  # the variants drawn, one a line
    return plots.save_figure(fig, target, footer=f"{footer}\n{info.get('device', '')}")


def schedule_curves(experiment: str, root="runs", out=FIGURES_DIR) -> Path:
    """The per-iteration curves of :func:`paper_schedule_runs` into
    ``<out>/<experiment>-paper-schedule.png``."""
    runs = paper_schedule_runs(experiment, root)
    target = Path(out) / f"{experiment}-paper-schedule.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    return plots.save_figure(schedule.curves_figure(runs, experiments.get(experiment).title),
                             target, footer=schedule.curves_footer(runs))
