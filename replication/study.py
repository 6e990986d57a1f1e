"""``scripts/study.py``: the stabiliser studies on the report's schedules.

For each GAN a few **variants** (the profile's settings and the stabilisers most likely to help, see
docs/models.md) are trained on the ``report`` profile with ``--precision auto``, each on
two seeds, into ``runs/<experiment>/study/<variant>-s<seed>/``:

* ``run EXPERIMENT [--variants a,b] [--seeds 0,1] [--stop-after N]`` trains them one after
  another (one training at a time: two at once only slow each other), resuming unfinished runs
  and skipping finished ones, so the same command continues a study after an interruption;
  ``--stop-after N`` pauses every run after epoch N (screen all variants on a third of the
  schedule, then continue the promising ones with ``--variants``);
* ``plot EXPERIMENT`` draws every run's per-epoch curves (tracked FID, coverage, conditional
  accuracy, D's accuracy on fakes; trained and averaged generator) into
  ``figures/studies/<experiment>.png``;
* ``table EXPERIMENT`` prints the README table: last- and best-epoch tracked FID, and the
  10,000-sample numbers of ``scripts/evaluate.py`` (run it first) for the trained and the
  averaged generator, with wall time, seed and settings;
* ``means EXPERIMENT [--epochs A-B]`` prints each run's tracked values averaged over epochs A
  to B (default: each run's last three): one epoch's 2,000-sample FID swings by tens of points,
  so the screening decisions compare these means;
* ``promote EXPERIMENT --variants V --seeds S`` copies the finished run of the chosen variant
  and seed to the profile's own run directory (``runs/<experiment>/report``), where
  ``reproduce_all.py --profile report`` draws the figures from instead of training it again;
  only a run at the profile's current settings qualifies (the default seed, and the variant
  made the default first), and its ``config.json`` then says where it came from;
* ``schedule EXPERIMENT`` prints the paper-schedule table
  (:func:`replication.figures.schedule.schedule_table`): the shipped report run beside
  ``<runs>/<experiment>/paper`` and the study's runs at the ``paper`` profile, their tracked
  values on the way and their 10,000-sample numbers at the end; and draws their curves per
  iteration into ``figures/studies/<experiment>-paper-schedule.png``;
* ``record EXPERIMENT`` copies each study run's text files (``config.json``, ``status.json``,
  ``history.csv``, ``metrics.json``; a few kB, no weights) into
  ``figures/studies/records/<experiment>/study/<run>/``, committed with the study figure, so
  that ``plot``, ``table`` and ``means`` with ``--runs figures/studies/records`` redraw the
  study's figure and tables on any clone, without the run directories (git-ignored, hours of
  training each).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from replication import experiments
from replication.cli import int_list, positive_int, script_main, train_flags
from replication.config import PROFILES, ConfigError
from replication.errors import run_command
from replication.experiments import changed_from_profile
from replication.experiments.effnet_vae import EffNetVAEConfig
from replication.runs import (RunDir, atomic_path, default_run_dir, now, read_json, shipped_run,
                              write_json)
from replication.train import train

SEEDS = (0, 1)

def _cgan(label_conditioning: str, mismatched_labels: bool, batch_size: int) -> dict:
    """A conditional GAN study variant's settings, all three named."""
    return dict(label_conditioning=label_conditioning, mismatched_labels=mismatched_labels,
                batch_size=batch_size)


# Where the study figures go and where finished study runs are recorded (committed).
FIGURES_DIR = "figures/studies"
RECORDS = Path(FIGURES_DIR) / "records"


def _effnet(encoder_weights: str, freeze_encoder_epochs: int) -> dict:
    """An EfficientNet-VAE study variant's settings: always the Lite0 encoder."""
    return dict(encoder="efficientnet-lite0", encoder_weights=encoder_weights,
                freeze_encoder_epochs=freeze_encoder_epochs)


# The variants of each study, the profile's settings first: (name, config overrides, why).  The
# report is silent on every setting they change; the AC-GAN's come first from the paper's own
# table (a learning rate per network, activation noise), and its real-only class loss departs
# from the paper's loss and stays an option.
STUDIES: dict[str, tuple[tuple[str, dict, str], ...]] = {
    # The Q1 VAE: its report recipe over seeds (the report states the objective; the network
    # and schedule are the project's documented choices).
    "vae": (
        ("baseline", {}, "the profile's settings"),
    ),
    "dcgan": (
        ("baseline", {}, "the profile's settings"),
        ("smooth", {"real_label": 0.9},
         "one-sided label smoothing against the dominant D behind the collapse"),
        ("keras-bn", {"fused_batchnorm": False},
         "Keras' own BatchNorm layer: the fused kernel (a speed lever) must train the same"),
    ),
    # Every CGAN variant names all the settings it studies (the report profile's defaults
    # changed with this study; a variant must mean the same run before and after).
    "cgan": tuple((name, _cgan(*settings), why) for name, settings, why in (
        ("input-concat", ("input-concat", False, 128),
         "the one-hot label at both inputs (the design before this study)"),
        ("matching", ("input-concat", True, 128),
         "wrong-label pairs as fakes, so D must read the label"),
        ("projection", ("projection", False, 128),
         "projection D and class-conditional BatchNorm in G (the field's cGAN standard)"),
        ("projection-d", ("projection-d", False, 128),
         "projection D with G's input concatenation (tells the two halves apart)"),
        ("late-concat", ("late-concat", False, 128),
         "the label joined to D's 4x4 features (Reed et al. 2016)"),
        ("projection-matching", ("projection", True, 128),
         "projection design with wrong-label pairs as fakes"),
        ("projection-b64", ("projection", False, 64),
         "projection design in batches of 64: twice the updates for the same images"),
        ("projection-matching-b64", ("projection", True, 64),
         "projection design, wrong-label pairs, batches of 64"),
    )),
    # The bonus VAE's pretrained encoder: every variant names the encoder, its weights and its
    # freezing (the report used pretrained weights and is silent on freezing them).
    EffNetVAEConfig.experiment: tuple((name, _effnet(*settings), why) for name, settings, why in (
        ("imagenet", ("imagenet", 0),
         "Lite0 with its ImageNet weights, trained end to end from the first step"),
        ("imagenet-frozen-2", ("imagenet", 2),
         "Lite0 with its ImageNet weights frozen for two epochs (the head and decoder settle "
         "first), then fine-tuned"),
        ("random", ("none", 0),
         "Lite0 from random initialisation: what the pretrained weights add"),
    )),
    "acgan": (
        ("baseline", {}, "the profile's settings"),
        ("noise", {"activation_noise": 0.1},
         "the paper's activation noise option against a D that wins"),
        ("slow-d", {"d_learning_rate": 1e-4},
         "the paper's lowest rate for D only, against a D that wins"),
        ("fast-d", {"d_learning_rate": 3e-4},
         "the paper's highest rate for D only (TTUR's faster D, within the paper's set)"),
        ("real-cls", {"class_loss": "real"},
         "D's class loss on real images only (departs from the paper's loss)"),
        ("real-cls-w2", {"class_loss": "real", "class_weight": 2.0},
         "real-cls with D's class loss weighed 2, as Keras' mnist_acgan does: a stronger "
         "classifier in D for G to follow"),
        ("keras-bn", {"fused_batchnorm": False},
         "Keras' own BatchNorm layer: the fused kernel (a speed lever) must train the same"),
    ),
}


@dataclass(frozen=True)
class Variant:
    name: str
    settings: dict = field(default_factory=dict)  # config overrides
    why: str = ""

    def describe(self) -> str:
        if not self.settings:
            return "the profile's settings"
        return train_flags(self.settings)


def variants_of(experiment: str) -> list[Variant]:
    """The study's variants (:data:`STUDIES`), the profile's settings first."""
    return [Variant(name, dict(settings), why) for name, settings, why in STUDIES[experiment]]


def studied() -> tuple[str, ...]:
    return tuple(STUDIES)


def run_dir(experiment: str, variant: str, seed: int, root="runs", profile="report") -> Path:
    """``<root>/<experiment>/study/<variant>-s<seed>``; another profile than the report's (a
    smoke try of the machinery) goes to ``study-<profile>`` so it never mixes with the study."""
    folder = "study" if profile == "report" else f"study-{profile}"
    return Path(root) / experiment / folder / f"{variant}-s{seed}"


def _variants(experiment: str, names: str | None) -> list[Variant]:
    variants = variants_of(experiment)
    if not names:
        return variants
    known = {v.name: v for v in variants}
    unknown = [n for n in names.split(",") if n not in known]
    if unknown:
        raise ConfigError(f"{experiment} has no study variant {', '.join(unknown)}; "
                          f"it has {', '.join(known)}")
    return [known[n] for n in names.split(",")]


def run(experiment: str, variants: list[Variant], seeds, root="runs", quiet=True,
        stop_after: int | None = None, profile: str = "report") -> None:
    """Train the study's runs one after another.  ``stop_after`` pauses each run after that
    epoch (a screening pass: every variant to a third of the schedule first); the same call
    without it later continues them to the end of the schedule."""
    for seed in seeds:
        for variant in variants:
            path = run_dir(experiment, variant.name, seed, root, profile)
            state = RunDir(path).info().get("state") if (path / "config.json").exists() else None
            if state == "finished":
                print(f"study: {path} is finished", flush=True)
                continue
            print(f"study: training {path} ({variant.describe()}, seed {seed})", flush=True)
            train(experiment, profile, run_dir=path, resume=state is not None,
                  verbose=2 if quiet else 1, seed=seed, precision="auto", stop_after=stop_after,
                  **variant.settings)


def study_runs(experiment: str, root="runs", profile="report",
               variants=None) -> list[tuple[Variant, int, RunDir]]:
    """Every run of the study present on disk (any seed, not only the default ones), in the
    study's order: variant by variant, seed by seed; only the ``variants`` named, if given."""
    out = []
    for variant in variants_of(experiment):
        if variants is not None and variant.name not in variants:
            continue
        folder = run_dir(experiment, variant.name, 0, root, profile).parent
        found = []
        for path in folder.glob(f"{variant.name}-s*"):
            seed = path.name[len(variant.name) + 2:]
            if seed.isascii() and seed.isdigit() and (path / "history.csv").exists():
                found.append((int(seed), path))
        out += [(variant, seed, RunDir(path)) for seed, path in sorted(found)]
    return out


def plot(experiment: str, root="runs", out=FIGURES_DIR, profile="report") -> Path:
    from replication import plots

    runs = study_runs(experiment, root, profile)
    if not runs:
        raise ConfigError(f"no study runs of {experiment} under "
                          f"{run_dir(experiment, '', 0, root, profile).parent}")
    import matplotlib.pyplot as plt

    vae = experiments.get(experiment).likelihood
    if vae:  # the test split's per-epoch loss terms (fit()'s validation), nats per image
        keys = [("val_loss", "negative ELBO on the test split (nats)"),
                ("val_reconstruction_loss", "reconstruction term (nats)"),
                ("val_kl_loss", "KL term (nats)")]
    else:
        keys = [("fid", "tracked FID (classifier features)"), ("coverage", "classes covered")]
        if experiments.get(experiment).conditional:
            keys.append(("cond_acc", "conditional accuracy"))
        keys.append(("d_acc_fake", "D's accuracy on fakes"))
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


def promote(experiment: str, variant: str, seed: int, root="runs", profile="report") -> Path:
    """Copy the finished study run ``<variant>-s<seed>`` to ``<root>/<experiment>/<profile>``
    (a copy, the study keeps its run), recording ``promoted_from`` in its ``config.json``.

    Refused with a ConfigError, nothing written: an unfinished source, a target that exists
    (never overwritten), or a run whose settings are not the profile's current ones (the same
    test as reproduce_all's, which would refuse to draw from it)."""
    _variants(experiment, variant)  # an unknown variant: one clear error
    source = RunDir(run_dir(experiment, variant, seed, root, profile))
    if not source.config_file.exists():
        raise ConfigError(f"{source.path} does not exist: train it first "
                          f"(python scripts/study.py run {experiment} --variants {variant} "
                          f"--seeds {seed})")
    info = source.info()
    if info.get("state") != "finished":
        raise ConfigError(f"{source.path} is not finished ({info.get('state')}, epoch "
                          f"{info.get('epochs_done')} of {info['config']['epochs']}); "
                          "finish it first")
    listed = changed_from_profile(info["config"], experiment, profile, "the profile's:")
    if listed:
        raise ConfigError(f"{source.path} differs from the {profile} profile's current settings "
                          f"in {listed}; only a run at the profile's settings can stand for it "
                          "(make the variant the default first, or keep it a study run)")
    target = default_run_dir(experiment, profile, root)
    if target.exists():
        raise ConfigError(f"{target} already exists; move it away first (it is never "
                          "overwritten)")
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    shutil.copytree(source.path, partial)
    config = read_json(partial / "config.json")
    config["promoted_from"] = {"run": str(source.path), "variant": variant, "seed": seed,
                               "at": now()}
    write_json(partial / "config.json", config)
    partial.rename(target)
    return target


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


def schedule_curves(experiment: str, root="runs", out=FIGURES_DIR) -> Path:
    """The per-iteration curves of :func:`paper_schedule_runs` into
    ``<out>/<experiment>-paper-schedule.png``."""
    from replication import plots
    from replication.figures import schedule

    runs = paper_schedule_runs(experiment, root)
    target = Path(out) / f"{experiment}-paper-schedule.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    return plots.save_figure(schedule.curves_figure(runs, experiments.get(experiment).title),
                             target, footer=schedule.curves_footer(runs))


RECORD_FILES = ("config.json", "status.json", "history.csv", "metrics.json")


def record(experiment: str, root="runs", out=FIGURES_DIR, profile="report") -> list[Path]:
    """Copy every study run's :data:`RECORD_FILES` (those it has) to
    ``<out>/records/<experiment>/study/<run>/``, the layout of a runs root, so the records read
    as runs with ``--runs <out>/records``.  A record is replaced whole (files of an older copy
    that the run no longer has are removed), each file written atomically."""
    runs = study_runs(experiment, root, profile)
    if not runs:
        raise ConfigError(f"no study runs of {experiment} under "
                          f"{run_dir(experiment, '', 0, root, profile).parent}")
    written = []
    for variant, seed, run in runs:
        target = run_dir(experiment, variant.name, seed, Path(out) / "records", profile)
        target.mkdir(parents=True, exist_ok=True)
        for name in RECORD_FILES:
            source, copy = run.path / name, target / name
            if source.exists():
                with atomic_path(copy) as tmp:
                    Path(tmp).write_bytes(source.read_bytes())
            elif copy.exists():
                copy.unlink()
        written.append(target)
    return written


def _window(text: str) -> tuple[int, int]:
    first, sep, last = text.partition("-")
    try:
        window = (int(first), int(last if sep else first))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected epochs like 4-6, got {text!r}") from None
    if window[0] < 1 or window[1] < window[0]:
        raise argparse.ArgumentTypeError(f"expected epochs like 4-6 (first >= 1, last >= "
                                         f"first), got {text!r}")
    return window


HELP = "the stabiliser and design studies on the report's schedules"
DESCRIPTION = __doc__.split("\n", 2)[2]


def add_arguments(parser) -> None:
    parser.add_argument("action", choices=("run", "plot", "table", "means", "schedule",
                                           "promote", "record"))
    parser.add_argument("experiment", choices=studied())
    parser.add_argument("--variants", metavar="A,B",
                        help="variants to train (default: all); promote: the one variant")
    parser.add_argument("--seeds", type=int_list(0, "non-negative"),
                        default=",".join(map(str, SEEDS)), metavar="0,1",
                        help=f"seeds (default {','.join(map(str, SEEDS))})")
    parser.add_argument("--stop-after", type=positive_int, metavar="N",
                        help="pause every run after epoch N (a screening pass); rerun without "
                             "it to continue")
    parser.add_argument("--epochs", type=_window, metavar="A-B",
                        help="means: the epochs to average (default: each run's last three)")
    parser.add_argument("--runs", default="runs", metavar="DIR", help="runs root (default %(default)s)")
    parser.add_argument("--profile", choices=PROFILES, default="report",
                        help="the schedule (default report, the study's; smoke tries the "
                             "machinery in seconds, into <experiment>/study-smoke)")
    parser.add_argument("--out", default=FIGURES_DIR, metavar="DIR",
                        help="plot, schedule and record: where the figure and the records go "
                             "(default figures/studies)")


def main(argv=None) -> int:
    return script_main("python scripts/study.py", sys.modules[__name__], argv)


def run_cli(args, parser) -> int:
    seeds = args.seeds
    if args.action == "promote" and (not args.variants or "," in args.variants
                                     or len(seeds) != 1):
        parser.error("promote: name one variant and one seed, e.g. --variants baseline --seeds 0")
    return run_command(lambda: _act(args, seeds), hint="rerun the same command to continue")


def _act(args, seeds) -> None:
    if args.action == "run":
        run(args.experiment, _variants(args.experiment, args.variants), seeds, args.runs,
            stop_after=args.stop_after, profile=args.profile)
    elif args.action == "plot":
        print(f"wrote {plot(args.experiment, args.runs, args.out, args.profile)}")
    elif args.action == "promote":
        target = promote(args.experiment, args.variants, seeds[0], args.runs, args.profile)
        source = run_dir(args.experiment, args.variants, seeds[0], args.runs, args.profile)
        print(f"copied {source} to {target}; "
              f"python scripts/reproduce_all.py --profile {args.profile} draws from it")
    elif args.action == "record":
        for path in record(args.experiment, args.runs, args.out, args.profile):
            print(f"recorded {path}")
    elif args.action == "schedule":
        print("\n".join(schedule_table(args.experiment, args.runs)))
        print(f"wrote {schedule_curves(args.experiment, args.runs, args.out)}")
    elif args.action == "means":
        print("\n".join(means(args.experiment, args.epochs, args.runs, args.profile)))
    else:
        print("\n".join(table(args.experiment, args.runs, args.profile)))


if __name__ == "__main__":
    sys.exit(main())
