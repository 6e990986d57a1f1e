"""Drawing primitives: image grids, loss curves, latent scatters, GIFs, diagrams, tables.

Everything here is pure drawing from arrays; which arrays make which report figure is decided in
:mod:`replication.figures`.  Files are written atomically (temporary name, then rename).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

os.environ.setdefault("MPLBACKEND", "Agg")

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from replication.runs import atomic_path  # noqa: E402

FOOTER_FONTSIZE = 6.5


def tile(images: np.ndarray, cols: int, pad: int = 1, pad_value: int = 255) -> np.ndarray:
    """Tile ``(N, H, W, C)`` uint8 images into one ``(rows*H', cols*W', C)`` image."""
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., None]
    n, h, w, c = images.shape
    rows = int(np.ceil(n / cols))
    out = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad, c), pad_value, images.dtype)
    for i, image in enumerate(images):
        r, k = divmod(i, cols)
        top, left = pad + r * (h + pad), pad + k * (w + pad)
        out[top:top + h, left:left + w] = image
    return out


def show_image(ax, image: np.ndarray, **kwargs) -> None:
    if image.ndim == 3 and image.shape[-1] == 1:
        ax.imshow(image[..., 0], cmap="gray", vmin=0, vmax=255, interpolation="nearest", **kwargs)
    else:
        ax.imshow(image, interpolation="nearest", **kwargs)


def add_footer(fig, text: str | None, inside: bool = False) -> None:
    """Write the provenance line under the figure (``inside``: within its canvas, for frames)."""
    if not text:
        return
    if inside:
        fig.subplots_adjust(bottom=max(fig.subplotpars.bottom, 0.16))
        fig.text(0.5, 0.01, text, ha="center", va="bottom", fontsize=FOOTER_FONTSIZE,
                 color="0.35", wrap=True)
    else:  # just below the lowest drawn element (figures are saved with a tight bbox)
        bottom = fig.get_tightbbox(fig.canvas.get_renderer()).y0 / fig.get_figheight()
        fig.text(0.5, bottom - 0.01, text, ha="center", va="top", fontsize=FOOTER_FONTSIZE,
                 color="0.35")


def save_figure(fig, path, footer: str | None = None, dpi: int = 120) -> Path:
    """Save ``fig`` to ``path`` atomically, with a provenance footer, and close it."""
    path = Path(path)
    add_footer(fig, footer)
    with atomic_path(path, suffix=path.suffix) as tmp:
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight", pad_inches=0.15)
    plt.close(fig)
    return path


def figure_to_array(fig, dpi: int = 100) -> np.ndarray:
    """Render ``fig`` to an RGB uint8 array (a GIF frame) and close it."""
    fig.set_dpi(dpi)
    fig.canvas.draw()
    frame = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    plt.close(fig)
    return frame


def save_gif(frames: list[np.ndarray], path, seconds_per_frame: float = 0.5,
             hold_last: float = 2.0) -> Path:
    """Write frames (same-size RGB arrays) as a looping GIF; the last frame is held longer."""
    import imageio.v3 as iio

    if not frames:
        raise ValueError("no frames")
    height = max(f.shape[0] for f in frames)
    width = max(f.shape[1] for f in frames)
    padded = []
    for f in frames:
        canvas = np.full((height, width, 3), 255, np.uint8)
        canvas[:f.shape[0], :f.shape[1]] = f
        padded.append(canvas)
    durations = [int(seconds_per_frame * 1000)] * len(padded)
    durations[-1] = int(hold_last * 1000)
    path = Path(path)
    with atomic_path(path, suffix=".gif") as tmp:
        iio.imwrite(tmp, np.stack(padded), extension=".gif", duration=durations, loop=0)
    return path


def image_grid_figure(images: np.ndarray, cols: int, title: str | None = None,
                      row_labels: list[str] | None = None, size_per_image: float = 0.45):
    """A figure showing images in a grid (optionally one labelled row per class)."""
    grid = tile(images, cols)
    rows = int(np.ceil(len(images) / cols))
    fig, ax = plt.subplots(figsize=(max(3.0, cols * size_per_image) + (1.2 if row_labels else 0),
                                    max(2.0, rows * size_per_image) + 0.6))
    show_image(ax, grid)
    ax.set_xticks([])
    ax.set_yticks([])
    if row_labels:
        h = images.shape[1] + 1
        ax.set_yticks([1 + h * (i + 0.5) for i in range(len(row_labels))])
        ax.set_yticklabels(row_labels, fontsize=8)
        ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    if title:
        ax.set_title(title, fontsize=10)
    return fig


def latent_scatter_figure(z: np.ndarray, labels: np.ndarray, class_names, title: str,
                          limits=None):
    fig, ax = plt.subplots(figsize=(6.2, 5.4))
    cmap = plt.get_cmap("tab10")
    for c, name in enumerate(class_names):
        mask = labels == c
        ax.scatter(z[mask, 0], z[mask, 1], s=2.5, color=cmap(c % 10), label=str(name),
                   alpha=0.7, linewidths=0, rasterized=True)
    if limits is not None:
        ax.set_xlim(limits[0])
        ax.set_ylim(limits[1])
    ax.set_xlabel("$z_1$ (encoder mean)")
    ax.set_ylabel("$z_2$ (encoder mean)")
    ax.set_title(title, fontsize=10)
    ax.legend(markerscale=4, fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5),
              title="class", title_fontsize=8, frameon=False)
    ax.grid(alpha=0.2)
    fig.subplots_adjust(left=0.11, right=0.84, top=0.92)
    return fig


def curves_figure(epochs, panels: list[dict], title: str):
    """``panels``: ``[{"title", "ylabel", "series": [(label, values, style)]}]`` side by side
    (two per row when there are more than three); a panel's optional ``"right": {"ylabel",
    "series"}`` draws more series against a second y-axis on its right (a quantity of another
    size that would flatten the others)."""
    cols = len(panels) if len(panels) <= 3 else 2
    rows = -(-len(panels) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.5 * cols, 3.9 * rows), squeeze=False)
    for ax in axes.flat[len(panels):]:
        ax.set_visible(False)
    for ax, panel in zip(axes.flat, panels):
        for label, values, style in panel["series"]:
            ax.plot(epochs, values, style, label=label, linewidth=1.5, markersize=3)
        ax.set_xlabel("epoch")
        ax.set_ylabel(panel.get("ylabel", ""))
        if "ylim" in panel:
            ax.set_ylim(*panel["ylim"])
        ax.set_title(panel.get("title", ""), fontsize=10)
        ax.grid(alpha=0.3)
        handles, labels = ax.get_legend_handles_labels()
        legend_ax, where = ax, "best"
        if "right" in panel:
            right = ax.twinx()
            for label, values, style in panel["right"]["series"]:
                right.plot(epochs, values, style, label=label, linewidth=1.5, markersize=3)
            right.set_ylabel(panel["right"].get("ylabel", ""))
            more = right.get_legend_handles_labels()
            handles, labels = handles + more[0], labels + more[1]
            legend_ax, where = right, "center right"  # drawn last: over both axes' curves
        legend_ax.legend(handles, labels, fontsize=8, loc=where, framealpha=0.9)
        if len(epochs) and max(epochs) <= 20:
            ax.set_xticks(list(epochs))
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


def graphical_model_figure():
    """fig01: z -> x with generative parameters theta and recognition parameters phi."""
    from matplotlib.patches import Circle, FancyArrowPatch, Rectangle

    fig, ax = plt.subplots(figsize=(4.2, 4.4))
    ax.set_xlim(0, 4.2)
    ax.set_ylim(0, 4.6)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.add_patch(Rectangle((0.9, 0.35), 2.4, 3.5, fill=False, linewidth=1.2))
    ax.text(3.15, 0.5, "$N$", fontsize=12, ha="right")
    ax.add_patch(Circle((2.1, 2.9), 0.42, facecolor="white", edgecolor="black", linewidth=1.4))
    ax.add_patch(Circle((2.1, 1.2), 0.42, facecolor="0.8", edgecolor="black", linewidth=1.4))
    ax.text(2.1, 2.9, "$z$", fontsize=16, ha="center", va="center")
    ax.text(2.1, 1.2, "$x$", fontsize=16, ha="center", va="center")
    ax.add_patch(FancyArrowPatch((2.0, 2.47), (2.0, 1.63), arrowstyle="-|>", mutation_scale=16,
                                 linewidth=1.4))
    ax.add_patch(FancyArrowPatch((2.25, 1.63), (2.25, 2.47), arrowstyle="-|>", mutation_scale=16,
                                 linewidth=1.4, linestyle="--", connectionstyle="arc3,rad=-0.5"))
    ax.text(3.75, 2.1, r"$\theta$", fontsize=16, ha="center", va="center")
    ax.add_patch(FancyArrowPatch((3.6, 2.2), (2.52, 2.8), arrowstyle="-|>", mutation_scale=14))
    ax.add_patch(FancyArrowPatch((3.6, 2.0), (2.52, 1.35), arrowstyle="-|>", mutation_scale=14))
    ax.text(0.45, 2.1, r"$\phi$", fontsize=16, ha="center", va="center")
    ax.add_patch(FancyArrowPatch((0.6, 2.1), (2.25, 2.1), arrowstyle="-|>", mutation_scale=14,
                                 linestyle="--"))
    ax.text(2.1, 4.15, "solid: generative model $p_\\theta(z)\\,p_\\theta(x|z)$\n"
            "dashed: recognition model $q_\\phi(z|x)$", fontsize=8.5, ha="center", va="center")
    return fig


def table_figure(header: list[str], rows: list[list[str]], title: str):
    """Render a table as an image (for table1.png)."""
    fig, ax = plt.subplots(figsize=(min(14, 1.45 * len(header) + 1), 0.34 * (len(rows) + 2) + 0.6))
    ax.axis("off")
    table = ax.table(cellText=rows, colLabels=header, loc="center", cellLoc="center")
    table.auto_set_font_size(False)
    table.set_fontsize(8)
    table.scale(1, 1.25)
    last = len(header) - 1
    spanning = {i + 1 for i, row in enumerate(rows) if any(row[:1]) and not any(row[1:])}
    for (r, c), cell in table.get_celld().items():
        if r == 0:
            cell.set_facecolor("0.88")
            cell.set_text_props(weight="bold")
        elif r in spanning:  # a heading row ("G input: ..."): its text runs across the row
            cell.set_facecolor("0.96")
            cell.visible_edges = "BTL" if c == 0 else ("BTR" if c == last else "BT")
            if c == 0:
                cell._loc = "left"  # matplotlib's own alignment switch for a table cell
                cell.set_text_props(ha="left", weight="bold")
    ax.set_title(title, fontsize=10)
    return fig


# --------------------------------------------------------------------------------------------
# Network diagrams (fig09, fig13), drawn from built Keras models


def describe_layer(layer) -> str | None:
    """A short paper-style name of a layer's operation (None for input layers)."""
    from keras import layers as L

    def pair(value):
        value = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
        return f"{value[0]}×{value[1]}"

    if isinstance(layer, L.InputLayer):
        return None
    if isinstance(layer, L.Conv2DTranspose):
        return f"ConvT {pair(layer.kernel_size)}, stride {layer.strides[0]}, {layer.filters}"
    if isinstance(layer, L.Conv2D):
        return f"Conv {pair(layer.kernel_size)}, stride {layer.strides[0]}, {layer.filters}"
    if isinstance(layer, L.Dense):
        return f"Dense {layer.units}"
    if isinstance(layer, L.BatchNormalization):
        return "BatchNorm"
    if isinstance(layer, L.LayerNormalization):
        return "LayerNorm"
    if isinstance(layer, L.LeakyReLU):
        return f"LeakyReLU({layer.negative_slope:g})"
    if isinstance(layer, L.ReLU):
        return "ReLU"
    if isinstance(layer, L.Activation):
        return getattr(layer.activation, "__name__", "activation")
    if isinstance(layer, L.Dropout):
        return f"Dropout {layer.rate:g}"
    if isinstance(layer, L.GaussianNoise):
        return f"GaussianNoise σ={layer.stddev:g}"
    if isinstance(layer, L.Embedding):
        return f"Embedding {layer.input_dim}→{layer.output_dim}"
    # The conditional GAN's label paths (replication.models.dcgan, models.layers)
    if isinstance(layer, L.Multiply) and layer.name.endswith("_class_scale"):
        return "× γ[y]"
    if isinstance(layer, L.Add) and layer.name.endswith("_class_shift"):
        return "+ β[y]"
    if isinstance(layer, L.Dot) and layer.name == "projection":
        return "+ ⟨embed(y), φ(x)⟩"
    if isinstance(layer, L.Add) and layer.name == "logit_and_projection":
        return ""
    return type(layer).__name__


def _is_block_start(layer) -> bool:
    from keras import layers as L

    return isinstance(layer, (L.Dense, L.Conv2D, L.Conv2DTranspose, L.Embedding, L.Concatenate,
                              L.Flatten))


def model_blocks(model) -> list[dict]:
    """Group a chain-like functional model into blocks: a weight layer and what follows it.

    Returns ``[{"ops": [str], "shape": tuple}]``; the first entry is the first input.  Layers
    on a conditional model's label path (named ``label*``) are folded into the layer that
    joins the label to the main path.
    """
    from keras import layers as L

    blocks = [{"ops": ["input"], "shape": tuple(model.inputs[0].shape[1:])}]
    for layer in model.layers:
        text = describe_layer(layer)
        if not text or layer.name.startswith("label"):
            continue
        if isinstance(layer, L.Concatenate):
            extra = [t.shape[-1] for t in layer.input[1:]]
            text = "join one-hot label" + (f"\n({', '.join(map(str, extra))} channels)"
                                           if len(layer.output.shape) == 4 else "")
        if isinstance(layer, L.Dot):  # the projection: a term beside the logit, not a block
            blocks[-1]["ops"].append(text)
            continue
        shape = tuple(layer.output.shape[1:]) if hasattr(layer, "output") else ()
        if _is_block_start(layer) or len(blocks) == 1:
            blocks.append({"ops": [text], "shape": shape})
        else:
            if text != "Reshape":
                blocks[-1]["ops"].append(text)
            blocks[-1]["shape"] = shape
    return blocks


def model_diagram_figure(models: list[tuple], title: str | None = None):
    """Diagrams of one or more models, stacked; ``models`` is ``[(model, title, input_label)]``."""
    width = max(len(model_blocks(m)) for m, _, _ in models)
    fig, axes = plt.subplots(len(models), 1, figsize=(2.3 * width + 0.5, 4.6 * len(models)),
                             squeeze=False)
    for ax, (model, sub_title, input_label) in zip(axes[:, 0], models):
        draw_model_diagram(ax, model, sub_title, input_label)
    if title:
        fig.suptitle(title, fontsize=11)
    return fig


def draw_model_diagram(ax, model, title: str, input_label: str | None = None):
    """Left-to-right diagram of a model's feature maps (boxes sized by map size and depth) with
    the operations between them, in the style of the DCGAN paper's Figure 1."""
    from matplotlib.patches import FancyArrowPatch, Polygon, Rectangle

    blocks = model_blocks(model)
    spatial = [b["shape"][0] if len(b["shape"]) == 3 else 1 for b in blocks]
    biggest = max(spatial)
    ax.axis("off")
    x = 0.0
    centres = []
    for i, (block, size) in enumerate(zip(blocks, spatial)):
        shape = block["shape"]
        channels = shape[-1] if shape else 1
        if len(shape) == 3:
            h = 0.5 + 2.4 * size / biggest
            w = 0.12 + 0.1 * np.log2(max(channels, 1))
            d = 0.35 * h
        else:  # a vector
            h, w, d = 2.9, 0.12, 0.0
        colour = "#cfe2f3" if i == 0 else ("#d9ead3" if i < len(blocks) - 1 else "#f4cccc")
        ax.add_patch(Rectangle((x, -h / 2), w, h, facecolor=colour, edgecolor="0.2"))
        if d:
            ax.add_patch(Polygon([(x, h / 2), (x + d * 0.6, h / 2 + d * 0.4),
                                  (x + w + d * 0.6, h / 2 + d * 0.4), (x + w, h / 2)],
                                 closed=True, facecolor=colour, edgecolor="0.2", alpha=0.8))
            ax.add_patch(Polygon([(x + w, -h / 2), (x + w + d * 0.6, -h / 2 + d * 0.4),
                                  (x + w + d * 0.6, h / 2 + d * 0.4), (x + w, h / 2)],
                                 closed=True, facecolor=colour, edgecolor="0.2", alpha=0.6))
        label = "×".join(str(s) for s in shape)
        if i == 0 and input_label:
            label = f"{input_label}\n{label}"
        ax.text(x + w / 2, -1.75, label, ha="center", va="top", fontsize=8.5, weight="bold")
        centres.append((x, x + w + d * 0.6))
        x += w + d * 0.6 + 1.75
    for i in range(1, len(blocks)):
        start, end = centres[i - 1][1] + 0.05, centres[i][0] - 0.05
        ax.add_patch(FancyArrowPatch((start, 0), (end, 0), arrowstyle="-|>", mutation_scale=12,
                                     color="0.3"))
        ax.text((start + end) / 2, 0.12, "\n".join(blocks[i]["ops"]), ha="center", va="bottom",
                fontsize=7.2, linespacing=1.25)
    ax.set_xlim(-0.3, x - 1.3)
    ax.set_ylim(-2.3, 2.6)
    ax.set_title(title, fontsize=10)
