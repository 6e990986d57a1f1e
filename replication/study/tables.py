"""The studies' tables: per run the tracked FID (last and best epoch) and the 10,000-sample
numbers of ``evaluate`` (or the VAEs' test bounds), the tracked values averaged over a window of
epochs, and the paper-schedule table."""

from __future__ import annotations

import numpy as np

from replication import experiments
from replication.config import ConfigError
from replication.runs import RunDir, default_run_dir, read_json, shipped_run
from replication.study.runs import study_runs

def _run_state(run: RunDir, history: list[dict]) -> tuple[str, float]:
    """'done/total' epochs, with why a run stopped short, and its summed epoch hours."""
    info = run.info()
    state = info.get("state", "?")
    epochs = f"{info.get('epochs_done', len(history))}/{info['config']['epochs']}"
    if state == "paused":
        epochs += " (stopped there)"
    elif state != "finished":
        epochs += f" ({state})"
    return epochs, run.training_seconds() / 3600


def _vae_table(experiment: str, root: str, profile: str, variants=None) -> list[str]:
    """The VAE family's study table: per-epoch negative ELBO on the test split (last / best)
    and, once evaluated, the test bounds of ``evaluate`` (ELBO and IWAE, nats per image)."""
    lines = ["| variant | seed | settings | epochs | test negative ELBO per epoch, last / best "
             "(epoch) | evaluated negative ELBO / IWAE bound | wall time |",
             "|---|---|---|---|---|---|---|"]
    for variant, seed, run in study_runs(experiment, root, profile, variants):
        history = run.history()
        losses = [(r["val_loss"], int(r["epoch"])) for r in history
                  if np.isfinite(r.get("val_loss", np.nan))]
        last = f"{losses[-1][0]:.2f}" if losses else "—"
        best = f"{min(losses)[0]:.2f} ({min(losses)[1]})" if losses else "—"
        metrics = read_json(run.path / "metrics.json") if (run.path / "metrics.json").exists() \
            else {}
        bounds = (f"{metrics['neg_elbo']:.2f} / {metrics['neg_iwae']:.2f} "
                  f"({metrics.get('iwae_samples', '?')} samples)" if "neg_elbo" in metrics
                  else "not evaluated")
        epochs, hours = _run_state(run, history)
        settings = f"`{variant.describe()}`" if variant.settings else variant.describe()
        lines.append(f"| {variant.name} | {seed} | {settings} | {epochs} | {last} / {best} | "
                     f"{bounds} | {hours:.2f} h |")
    return lines


def table(experiment: str, root="runs", profile="report", variants=None) -> list[str]:
    """The study's table: one row per run on disk (of ``variants`` only, when given)."""
    if experiments.get(experiment).likelihood:
        return _vae_table(experiment, root, profile, variants)
    conditional = experiments.get(experiment).conditional
    lines = ["| variant | seed | settings | epochs | tracked FID last / best (epoch) | "
             "FID, 10k (trained / averaged) | coverage (trained / averaged) | "
             + ("conditional accuracy (trained / averaged) | " if conditional else "")
             + "wall time |", "|---" * (9 if conditional else 8) + "|"]
    for variant, seed, run in study_runs(experiment, root, profile, variants):
        history = run.history()
        info = run.info()
        fids = [(r.get("fid", np.nan), int(r["epoch"])) for r in history]
        fids = [f for f in fids if np.isfinite(f[0])]
        last = f"{fids[-1][0]:.1f}" if fids else "—"
        best = f"{min(fids)[0]:.1f} ({min(fids)[1]})" if fids else "—"
        metrics = read_json(run.path / "metrics.json") if (run.path / "metrics.json").exists() \
            else {}
        gan = metrics.get("gan", {}).get("classifier", {})
        trained, averaged = gan.get("model", {}), gan.get("averaged", {})
        classes = trained.get("num_classes", len(info.get("class_names", [])))

        def pair(key, fmt, tracked_key=None):
            if not metrics and tracked_key:  # not evaluated (yet, or stopped early): last tracked
                return " / ".join(f"{v}†" if v else "—"
                                  for v in _tracked_pair(history[-1:], tracked_key, fmt))
            values = [fmt(row[key]) if key in row else "—" for row in (trained, averaged)]
            return " / ".join(values)

        settings = f"`{variant.describe()}`" if variant.settings else variant.describe()
        epochs, hours = _run_state(run, history)
        lines.append(
            f"| {variant.name} | {seed} | {settings} | {epochs} | {last} / {best} | "
            f"{pair('FID', lambda v: f'{v:.1f}')} | "
            f"{pair('class_coverage', lambda v: f'{v:.0f}/{classes}', 'coverage')} | "
            + (f"{pair('conditional_accuracy', lambda v: f'{100 * v:.1f} %', 'cond_acc')} | "
               if conditional else "")
            + f"{hours:.2f} h |")
    if any("†" in line for line in lines):
        samples = info["config"].get("track_samples", 0)
        lines.append(f"\n† not evaluated by evaluate.py (yet, or a run stopped early): the "
                     f"last epoch's tracked value ({samples:,} samples).")
    return lines


def _tracked_pair(rows: list[dict], key: str, fmt) -> list[str | None]:
    """The tracked ``key`` of the trained and the averaged G (``key_ema``) over ``rows`` (one
    epoch or several), NaN epochs skipped; None where no epoch has a value."""
    out = []
    for column in (key, f"{key}_ema"):
        values = np.array([r.get(column, np.nan) for r in rows], dtype=float)
        out.append(fmt(np.nanmean(values)) if np.isfinite(values).any() else None)
    return out


def means(experiment: str, window: tuple[int, int] | None = None, root="runs",
          profile="report", variants=None) -> list[str]:
    """Each run's tracked values averaged over the epochs ``window`` (first, last), both
    included; ``None``: each run's last three epochs.  A run that has not reached the window's
    end is averaged over the epochs it has and says so."""
    keys = [("fid", "FID", lambda v: f"{v:.1f}"),
            ("coverage", "coverage", lambda v: f"{v:.1f}")]
    if experiments.get(experiment).conditional:
        keys.append(("cond_acc", "conditional accuracy", lambda v: f"{100 * v:.1f} %"))
    lines = ["| variant | seed | epochs averaged | "
             + " | ".join(f"{title} (trained / averaged)" for _, title, _ in keys) + " |",
             "|---" * (3 + len(keys)) + "|"]
    for variant, seed, run in study_runs(experiment, root, profile, variants):
        history = run.history()
        if not history:
            continue
        done = int(history[-1]["epoch"])
        first, last = window if window else (max(1, done - 2), done)
        rows = [r for r in history if first <= int(r["epoch"]) <= last]
        if not rows:
            lines.append(f"| {variant.name} | {seed} | none of {first}-{last} (has 1-{done}) |"
                         + " — |" * len(keys))
            continue
        span = f"{int(rows[0]['epoch'])}-{int(rows[-1]['epoch'])}"
        if window and done < last:
            span += f" (of {first}-{last}: has {done})"
        cells = [" / ".join(v or "—" for v in _tracked_pair(rows, key, fmt))
                 for key, _, fmt in keys]
        lines.append(f"| {variant.name} | {seed} | {span} | " + " | ".join(cells) + " |")
    return lines


def paper_schedule_runs(experiment: str, root="runs") -> list:
    """The runs the paper-schedule table and curves compare (as
    :class:`replication.figures.schedule.Tracked`): the shipped report run first, the run
    ``<root>/<experiment>/paper`` (if any) and the study's runs at the ``paper`` profile
    under ``root`` (run directories or their records)."""
    from replication.figures import schedule

    report = schedule.Tracked(shipped_run(experiment), "report run (shipped)")
    runs = [report]
    paper = default_run_dir(experiment, schedule.PROFILE, root)
    if (paper / "history.csv").exists():
        runs.append(schedule.Tracked(RunDir(paper), "paper run"))
    runs += [schedule.Tracked(run, schedule.record_label(run))
             for run in schedule.schedule_runs(experiment, root)]
    if len(runs) == 1:
        raise ConfigError(f"no {experiment} run at the paper's schedule under {root} (train "
                          f"one: python -m replication train {experiment} --profile paper)")
    return runs


def schedule_table(experiment: str, root="runs") -> list[str]:
    """The paper-schedule table of :func:`paper_schedule_runs` (markdown lines)."""
    from replication.figures import schedule

    runs = paper_schedule_runs(experiment, root)
    return schedule.schedule_table(runs, runs[0].last_epoch)
