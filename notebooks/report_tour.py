# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # The report's generative models, played with
#
# A tour of the report this project replicates (University of Tehran, *Neural Networks and
# Deep Learning*, mini-project 3, 2020), question by question, with the models that ship in
# `pretrained/`: each one loaded as a Keras object, a few cells that ask it for new images, and
# the numbers its run wrote. Nothing here trains; every cell runs in seconds on a CPU.
#
# This notebook's source is `notebooks/report_tour.py` (Jupytext's percent format, the file to
# edit and diff); `notebooks/report_tour.ipynb` is made from it, without outputs:
# `jupytext --to ipynb notebooks/report_tour.py` (and back: `jupytext --to py:percent
# notebooks/report_tour.ipynb`). The test suite executes the notebook (`nbmake`).

# %%
# Set-up. On a fresh machine this installs the project from the repository that holds this
# notebook (the same as `pip install -e ".[test]"` at its root; everything it needs ships in the
# repository, so no download happens at run time). On a GPU machine nothing changes:
# TensorFlow places the models on the GPU by itself.
import importlib.util
import subprocess
import sys
from pathlib import Path

ROOT = next(p for p in (Path.cwd(), *Path.cwd().parents) if (p / "setup.cfg").exists())
if importlib.util.find_spec("replication") is None:
    subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", "-e", str(ROOT)])

import json  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import replication  # noqa: E402  (first: it loads TensorFlow without its start-up lines)
from replication.backend import import_tensorflow  # noqa: E402

import_tensorflow()
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

PRETRAINED = ROOT / "pretrained"
GALLERY = ROOT / "figures"
print("Keras", keras.__version__, "| TensorFlow", tf.__version__, "| devices:",
      [d.device_type for d in tf.config.list_logical_devices()])
print("shipped runs:", sorted(p.name for p in PRETRAINED.iterdir() if (p / "config.json").exists()))


def numpy(tensor) -> np.ndarray:
    """A model's output as a float32 NumPy array (models trained in bf16 compute in it)."""
    return keras.ops.convert_to_numpy(tensor).astype("float32")


def to_uint8(images) -> np.ndarray:
    """A generator's tanh output in [-1, 1] as 8-bit pixels."""
    return ((numpy(images) + 1) * 127.5).round().clip(0, 255).astype("uint8")


def read(run: str, name: str) -> dict:
    """A JSON file of a shipped run (config.json, metrics.json)."""
    return json.loads((PRETRAINED / run / name).read_text())


def show(images, columns, title="", row_labels=None, size=0.9):
    """A grid of uint8 or [0, 1] images, one row of ``columns`` after another."""
    images = np.asarray(images)
    rows = -(-len(images) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(columns * size, rows * size + 0.4),
                             squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_frame_on(False)
        if i < len(images):
            image = images[i]
            ax.imshow(image.squeeze(), cmap="gray" if image.shape[-1] == 1 else None,
                      vmin=0, vmax=255 if image.dtype == np.uint8 else 1)
    if row_labels is not None:
        for label, ax in zip(row_labels, axes[:, 0]):
            ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
    fig.suptitle(title, fontsize=10)
    plt.show()


# %% [markdown]
# ## Q1: a variational autoencoder on MNIST
#
# **The report:** the VAE maximises the evidence lower bound, a KL term that keeps the
# recognition model q(z|x) near the prior plus a reconstruction term (cross-entropy), trained
# with the reparameterisation trick; its latent space is two-dimensional, so it can be drawn,
# and nearby points decode to similar digits. Figures: the decoded manifold
# ([fig02](../figures/fig02.png)), interpolations ([fig04](../figures/fig04.png)), the encoded
# test set ([fig06](../figures/fig06.png)).
#
# The VAE is a `keras.Model` subclass of this project (its `train_step` is the ELBO), so it is
# loaded with `replication.load_model`, which registers the class; its encoder and decoder are
# plain functional Keras models.

# %%
vae = replication.load_model(PRETRAINED / "vae" / "model" / "vae.keras", compile=False)
print(type(vae).__name__, "| encoder:", vae.encoder.name, vae.encoder.input_shape,
      "-> [z_mean, z_log_var]", [tuple(o.shape) for o in vae.encoder.outputs],
      "| decoder:", vae.decoder.input_shape, "->", vae.decoder.output_shape)
metrics = read("vae", "metrics.json")
print(f"test negative ELBO {metrics['neg_elbo']:.2f} nats, IWAE bound "
      f"({metrics['iwae_samples']} samples) {metrics['neg_iwae']:.2f} nats per image")

# %% [markdown]
# The decoder ends in logits; a sigmoid turns them into pixel probabilities. A 12 × 12 grid
# of the latent plane, from −2 to 2 on both axes (the prior's N(0, I) puts 95 % of its mass
# inside ±2):

# %%
side = np.linspace(-2.0, 2.0, 12)
grid = np.array([[x, y] for y in side[::-1] for x in side], dtype="float32")
digits = numpy(keras.ops.sigmoid(vae.decoder(grid)))
show(digits, 12, "decoded latent plane, z1 left to right, z2 bottom to top", size=0.6)

# %% [markdown]
# A walk between two real test digits: encode both (the mean of q(z|x)), then decode the
# points on the line between their codes. The two real digits stand at the ends.

# %%
from replication.data import load  # noqa: E402  (the bundled MNIST, read offline)

test = load("mnist").test
pair = np.stack([test.images[np.flatnonzero(test.labels == d)[0]] for d in (0, 7)])
pair = pair.astype("float32") / 255.0
codes = numpy(vae.encoder(pair)[0])
steps = np.linspace(0.0, 1.0, 8)[:, None]
walk = numpy(vae.decode((1 - steps) * codes[0] + steps * codes[1]))
print("codes of the 0 and the 7:", np.round(codes, 2).tolist())
show(np.concatenate([pair[:1], walk, pair[1:]]), 10,
     "a real 0, eight decoded steps, a real 7", size=0.8)

# %% [markdown]
# ## Q1 bonus: the same VAE with a pretrained EfficientNet encoder
#
# **The report:** the VAE is rebuilt with an EfficientNet encoder, "since the pretrained
# network extracts good features". Here the encoder is EfficientNet-Lite0 with its ImageNet
# weights (the one EfficientNet whose weights install offline); the decoder is Q1's. Figures:
# its latent space ([fig07](../figures/fig07.png)) and samples ([fig08](../figures/fig08.png)).

# %%
effnet_vae = replication.load_model(PRETRAINED / "effnet_vae" / "model" / "effnet_vae.keras",
                                    compile=False)
config = read("effnet_vae", "config.json")["config"]
metrics = read("effnet_vae", "metrics.json")
print(f"encoder {config['encoder']} ({config['encoder_weights']} weights), "
      f"{effnet_vae.encoder.count_params():,} parameters; test negative ELBO "
      f"{metrics['neg_elbo']:.2f} nats (the plain VAE's: {read('vae', 'metrics.json')['neg_elbo']:.2f})")
z = np.random.default_rng(0).standard_normal((32, config["latent_dim"])).astype("float32")
show(numpy(effnet_vae.decode(z)), 16, "decoded from z ~ N(0, I)", size=0.6)

# %% [markdown]
# ## Q2: a DCGAN on CIFAR-10
#
# **The report:** the DCGAN's rules (all-convolutional, BatchNorm in every layer but G's
# output and D's input, ReLU in G with a tanh output, LeakyReLU in D, weights from
# N(0, 0.02)), 60 epochs. It does not name its dataset; CIFAR-10 is this project's assumption
# (see [docs/recipe.md](../docs/recipe.md)). Figures: samples after the first and the last
# epoch ([fig10](../figures/fig10.png), [fig11](../figures/fig11.png)), the losses
# ([fig12](../figures/fig12.png)).
#
# Every generator of this project is built from standard Keras layers, so plain
# `keras.saving.load_model` reads it: noise of 100 numbers in, a 32 × 32 image in [−1, 1] out.

# %%
generator = keras.saving.load_model(PRETRAINED / "dcgan" / "model" / "generator.keras")
generator.summary(line_length=90)
noise = np.random.default_rng(1).standard_normal((32, 100)).astype("float32")
show(to_uint8(generator(noise, training=False)), 16, "new DCGAN samples", size=0.6)
block = read("dcgan", "metrics.json")["gan"]["classifier"]
print(f"FID {block['model']['FID']:.1f} (averaged generator {block['averaged']['FID']:.1f}), "
      f"{block['model']['class_coverage']}/10 classes, in the space of the project's CIFAR-10 "
      "classifier (10,000 samples; not comparable with published FIDs)")


# %% [markdown]
# ## Q3: the conditional GAN and the AC-GAN
#
# **The report, conditional GAN:** G and D both receive the class label, and the objective is
# `min_G max_D E[log D(x|y)] + E[log(1 − D(G(z|y)|y))]`; 15 epochs. **AC-GAN:** G gets noise
# and a label, D answers "real or fake?" and "which class?"; the network is the AC-GAN paper's
# CIFAR-10 table. The report remarks that the AC-GAN's samples are more alike within a class
# than the conditional GAN's, because of its auxiliary classifier. Figures: the class grids
# after the last epoch ([fig20](../figures/fig20.png), [fig27](../figures/fig27.png)) and the
# AC-GAN at the paper's 50,000 iterations ([its section](../figures/README.md)).
#
# Several runs of each ship: the report's recipe (`pretrained/<experiment>`) and named
# variants that depart from it (`pretrained/<experiment>_<name>`,
# [docs/recipe.md](../docs/recipe.md)). A conditional generator takes `[noise, labels]`.

# %%
CLASSES = read("acgan", "config.json")["class_names"]
shipped = {run: read(run, "config.json") for run in
           ("cgan", "cgan_matching", "acgan", "acgan_paper-real-cls")
           if (PRETRAINED / run / "config.json").exists()}
for run, info in shipped.items():
    departs = info["shipped"].get("departures") or "none: the report's recipe"
    print(f"{run:22s} {info['config']['profile']:7s} seed {info['config']['seed']}, departures: "
          f"{departs}")


def class_grid(run: str, per_class: int = 8, seed: int = 0) -> np.ndarray:
    """``per_class`` samples of every class from the shipped generator of ``run``, the same
    noise in every row."""
    model = keras.saving.load_model(PRETRAINED / run / "model" / "generator.keras")
    noise = np.random.default_rng(seed).standard_normal((per_class, 100)).astype("float32")
    noise = np.tile(noise, (len(CLASSES), 1))
    labels = np.repeat(np.arange(len(CLASSES)), per_class).astype("int32")
    return to_uint8(model([noise, labels], training=False))


# %% [markdown]
# Ask a conditional generator for one class: ten ships.

# %%
cgan_run = "cgan" if "cgan" in shipped else "cgan_matching"
ships = keras.saving.load_model(PRETRAINED / cgan_run / "model" / "generator.keras")
noise = np.random.default_rng(2).standard_normal((10, 100)).astype("float32")
labels = np.full(10, CLASSES.index("ship"), dtype="int32")
show(to_uint8(ships([noise, labels], training=False)), 10, f"ten ships from {cgan_run}")

# %% [markdown]
# The same noise across the classes: a row per class, a column per noise vector. Where the
# label decides the picture, the rows differ; where the noise decides it, the columns do.
# The conditional GAN and the AC-GAN side by side:

# %%
for run in ("cgan", "cgan_matching", "acgan", "acgan_paper-real-cls"):
    if run in shipped:
        show(class_grid(run), 8, f"{run}: same noise in every column", row_labels=CLASSES,
             size=0.55)

# %% [markdown]
# The numbers behind these grids, from each run's `metrics.json` (10,000 class-balanced
# samples, the project's CIFAR-10 classifier; conditional accuracy is how often the
# classifier reads a sample as the class it was asked for):

# %%
for run in shipped:
    block = read(run, "metrics.json")["gan"]["classifier"]
    trained, averaged = block["model"], block["averaged"]
    print(f"{run:22s} conditional accuracy {trained['conditional_accuracy']:6.1%} "
          f"(averaged G {averaged['conditional_accuracy']:6.1%}), FID {trained['FID']:5.1f}, "
          f"{trained['class_coverage']}/10 classes")

# %% [markdown]
# **The report's remark, looked at:** how alike are the samples within a class? A crude
# measure in pixel space: the mean distance between two samples of the same class, relative
# to the mean distance between two samples of different classes (lower: more alike within a
# class). This is no substitute for a measure in a feature space (intra-class FID); it only
# turns the grids above into one number each.

# %%
def within_to_between(images: np.ndarray, per_class: int) -> float:
    x = images.reshape(len(images), -1).astype("float32") / 255.0
    d = np.sqrt(((x[:, None, :] - x[None, :, :]) ** 2).sum(-1))
    same = np.repeat(np.arange(len(images) // per_class), per_class)
    mask = same[:, None] == same[None, :]
    np.fill_diagonal(mask, False)
    other = same[:, None] != same[None, :]
    return float(d[mask].mean() / d[other].mean())


for run in shipped:
    print(f"{run:22s} within-class / between-class pixel distance: "
          f"{within_to_between(class_grid(run, per_class=16, seed=3), 16):.3f}")

# %% [markdown]
# ## Where to go next
#
# - Every figure of the report, regenerated: [the gallery](../figures/README.md).
# - What is faithful and what departs: [docs/recipe.md](../docs/recipe.md).
# - Train a model yourself: `python -m replication train vae --profile quick` (minutes), and
#   sample it with `python -m replication sample vae --run-dir runs/vae/quick`
#   ([docs/usage.md](../docs/usage.md)).
