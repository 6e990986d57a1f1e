"""The report's figures, by SPEC id, drawn from run directories (never by retraining).

``draw_experiment("vae", run_dir, out)`` writes every figure of an experiment into ``out`` and
records each file in ``out/manifest.json`` with how it was made.  ``FIGURES`` lists every id
with its report caption, in the report's order; the per-figure scripts in ``scripts/`` and the
gallery read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from replication import plots
from replication.runs import (RunDir, atomic_path, default_run_dir, now, provenance_line, read_json,
                              remove_partial_files, write_json)


class FigureError(RuntimeError):
    """A figure cannot be drawn from the given run directory; the message says why."""


@dataclass(frozen=True)
class FigureSpec:
    id: str
    experiment: str
    filename: str
    caption: str          # the report's caption, in English
    draw: Callable        # draw(ctx, path) -> None


FIGURES: dict[str, FigureSpec] = {}


def figure(id: str, experiment: str, filename: str, caption: str):
    def register(fn):
        FIGURES[id] = FigureSpec(id, experiment, filename, caption, fn)
        return fn
    return register


class Context:
    """What a figure function may read: the run directory, its info and its snapshots."""

    def __init__(self, run: RunDir):
        self.run = run
        try:
            self.info = run.info()
        except FileNotFoundError as exc:
            raise FigureError(str(exc)) from None
        self.config = self.info["config"]
        self.epochs = run.snapshot_epochs()
        if not self.epochs:
            raise FigureError(f"{run.path} has no snapshots yet: train at least one epoch first")
        self.history = run.history()
        self._cache: dict[int, dict] = {}

    @property
    def footer(self) -> str:
        line = provenance_line(self.info)
        if self.info.get("state") != "finished":
            line += f" | run {self.info.get('state', 'unfinished')}"
        return line

    @property
    def last_epoch(self) -> int:
        return self.epochs[-1]

    @property
    def total_epochs(self) -> int:
        return int(self.config["epochs"])

    def snapshot(self, epoch: int | None = None) -> dict:
        epoch = self.last_epoch if epoch is None else epoch
        if epoch not in self._cache:
            try:
                self._cache[epoch] = self.run.load_snapshot(epoch)
            except (OSError, ValueError) as exc:
                raise FigureError(f"snapshot of epoch {epoch} in {self.run.path} is unreadable "
                                  f"({exc}); retrain that run with --resume") from None
        return self._cache[epoch]

    def nearest_epoch(self, wanted: int) -> int:
        """The snapshot epoch closest to ``wanted`` (short runs have fewer epochs)."""
        return min(self.epochs, key=lambda e: (abs(e - wanted), e))

    def history_column(self, key: str):
        return np.array([row.get(key, np.nan) for row in self.history], dtype=float)


# --------------------------------------------------------------------------------------------
# Q1: VAE


@figure("fig01", "vae", "fig01.png",
        "Graphical model of the problem: latent z generates data x through the generative "
        "model p_theta (solid); the recognition model q_phi(z|x) (dashed) approximates the "
        "posterior.")
def _fig01(ctx: Context, path: Path):
    fig = plots.graphical_model_figure()
    plots.save_figure(fig, path, footer="drawn by replication.plots (independent of training)")


@figure("fig02", "vae", "fig02.png",
        "Generated images: the decoder's output over a grid of the 2-D latent plane.")
def _fig02(ctx: Context, path: Path):
    plots.save_figure(_manifold_figure(ctx, ctx.last_epoch), path, footer=ctx.footer)


def _manifold_figure(ctx: Context, epoch: int):
    snap = ctx.snapshot(epoch)
    if "manifold" not in snap:
        raise FigureError("the latent manifold needs a 2-D latent space")
    n = int(round(np.sqrt(len(snap["manifold"]))))
    fig = plots.image_grid_figure(snap["manifold"], n, size_per_image=0.28,
                                  title=f"VAE latent manifold after epoch {epoch}/{ctx.total_epochs}")
    ax = fig.axes[0]
    axis = snap["manifold_axis"]
    h = snap["manifold"].shape[1] + 1
    ticks = [0, n // 2, n - 1]
    ax.set_xticks([1 + h * (i + 0.5) for i in ticks])
    ax.set_xticklabels([f"{axis[i]:.2f}" for i in ticks], fontsize=7)
    ax.set_yticks([1 + h * (i + 0.5) for i in ticks])
    ax.set_yticklabels([f"{axis[::-1][i]:.2f}" for i in ticks], fontsize=7)
    ax.set_xlabel("$z_1$ (N(0,1) quantiles)", fontsize=8)
    ax.set_ylabel("$z_2$", fontsize=8)
    return fig


@figure("fig03", "vae", "fig03.png",
        "Generated images: random samples decoded from z ~ N(0, I).")
def _fig03(ctx: Context, path: Path):
    snap = ctx.snapshot()
    samples = snap["samples"]
    fig = plots.image_grid_figure(samples, int(np.ceil(np.sqrt(len(samples)))),
                                  title=f"VAE samples, z ~ N(0, I), epoch {ctx.last_epoch}")
    plots.save_figure(fig, path, footer=ctx.footer)


@figure("fig03b", "vae", "fig03b.png",
        "Generated images: test digits (top) and their reconstructions (bottom).")
def _fig03b(ctx: Context, path: Path):
    snap = ctx.snapshot()
    images = np.concatenate([snap["originals"], snap["reconstructions"]])
    fig = plots.image_grid_figure(images, len(snap["originals"]), size_per_image=0.6,
                                  row_labels=["test image", "reconstruction"],
                                  title=f"VAE reconstructions (decoded encoder mean), epoch {ctx.last_epoch}")
    plots.save_figure(fig, path, footer=ctx.footer)


@figure("fig04", "vae", "fig04.png",
        "Generated images: linear interpolations in latent space between encoded test digits.")
def _fig04(ctx: Context, path: Path):
    snap = ctx.snapshot()
    steps = int(ctx.config["interpolation_steps"])
    fig = plots.image_grid_figure(snap["interpolations"], steps, size_per_image=0.55,
                                  title=f"Latent interpolations between test digits, epoch {ctx.last_epoch}")
    plots.save_figure(fig, path, footer=ctx.footer)


@figure("fig05", "vae", "fig05.png",
        "Loss per epoch: reconstruction (cross-entropy), KL divergence x 100, and their total; "
        "training and validation.")
def _fig05(ctx: Context, path: Path):
    if not ctx.history:
        raise FigureError(f"{ctx.run.history_file} is missing or empty")
    e = ctx.history_column("epoch")
    col = ctx.history_column
    series = [
        ("reconstruction (train)", col("reconstruction_loss"), "C0-o"),
        ("reconstruction (test)", col("val_reconstruction_loss"), "C0--s"),
        ("KL × 100 (train)", 100 * col("kl_loss"), "C1-o"),
        ("KL × 100 (test)", 100 * col("val_kl_loss"), "C1--s"),
        ("total = −ELBO (train)", col("loss"), "C2-o"),
        ("total = −ELBO (test)", col("val_loss"), "C2--s"),
    ]
    fig = plots.curves_figure(e, [{"title": "VAE losses (KL drawn ×100, as in the report)",
                                   "ylabel": "nats per image", "series": series}],
                              title="")
    plots.save_figure(fig, path, footer=ctx.footer)


def _latent_limits(ctx: Context):
    lo, hi = np.inf * np.ones(2), -np.inf * np.ones(2)
    for epoch in ctx.epochs:
        z = ctx.snapshot(epoch)["latent_z"]
        lo = np.minimum(lo, np.percentile(z, 0.5, axis=0))
        hi = np.maximum(hi, np.percentile(z, 99.5, axis=0))
    pad = 0.05 * (hi - lo)
    return [(lo[0] - pad[0], hi[0] + pad[0]), (lo[1] - pad[1], hi[1] + pad[1])]


def _latent_figure(ctx: Context, epoch: int, limits=None, what="VAE"):
    snap = ctx.snapshot(epoch)
    n = len(snap["latent_z"])
    return plots.latent_scatter_figure(
        snap["latent_z"], snap["latent_labels"], [str(i) for i in range(10)],
        f"{what} latent space: {n} test images, epoch {epoch}/{ctx.total_epochs}", limits)


@figure("fig06", "vae", "fig06.png",
        "Latent space: the encoded MNIST test set, coloured by digit.")
def _fig06(ctx: Context, path: Path):
    plots.save_figure(_latent_figure(ctx, ctx.last_epoch), path, footer=ctx.footer)


@figure("vae_grid.gif", "vae", "vae_grid.gif",
        "The latent-manifold grid (fig02) after every epoch of training.")
def _vae_grid_gif(ctx: Context, path: Path):
    _epoch_gif(ctx, path, lambda epoch: _manifold_figure(ctx, epoch))


@figure("vae_latent.gif", "vae", "vae_latent.gif",
        "The latent-space scatter (fig06) after every epoch of training.")
def _vae_latent_gif(ctx: Context, path: Path):
    limits = _latent_limits(ctx)
    _epoch_gif(ctx, path, lambda epoch: _latent_figure(ctx, epoch, limits))


def _epoch_gif(ctx: Context, path: Path, make_figure, dpi: int = 80):
    """A GIF with one frame per snapshot epoch, each frame a figure with the provenance line."""
    frames = []
    for epoch in ctx.epochs:
        fig = make_figure(epoch)
        plots.add_footer(fig, ctx.footer, inside=True)
        frames.append(plots.figure_to_array(fig, dpi=dpi))
    plots.save_gif(frames, path)


# --------------------------------------------------------------------------------------------
# Q1 bonus: VAE with an EfficientNet-B0 encoder


def _weights_note(ctx: Context) -> str:
    weights = ctx.config.get("encoder_weights", "?")
    return {"imagenet": "ImageNet-pretrained encoder", "none": "randomly initialised encoder"}.get(
        weights, f"encoder weights from {Path(str(weights)).name}")


@figure("fig07", "effnet_vae", "fig07.png",
        "Latent space of the VAE with the EfficientNet encoder: the encoded MNIST test set, "
        "coloured by digit.")
def _fig07(ctx: Context, path: Path):
    fig = _latent_figure(ctx, ctx.last_epoch, what=f"EfficientNet-VAE ({_weights_note(ctx)})")
    plots.save_figure(fig, path, footer=ctx.footer)


@figure("fig08", "effnet_vae", "fig08.png",
        "Images generated by the VAE with the EfficientNet encoder (decoded z ~ N(0, I)).")
def _fig08(ctx: Context, path: Path):
    samples = ctx.snapshot()["samples"]
    fig = plots.image_grid_figure(
        samples, int(np.ceil(np.sqrt(len(samples)))),
        title=f"EfficientNet-VAE samples, z ~ N(0, I), epoch {ctx.last_epoch}\n({_weights_note(ctx)})")
    plots.save_figure(fig, path, footer=ctx.footer)


# --------------------------------------------------------------------------------------------
# GANs: shared pieces


def built_networks(ctx: Context):
    """The experiment's (generator, discriminator), rebuilt from the run's config (structure
    only: diagrams and tables need no trained weights)."""
    from types import SimpleNamespace

    from replication import experiments
    from replication.config import config_from_dict

    config = config_from_dict(ctx.config)
    snap = ctx.snapshot()
    labels = snap.get("sample_labels")
    shape = SimpleNamespace(image_shape=tuple(snap["samples"].shape[1:]),
                            num_classes=int(labels.max()) + 1 if labels is not None else 10)
    return experiments.get(ctx.info["experiment"]).networks(config, shape)


def _losses_title(ctx: Context, epoch: int) -> str:
    """The report's log line for ``epoch``: ``epoch = 1/60, d_loss=0.479, g_loss=2.511``."""
    from replication.callbacks import ReportLogLine

    row = next((r for r in ctx.history if int(r["epoch"]) == epoch), {})
    return ReportLogLine.format(epoch, ctx.total_epochs, row, ("d_loss", "g_loss"))


def _samples_figure(ctx: Context, epoch: int, title: str | None = None, key: str = "samples"):
    snap = ctx.snapshot(epoch)
    return plots.image_grid_figure(snap[key], int(snap["columns"]), size_per_image=0.5,
                                   title=title or _losses_title(ctx, epoch))


AVERAGED_SUFFIX = "_ema"
AVERAGED_NOTE = ("averaged generator (EMA of the weights; this project's addition), "
                 "same inputs as the trained generator's grid")


def _averaged_companion(ctx: Context, epoch: int, path: Path, make_figure) -> list[Path]:
    """``<figure>_ema.png``: the same grid from the averaged generator, when the run has one
    (``make_figure(key, title_note)`` draws the grid of snapshot array ``key``)."""
    if "ema_samples" not in ctx.snapshot(epoch):
        return []
    target = path.with_name(path.stem + AVERAGED_SUFFIX + path.suffix)
    plots.save_figure(make_figure("ema_samples", AVERAGED_NOTE), target, footer=ctx.footer)
    return [target]


def _gan_curves(ctx: Context, path: Path, name: str):
    if not ctx.history:
        raise FigureError(f"{ctx.run.history_file} is missing or empty")
    e, col = ctx.history_column("epoch"), ctx.history_column
    panels = [
        {"title": "losses", "ylabel": "loss", "series": [
            ("discriminator (d_loss)", col("d_loss"), "C3-o"),
            ("generator (g_loss)", col("g_loss"), "C0-o")]},
        {"title": "discriminator accuracy", "ylabel": "accuracy", "series": [
            ("D on real", col("d_acc_real"), "C2-o"), ("D on fake", col("d_acc_fake"), "C1-o")]},
    ]
    if "cls_acc_real" in ctx.history[0]:
        panels[1]["series"] += [("class, real", col("cls_acc_real"), "C4--s"),
                                ("class, fake", col("cls_acc_fake"), "C5--s")]
    panels += _quality_panels(ctx)
    loss = ctx.config.get("loss", "non-saturating")
    fig = plots.curves_figure(e, panels, f"{name}: losses and accuracies per epoch ({loss} loss)")
    plots.save_figure(fig, path, footer=ctx.footer)


QUALITY_TAG = "[added by this project, not in the report]"


def _quality_panels(ctx: Context) -> list[dict]:
    """The per-epoch quality tracked during training (replication.tracking), if the run has
    it: the FID panel and the coverage / conditional-accuracy panel, trained and averaged G."""
    if not ctx.history or "fid" not in ctx.history[0]:
        return []
    col = ctx.history_column
    samples = int(ctx.config.get("track_samples", 0))
    classes = len(ctx.info.get("class_names", [])) or 10
    averaged = "fid_ema" in ctx.history[0]
    fid = [("trained G", col("fid"), "C0-o")]
    if averaged:
        fid.append(("averaged G (EMA)", col("fid_ema"), "C1--s"))
    share = [("coverage / classes, trained G", col("coverage") / classes, "C2-o")]
    if averaged:
        share.append(("coverage / classes, averaged G", col("coverage_ema") / classes, "C2--s"))
    if "cond_acc" in ctx.history[0]:
        share.append(("conditional accuracy, trained G", col("cond_acc"), "C4-o"))
        if averaged:
            share.append(("conditional accuracy, averaged G", col("cond_acc_ema"), "C4--s"))
    return [
        {"title": f"tracked FID, {samples:,} samples, project classifier\n{QUALITY_TAG}",
         "ylabel": "FID (classifier features)", "series": fid},
        {"title": f"class coverage and conditional accuracy\n{QUALITY_TAG}",
         "ylabel": "share", "ylim": (-0.02, 1.05), "series": share},
    ]


# --------------------------------------------------------------------------------------------
# Q2: DCGAN


@figure("fig09", "dcgan", "fig09.png",
        "The DCGAN generator: a noise vector projected and reshaped, then fractionally-strided "
        "(transposed) convolutions up to the image; no pooling or fully connected hidden layers.")
def _fig09(ctx: Context, path: Path):
    generator, _ = built_networks(ctx)
    fig = plots.model_diagram_figure([(
        generator, f"DCGAN generator ({generator.count_params():,} parameters), built from the "
        "run's config", "noise z")])
    plots.save_figure(fig, path, footer=ctx.footer)


@figure("fig10", "dcgan", "fig10.png", "DCGAN samples after the first epoch.")
def _fig10(ctx: Context, path: Path):
    plots.save_figure(_samples_figure(ctx, ctx.epochs[0]), path, footer=ctx.footer)


@figure("fig11", "dcgan", "fig11.png", "DCGAN samples after the last epoch.")
def _fig11(ctx: Context, path: Path):
    epoch = ctx.last_epoch
    plots.save_figure(_samples_figure(ctx, epoch), path, footer=ctx.footer)
    return _averaged_companion(ctx, epoch, path, lambda key, note: _samples_figure(
        ctx, epoch, f"{_losses_title(ctx, epoch)}\n{note}", key=key))


@figure("fig12", "dcgan", "fig12.png",
        "DCGAN loss per epoch (with the discriminator's accuracy on real and generated images).")
def _fig12(ctx: Context, path: Path):
    _gan_curves(ctx, path, "DCGAN")


@figure("dcgan.gif", "dcgan", "dcgan.gif", "DCGAN fixed-noise samples after every epoch.")
def _dcgan_gif(ctx: Context, path: Path):
    _epoch_gif(ctx, path, lambda epoch: _samples_figure(ctx, epoch), dpi=90)


# --------------------------------------------------------------------------------------------
# Q3: conditional GAN and AC-GAN

# The epochs after which the report shows class grids (1-based; the report's CGAN figures are
# captioned 0-based 0, 3, 5, 9, 11, 14 of 15 epochs).
CGAN_GRID_EPOCHS = {"fig15": 1, "fig16": 4, "fig17": 6, "fig18": 10, "fig19": 12, "fig20": 15}
CGAN_REPORT_EPOCHS = 15
ACGAN_GRID_EPOCHS = {"fig22": 1, "fig23": 6, "fig24": 9, "fig25": 13, "fig26": 17, "fig27": 18}
ACGAN_REPORT_EPOCHS = 18


def run_epoch_for(ctx: Context, report_epoch: int, report_total: int) -> int:
    """The run's epoch matching the report's ``report_epoch``: the same epoch when the run has
    the report's length, else the same fraction of training (short runs)."""
    wanted = report_epoch
    if ctx.total_epochs != report_total:
        wanted = max(1, round(report_epoch * ctx.total_epochs / report_total))
    return ctx.nearest_epoch(wanted)


def _class_grid_figure(ctx: Context, epoch: int, name: str, report_epoch=None, report_total=None,
                       key: str = "samples", note: str | None = None):
    snap = ctx.snapshot(epoch)
    classes = ctx.info.get("class_names") or [str(i) for i in range(int(snap["sample_labels"].max()) + 1)]
    title = f"{name} samples after epoch {epoch}/{ctx.total_epochs}: one row per class, same noise per column"
    if report_epoch is not None and (report_epoch != epoch or report_total != ctx.total_epochs):
        title += f"\n(the report's epoch {report_epoch}/{report_total}, scaled to this run)"
    row = next((r for r in ctx.history if int(r["epoch"]) == epoch), None)
    if row:
        title += f"\nd_loss={row['d_loss']:.3f}, g_loss={row['g_loss']:.3f}"
    if note:
        title += f"\n{note}"
    return plots.image_grid_figure(snap[key], int(snap["columns"]), title=title,
                                   row_labels=list(classes), size_per_image=0.55)


def _register_class_grids(name, experiment, epochs, report_total):
    """One figure per report epoch; the last one also draws the averaged generator's grid."""
    last = max(epochs, key=epochs.get)
    for fid, report_epoch in epochs.items():
        def draw(ctx, path, report_epoch=report_epoch, final=fid == last):
            epoch = run_epoch_for(ctx, report_epoch, report_total)
            plots.save_figure(_class_grid_figure(ctx, epoch, name, report_epoch, report_total),
                              path, footer=ctx.footer)
            if final:
                return _averaged_companion(ctx, epoch, path, lambda key, note: _class_grid_figure(
                    ctx, epoch, name, report_epoch, report_total, key=key, note=note))
            return []

        figure(fid, experiment, f"{fid}.png",
               f"{name} class-conditional samples after epoch {report_epoch} of {report_total} "
               "(one row per CIFAR-10 class, fixed noise).")(draw)


def _class_grid_gif(ctx: Context, path: Path, name: str):
    _epoch_gif(ctx, path, lambda epoch: _class_grid_figure(ctx, epoch, name))


@figure("fig13", "cgan", "fig13.png",
        "Structure of the conditional GAN: the class label enters both the generator (joined "
        "to the noise) and the discriminator (joined to the image's channels).")
def _fig13(ctx: Context, path: Path):
    generator, discriminator = built_networks(ctx)
    fig = plots.model_diagram_figure([
        (generator, f"generator G(z | y) ({generator.count_params():,} parameters)",
         "noise z (+ label y)"),
        (discriminator, f"discriminator D(x | y) ({discriminator.count_params():,} parameters)",
         "image x (+ label y)"),
    ], title="Conditional GAN, built from the run's config")
    plots.save_figure(fig, path, footer=ctx.footer)


@figure("fig14", "cgan", "fig14.png", "Real CIFAR-10 images of the ten classes.")
def _fig14(ctx: Context, path: Path):
    if not ctx.run.reference_file.exists():
        raise FigureError(f"{ctx.run.reference_file} is missing: retrain the run to write it")
    with np.load(ctx.run.reference_file) as npz:
        images, labels = npz["images"], npz["labels"]
    classes = ctx.info.get("class_names") or [str(i) for i in range(int(labels.max()) + 1)]
    columns = int(np.bincount(labels).max())
    fig = plots.image_grid_figure(images, columns, row_labels=list(classes), size_per_image=0.55,
                                  title="Real training images, ten per class")
    plots.save_figure(fig, path, footer=ctx.info.get("data"))


_register_class_grids("Conditional GAN", "cgan", CGAN_GRID_EPOCHS, CGAN_REPORT_EPOCHS)


@figure("fig21", "cgan", "fig21.png",
        "Conditional GAN loss per epoch (and the discriminator's accuracy): the two losses move "
        "in opposition, as the adversarial game implies.")
def _fig21(ctx: Context, path: Path):
    _gan_curves(ctx, path, "Conditional GAN")


@figure("cgan.gif", "cgan", "cgan.gif",
        "Conditional GAN: fixed noise x fixed classes after every epoch.")
def _cgan_gif(ctx: Context, path: Path):
    _class_grid_gif(ctx, path, "Conditional GAN")


@figure("table1", "acgan", "table1.md",
        "The AC-GAN architecture for CIFAR-10 (the paper's table), regenerated from the built "
        "Keras models; also drawn as table1.png.")
def _table1(ctx: Context, path: Path):
    from replication.models.acgan import TABLE_HEADER, architecture_rows

    generator, discriminator = built_networks(ctx)
    rows = architecture_rows(generator, discriminator)
    counts = (f"Parameters: generator {generator.count_params():,}, "
              f"discriminator {discriminator.count_params():,}.")
    lines = ["| " + " | ".join(TABLE_HEADER) + " |", "|" + "---|" * len(TABLE_HEADER)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    text = ("# AC-GAN architecture for CIFAR-10 (regenerated from the built Keras models)\n\n"
            + "\n".join(lines) + f"\n\n{counts}\n\nMade from run `{ctx.run.path}` "
            f"({ctx.footer.replace(chr(10), '; ')}).\n")
    with atomic_path(path, suffix=".md") as tmp:
        tmp.write_text(text)
    fig = plots.table_figure(TABLE_HEADER, rows, f"AC-GAN for CIFAR-10, read from the built models. {counts}")
    return [plots.save_figure(fig, path.with_suffix(".png"), footer=ctx.footer)]


_register_class_grids("AC-GAN", "acgan", ACGAN_GRID_EPOCHS, ACGAN_REPORT_EPOCHS)


@figure("fig28", "acgan", "fig28.png",
        "AC-GAN loss per epoch, with the source accuracy and the class accuracy on real and "
        "generated images.")
def _fig28(ctx: Context, path: Path):
    _gan_curves(ctx, path, "AC-GAN")


@figure("acgan.gif", "acgan", "acgan.gif", "AC-GAN: fixed noise x fixed classes after every epoch.")
def _acgan_gif(ctx: Context, path: Path):
    _class_grid_gif(ctx, path, "AC-GAN")


# --------------------------------------------------------------------------------------------
# Drawing and the manifest


def figures_of(experiment: str) -> list[FigureSpec]:
    return [spec for spec in FIGURES.values() if spec.experiment == experiment]


def draw_experiment(experiment: str, run_dir=None, out="figures", only=None) -> list[Path]:
    """Draw the figures of ``experiment`` from ``run_dir`` into ``out``; update the manifest."""
    specs = figures_of(experiment)
    if only:
        unknown = sorted(set(only) - {s.id for s in specs})
        if unknown:
            raise FigureError(f"{experiment} has no figure {', '.join(unknown)}; it has "
                              f"{', '.join(s.id for s in specs)}")
        specs = [s for s in specs if s.id in only]
    run = RunDir(run_dir if run_dir is not None else default_run_dir(experiment, "quick"))
    remove_partial_files(out)  # left by a drawing process that was killed
    if not run.path.exists():
        raise FigureError(f"run directory {run.path} does not exist; train first with "
                          f"`python -m replication train {experiment} --run-dir {run.path}`")
    ctx = Context(run)
    if ctx.info.get("experiment") != experiment:
        raise FigureError(f"{run.path} holds a {ctx.info.get('experiment')} run, not {experiment}")
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FigureError(f"cannot create the output folder {out} ({exc.strerror})") from None
    written = []
    entries = {}
    for spec in specs:
        path = out / spec.filename
        try:
            extra = spec.draw(ctx, path) or []  # a figure may also write companion files
        except OSError as exc:
            raise FigureError(f"cannot write {path} ({exc.strerror or exc}); nothing half-written "
                              "was left behind") from None
        for file in [path, *extra]:
            print(f"wrote {file}", flush=True)
            written.append(file)
            entries[file.name] = manifest_entry(spec, ctx)
    update_manifest(out, entries)
    return written


def manifest_entry(spec: FigureSpec, ctx: Context) -> dict:
    info = ctx.info
    return {
        "id": spec.id,
        "caption": spec.caption,
        "experiment": spec.experiment,
        "run": str(ctx.run.path),
        "profile": ctx.config.get("profile"),
        "epochs_run": ctx.last_epoch,
        "epochs_planned": ctx.total_epochs,
        "run_state": info.get("state"),
        "data": info.get("data"),
        "device": info.get("device"),
        "seed": ctx.config.get("seed"),
        "versions": info.get("versions"),
        "run_started_at": info.get("started_at"),
        "drawn_at": now(),
    }


def update_manifest(out: Path, entries: dict) -> None:
    path = Path(out) / "manifest.json"
    manifest = {"files": {}}
    if path.exists():
        try:
            manifest = read_json(path)
        except ValueError:
            print(f"warning: {path} was unreadable and is rebuilt", flush=True)
    manifest.setdefault("files", {}).update(entries)
    manifest["files"] = {k: manifest["files"][k] for k in sorted(
        manifest["files"], key=lambda name: _order(name))}
    write_json(path, manifest)


def _order(filename: str) -> tuple:
    """Sort key: the report's order of figure ids, each companion file (table1.png,
    fig11_ema.png) right after its figure."""
    for i, spec in enumerate(FIGURES.values()):
        if spec.filename == filename:
            return (i, 0, filename)
    stem = Path(filename).stem
    for i, spec in enumerate(FIGURES.values()):
        own = Path(spec.filename).stem
        if stem == own or stem.startswith(own + "_"):
            return (i, 1, filename)
    return (len(FIGURES), 0, filename)


__all__ = ["FIGURES", "FigureSpec", "FigureError", "draw_experiment", "figures_of"]


def script_main(figure_id: str, argv=None) -> int:
    """Entry point of the thin per-figure scripts in ``scripts/``: draw one figure."""
    import argparse
    import sys

    spec = FIGURES[figure_id]
    parser = argparse.ArgumentParser(description=f"{spec.id}: {spec.caption}")
    parser.add_argument("--run-dir", help=f"run directory (default: runs/{spec.experiment}/quick)")
    parser.add_argument("--out", default="figures", help="output folder (default: figures/)")
    args = parser.parse_args(argv)
    try:
        draw_experiment(spec.experiment, args.run_dir, args.out, only=[figure_id])
    except FigureError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
