"""Q1 figures (fig01-fig06, the VAE GIFs) and the Q1 bonus (fig07, fig08), from VAE runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from replication import plots
from replication.experiments import config_from_dict
from replication.figures.core import Context, FigureError, epoch_gif, figure

@figure("fig01", "fig01.png",
        "Graphical model of the problem: latent z generates data x through the generative "
        "model p_theta (solid); the recognition model q_phi(z|x) (dashed) approximates the "
        "posterior.")
def _fig01(ctx: Context, path: Path):
    fig = plots.graphical_model_figure()
    plots.save_figure(fig, path, footer="drawn by replication.plots (independent of training)")


@figure("fig02", "fig02.png",
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


@figure("fig03", "fig03.png",
        "Generated images: random samples decoded from z ~ N(0, I).")
def _fig03(ctx: Context, path: Path):
    snap = ctx.snapshot()
    samples = snap["samples"]
    fig = plots.image_grid_figure(samples, int(np.ceil(np.sqrt(len(samples)))),
                                  title=f"VAE samples, z ~ N(0, I), epoch {ctx.last_epoch}")
    plots.save_figure(fig, path, footer=ctx.footer)


@figure("fig03b", "fig03b.png",
        "Generated images: test digits (top) and their reconstructions (bottom).")
def _fig03b(ctx: Context, path: Path):
    snap = ctx.snapshot()
    images = np.concatenate([snap["originals"], snap["reconstructions"]])
    fig = plots.image_grid_figure(images, len(snap["originals"]), size_per_image=0.6,
                                  row_labels=["test image", "reconstruction"],
                                  title=f"VAE reconstructions (decoded encoder mean), epoch {ctx.last_epoch}")
    plots.save_figure(fig, path, footer=ctx.footer)


@figure("fig04", "fig04.png",
        "Generated images: linear interpolations in latent space between encoded test digits.")
def _fig04(ctx: Context, path: Path):
    snap = ctx.snapshot()
    steps = int(ctx.config["interpolation_steps"])
    fig = plots.image_grid_figure(snap["interpolations"], steps, size_per_image=0.55,
                                  title=f"Latent interpolations between {ctx.dataset_title} test images, "
                                        f"epoch {ctx.last_epoch}")
    plots.save_figure(fig, path, footer=ctx.footer)


@figure("fig05", "fig05.png",
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
        ("total = −ELBO (train)", col("loss"), "C2-o"),
        ("total = −ELBO (test)", col("val_loss"), "C2--s"),
    ]
    # KL x 100, as the report draws it, on its own axis: beside a reconstruction of ~140 nats
    # its scale (~700 for a 2-D latent) would flatten the other curves into one band.
    kl = [("KL × 100 (train, right axis)", 100 * col("kl_loss"), "C1-o"),
          ("KL × 100 (test, right axis)", 100 * col("val_kl_loss"), "C1--s")]
    fig = plots.curves_figure(e, [{"title": "VAE losses (KL drawn ×100, as in the report)",
                                   "ylabel": "nats per image", "series": series,
                                   "right": {"ylabel": "KL × 100 (nats per image)",
                                             "series": kl}}],
                              title="")
    plots.save_figure(fig, path, footer=ctx.footer)


def _latent_limits(ctx: Context):
    """The axes of the latent GIF: every frame's points (read as GIF frame data)."""
    lo, hi = np.inf * np.ones(2), -np.inf * np.ones(2)
    for epoch in ctx.epochs:
        with ctx.for_frames():
            z = ctx.snapshot(epoch)["latent_z"]
        lo = np.minimum(lo, np.percentile(z, 0.5, axis=0))
        hi = np.maximum(hi, np.percentile(z, 99.5, axis=0))
    pad = 0.05 * (hi - lo)
    return [(lo[0] - pad[0], hi[0] + pad[0]), (lo[1] - pad[1], hi[1] + pad[1])]


def _latent_figure(ctx: Context, epoch: int, limits=None, what="VAE"):
    snap = ctx.snapshot(epoch)
    n = len(snap["latent_z"])
    return plots.latent_scatter_figure(
        snap["latent_z"], snap["latent_labels"], ctx.class_names or
        [str(i) for i in range(int(snap["latent_labels"].max()) + 1)],
        f"{what} latent space: {n} test images, epoch {epoch}/{ctx.total_epochs}", limits)


@figure("fig06", "fig06.png",
        "Latent space: the encoded MNIST test set, coloured by digit.")
def _fig06(ctx: Context, path: Path):
    plots.save_figure(_latent_figure(ctx, ctx.last_epoch), path, footer=ctx.footer)


@figure("vae_grid.gif", "vae_grid.gif",
        "The latent-manifold grid (fig02) after every epoch of training.")
def _vae_grid_gif(ctx: Context, path: Path):
    epoch_gif(ctx, path, lambda epoch: _manifold_figure(ctx, epoch))


@figure("vae_latent.gif", "vae_latent.gif",
        "The latent-space scatter (fig06) after every epoch of training.")
def _vae_latent_gif(ctx: Context, path: Path):
    limits = _latent_limits(ctx)
    epoch_gif(ctx, path, lambda epoch: _latent_figure(ctx, epoch, limits))



# --------------------------------------------------------------------------------------------
# Q1 bonus: VAE with an EfficientNet encoder (B0 or Lite0)

ENCODER_NAMES = {"efficientnet-b0": "EfficientNet-B0", "efficientnet-lite0": "EfficientNet-Lite0"}


def _encoder_name(ctx: Context) -> str:
    """The run's encoder (a run saved before the choice existed had B0), and its input size
    when the digit is upsampled for it."""
    config = config_from_dict(ctx.config)
    name = ENCODER_NAMES[config.encoder]
    if config.encoder_upsample > 1:
        size = config.encoder_input_size * config.encoder_upsample
        name += f" ({size}x{size} input)"
    return name


def _weights_note(ctx: Context) -> str:
    weights = ctx.config.get("encoder_weights", "?")
    name = _encoder_name(ctx)
    return {"imagenet": f"ImageNet-pretrained {name} encoder",
            "none": f"randomly initialised {name} encoder"}.get(
        weights, f"{name} encoder, weights from {Path(str(weights)).name}")


def _beside_fig06(out: Path, spec, entry: dict, run: dict) -> list[str]:
    """Gallery: the two encoders' latent spaces side by side."""
    if not (out / "fig06.png").exists():
        return []
    return ["Side by side, the two encoders' latent spaces (fig06: convolutional encoder; "
            f"fig07: {ENCODER_NAMES[config_from_dict(run['config']).encoder]} "
            "encoder):", "",
            "| fig06 (Q1 VAE) | fig07 (EfficientNet VAE) |", "|---|---|",
            "| ![fig06](fig06.png) | ![fig07](fig07.png) |", ""]


@figure("fig07", "fig07.png",
        "Latent space of the VAE with the EfficientNet encoder: the encoded MNIST test set, "
        "coloured by digit.", gallery=(_beside_fig06,))
def _fig07(ctx: Context, path: Path):
    fig = _latent_figure(ctx, ctx.last_epoch, what=f"EfficientNet-VAE ({_weights_note(ctx)})")
    plots.save_figure(fig, path, footer=ctx.footer)


@figure("fig08", "fig08.png",
        "Images generated by the VAE with the EfficientNet encoder (decoded z ~ N(0, I)).")
def _fig08(ctx: Context, path: Path):
    samples = ctx.snapshot()["samples"]
    fig = plots.image_grid_figure(
        samples, int(np.ceil(np.sqrt(len(samples)))),
        title=f"EfficientNet-VAE samples, z ~ N(0, I), epoch {ctx.last_epoch}\n({_weights_note(ctx)})")
    plots.save_figure(fig, path, footer=ctx.footer)

