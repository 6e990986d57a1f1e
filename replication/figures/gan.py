"""Q2 and Q3 figures (fig09-fig28, table1, the GAN GIFs) from GAN runs, with the project's
additions: the tracked-quality panels of the loss figures and the averaged generator's grids."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from replication import experiments, plots
from replication.experiments import config_from_dict
from replication.figures.core import Context, FigureError, epoch_gif, figure
from replication.runs import atomic_path, report_log_line


def built_networks(ctx: Context):
    """The experiment's (generator, discriminator), rebuilt from the run's config (structure
    only: diagrams and tables need no trained weights)."""
    config = config_from_dict(ctx.config)
    image_shape = tuple(ctx.snapshot()["samples"].shape[1:])
    return experiments.get(ctx.info["experiment"]).networks(config, image_shape,
                                                            ctx.num_classes)


def _losses_title(ctx: Context, epoch: int) -> str:
    """The report's log line for ``epoch``: ``epoch = 1/60, d_loss=0.479, g_loss=2.511``."""
    row = next((r for r in ctx.history if int(r["epoch"]) == epoch), {})
    return report_log_line(epoch, ctx.total_epochs, row, ("d_loss", "g_loss"))


def _samples_figure(ctx: Context, epoch: int, title: str | None = None, key: str = "samples"):
    snap = ctx.snapshot(epoch)
    return plots.image_grid_figure(snap[key], int(snap["columns"]), size_per_image=0.5,
                                   title=title or _losses_title(ctx, epoch))


AVERAGED_SUFFIX = "_ema"
AVERAGED_NOTE = ("averaged generator (EMA of the weights; this project's addition), "
                 "same inputs as the trained generator's grid")


# The numbers the report states: its DCGAN log lines after the first and the last epoch.
REPORT_DCGAN_LINES = ("epoch = 1/60, d_loss=0.479, g_loss=2.511",
                      "epoch = 61/60, d_loss=0.175, g_loss=6.724")


def averaged_grid(out: Path, spec, entry: dict, run: dict) -> list[str]:
    """Gallery: the averaged generator's grid beside the trained generator's."""
    averaged = Path(spec.filename).stem + AVERAGED_SUFFIX + ".png"
    if not (out / averaged).exists():
        return []
    return ["The averaged generator (an exponential moving average of the trained generator's "
            "weights, this project's addition) on the same inputs, beside the trained "
            "generator the report shows:", "",
            f"| trained generator ({spec.id}) | averaged generator |", "|---|---|",
            f"| ![{spec.id}]({spec.filename}) | ![{spec.id} averaged]({averaged}) |", ""]


def report_log_lines(out: Path, spec, entry: dict, run: dict) -> list[str]:
    """Gallery: the report's DCGAN log lines beside this run's."""
    history = run.get("history") or []
    if not history:
        return []
    total = run["config"]["epochs"]
    ours = [report_log_line(int(r["epoch"]), total, r, ("d_loss", "g_loss"))
            for r in (history[0], history[-1])]
    return ["The report's log lines beside ours:", "",
            "| | the report | this run |", "|---|---|---|",
            f"| after the first epoch | `{REPORT_DCGAN_LINES[0]}` | `{ours[0]}` |",
            f"| after the last epoch | `{REPORT_DCGAN_LINES[1]}` (its loop ran one epoch past "
            f"its count) | `{ours[1]}` |", ""]


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


@figure("fig09", "fig09.png",
        "The DCGAN generator: a noise vector projected and reshaped, then fractionally-strided "
        "(transposed) convolutions up to the image; no pooling or fully connected hidden layers.")
def _fig09(ctx: Context, path: Path):
    generator, _ = built_networks(ctx)
    fig = plots.model_diagram_figure([(
        generator, f"DCGAN generator ({generator.count_params():,} parameters), built from the "
        "run's config", "noise z")])
    plots.save_figure(fig, path, footer=ctx.footer)


@figure("fig10", "fig10.png", "DCGAN samples after the first epoch.")
def _fig10(ctx: Context, path: Path):
    plots.save_figure(_samples_figure(ctx, ctx.epochs[0]), path, footer=ctx.footer)


@figure("fig11", "fig11.png", "DCGAN samples after the last epoch.",
        extras=(f"fig11{AVERAGED_SUFFIX}.png",), gallery=(averaged_grid, report_log_lines))
def _fig11(ctx: Context, path: Path):
    epoch = ctx.last_epoch
    plots.save_figure(_samples_figure(ctx, epoch), path, footer=ctx.footer)
    return _averaged_companion(ctx, epoch, path, lambda key, note: _samples_figure(
        ctx, epoch, f"{_losses_title(ctx, epoch)}\n{note}", key=key))


@figure("fig12", "fig12.png",
        "DCGAN loss per epoch (with the discriminator's accuracy on real and generated images).")
def _fig12(ctx: Context, path: Path):
    _gan_curves(ctx, path, "DCGAN")


@figure("dcgan.gif", "dcgan.gif", "DCGAN fixed-noise samples after every epoch.")
def _dcgan_gif(ctx: Context, path: Path):
    epoch_gif(ctx, path, lambda epoch: _samples_figure(ctx, epoch), dpi=90)


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


def class_grid_figure(ctx: Context, epoch: int, name: str, report_epoch=None, report_total=None,
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


def _register_class_grids(name, epochs, report_total):
    """One figure per report epoch; the last one also draws the averaged generator's grid."""
    last = max(epochs, key=epochs.get)
    for fid, report_epoch in epochs.items():
        def draw(ctx, path, report_epoch=report_epoch, final=fid == last):
            epoch = run_epoch_for(ctx, report_epoch, report_total)
            plots.save_figure(class_grid_figure(ctx, epoch, name, report_epoch, report_total),
                              path, footer=ctx.footer)
            if final:
                return _averaged_companion(ctx, epoch, path, lambda key, note: class_grid_figure(
                    ctx, epoch, name, report_epoch, report_total, key=key, note=note))
            return []

        figure(fid, f"{fid}.png",
               f"{name} class-conditional samples after epoch {report_epoch} of {report_total} "
               "(one row per class, fixed noise).",
               extras=(f"{fid}{AVERAGED_SUFFIX}.png",) if fid == last else (),
               gallery=(averaged_grid,) if fid == last else ())(draw)


def _class_grid_gif(ctx: Context, path: Path, name: str):
    epoch_gif(ctx, path, lambda epoch: class_grid_figure(ctx, epoch, name))


# How each label conditioning (CGANConfig.label_conditioning) feeds the label, for fig13.
LABEL_ROUTES = {
    "input-concat": ("one-hot label joined to the noise", "label planes joined to the image"),
    "projection": ("class-conditional BatchNorm (γ[y], β[y] in every BN)",
                   "projection: logit + ⟨embed(y), φ(x)⟩"),
    "projection-d": ("one-hot label joined to the noise", "projection: logit + ⟨embed(y), φ(x)⟩"),
    "late-concat": ("one-hot label joined to the noise", "label planes joined to the 4×4 features"),
}


@figure("fig13", "fig13.png",
        "Structure of the conditional GAN, drawn from the run's networks: where the class label "
        "enters the generator and the discriminator (the run's label conditioning).")
def _fig13(ctx: Context, path: Path):
    generator, discriminator = built_networks(ctx)
    design = config_from_dict(ctx.config).label_conditioning
    g_route, d_route = LABEL_ROUTES[design]
    fig = plots.model_diagram_figure([
        (generator, f"generator G(z | y): {g_route} ({generator.count_params():,} parameters)",
         "noise z (+ label y)"),
        (discriminator, f"discriminator D(x | y): {d_route} "
                        f"({discriminator.count_params():,} parameters)", "image x (+ label y)"),
    ], title=f"Conditional GAN, label conditioning '{design}', built from the run's config")
    plots.save_figure(fig, path, footer=ctx.footer)


@figure("fig14", "fig14.png", "Real CIFAR-10 images of the ten classes.")
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


_register_class_grids("Conditional GAN", CGAN_GRID_EPOCHS, CGAN_REPORT_EPOCHS)


@figure("fig21", "fig21.png",
        "Conditional GAN loss per epoch (and the discriminator's accuracy).")
def _fig21(ctx: Context, path: Path):
    _gan_curves(ctx, path, "Conditional GAN")


@figure("cgan.gif", "cgan.gif",
        "Conditional GAN: fixed noise x fixed classes after every epoch.")
def _cgan_gif(ctx: Context, path: Path):
    _class_grid_gif(ctx, path, "Conditional GAN")


@figure("table1", "table1.md",
        "The AC-GAN architecture for CIFAR-10 (the paper's table), regenerated from the built "
        "Keras models; also drawn as table1.png.", extras=("table1.png",))
def _table1(ctx: Context, path: Path):
    from replication.models.acgan import TABLE_HEADER, architecture_rows

    generator, discriminator = built_networks(ctx)
    rows = architecture_rows(generator, discriminator)
    counts = (f"Parameters: generator {generator.count_params():,}, "
              f"discriminator {discriminator.count_params():,}.")
    lines = ["| " + " | ".join(TABLE_HEADER) + " |", "|" + "---|" * len(TABLE_HEADER)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    text = (f"# AC-GAN architecture for {ctx.dataset_title} (regenerated from the built Keras "
            "models)\n\n"
            + "\n".join(lines) + f"\n\n{counts}\n\nMade from run `{ctx.run.path}` "
            f"({ctx.footer.replace(chr(10), '; ')}).\n")
    with atomic_path(path, suffix=".md") as tmp:
        tmp.write_text(text)
    fig = plots.table_figure(TABLE_HEADER, rows, f"AC-GAN for {ctx.dataset_title}, read from the "
                             f"built models. {counts}")
    return [plots.save_figure(fig, path.with_suffix(".png"), footer=ctx.footer)]


_register_class_grids("AC-GAN", ACGAN_GRID_EPOCHS, ACGAN_REPORT_EPOCHS)


@figure("fig28", "fig28.png",
        "AC-GAN loss per epoch, with the source accuracy and the class accuracy on real and "
        "generated images.")
def _fig28(ctx: Context, path: Path):
    _gan_curves(ctx, path, "AC-GAN")


@figure("acgan.gif", "acgan.gif", "AC-GAN: fixed noise x fixed classes after every epoch.")
def _acgan_gif(ctx: Context, path: Path):
    _class_grid_gif(ctx, path, "AC-GAN")

