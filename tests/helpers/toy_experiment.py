"""A small extra experiment, kept outside the package: a multilayer-perceptron GAN on MNIST with
one figure of its own.  ``tests/test_added_experiment.py`` registers it and runs every command
on it, proving that adding an experiment needs its module and nothing else in the package."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from replication import plots
from replication.config import GANConfig
from replication.experiments.base import GANExperiment


@dataclass(frozen=True)
class ToyGANConfig(GANConfig):
    """A GAN of two dense layers each way; the report has no such model."""

    experiment: str = "toygan"
    dataset: str = "mnist"
    epochs: int = 3
    batch_size: int = 64
    hidden_units: int = 64


PROFILES = {"smoke": dict(epochs=2, train_examples=512, eval_examples=512, num_fixed_noise=16,
                          track_samples=200)}


class ToyGANExperiment(GANExperiment):
    config_class = ToyGANConfig
    profiles = PROFILES
    title = "Toy GAN"
    section = "Extra — a toy MLP GAN (MNIST)"
    report_shows = "samples"
    headline_figure = "toy01"
    figures = ("toy01",)
    report_captions = {"toy01": "(not in the report: the toy GAN's last samples)"}

    def networks(self, config, image_shape, num_classes: int = 0):
        import keras

        size = int(np.prod(image_shape))
        generator = keras.Sequential(
            [keras.Input((config.noise_dim,)),
             keras.layers.Dense(config.hidden_units, activation="relu"),
             keras.layers.Dense(size, activation="tanh", dtype="float32"),
             keras.layers.Reshape(image_shape)], name="generator")
        discriminator = keras.Sequential(
            [keras.Input(image_shape), keras.layers.Flatten(),
             keras.layers.Dense(config.hidden_units),
             keras.layers.LeakyReLU(config.leaky_slope),
             keras.layers.Dense(1, dtype="float32")], name="discriminator")
        return generator, discriminator


EXPERIMENT = ToyGANExperiment()
FIGURE = ("toy01", "toy01.png", "The toy GAN's fixed-noise samples after the last epoch.")


def draw_toy01(ctx, path) -> None:
    """The last epoch's fixed-noise grid, with the run's provenance."""
    snapshot = ctx.snapshot()
    images = snapshot["samples"]
    fig = plots.image_grid_figure(images, int(snapshot["columns"]),
                                  title=f"Toy GAN, epoch {ctx.last_epoch}")
    plots.save_figure(fig, path, footer=ctx.footer)
