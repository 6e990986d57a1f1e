"""Tiny datasets and untrained models the unit tests build (no training, no data on disk)."""

from __future__ import annotations

import keras
import numpy as np

from replication import experiments
from replication.checkpoint import build_optimizers
from replication.data import Dataset, Split
from replication.experiments import make_config
from replication.experiments import get as get_experiment
from replication.models import dcgan
from replication.models.gan import GAN


def tiny_dataset(shape=(32, 32, 3), classes=10):
    """64 random images and their labels (0, 1, ..., classes - 1, 0, ...)."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (64, *shape), dtype=np.uint8)
    labels = (np.arange(64) % classes).astype(np.int32)
    return Dataset("cifar10", "test", "random images", Split(images, labels), None,
                   tuple(str(c) for c in range(classes)))


def _config_and_built(experiment, dataset=None, **overrides):
    config = make_config(experiment, "smoke", **overrides)
    keras.utils.set_random_seed(0)
    built = experiments.get(experiment).build(config, dataset or tiny_dataset())
    build_optimizers(built.model, built.optimizers, built.optimizer_variables)
    return config, built


def built(experiment, dataset=None, **overrides):
    """An experiment's smoke-profile model with its optimizers built (seed 0)."""
    return _config_and_built(experiment, dataset, **overrides)[1]


def config_and_model(experiment, **overrides):
    """``(config, model)`` of :func:`built` on the tiny CIFAR-shaped dataset."""
    config, result = _config_and_built(experiment, **overrides)
    return config, result.model


def tiny_gan(loss="non-saturating", critic_steps=1, image_shape=(16, 16, 1), seed=0,
             share_fakes=False):
    """An unconditional GAN of two tiny DCGAN networks, compiled."""
    keras.utils.set_random_seed(seed)
    generator = dcgan.build_generator(image_shape, 8, (16, 8), 4, 0.02)
    discriminator = dcgan.build_discriminator(image_shape, (8, 16), 4, 0.02, 0.2,
                                              norm="layer" if loss == "wasserstein" else "batch")
    gan = GAN(generator, discriminator, noise_dim=8, seed=seed)
    gan.compile(d_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5),
                g_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5), loss=loss,
                critic_steps=critic_steps, share_fakes=share_fakes)
    return gan


# The conditional GAN's label designs on tiny networks.
SHAPE, CLASSES = (8, 8, 3), 4  # one stride-2 stage: 8 = 4 * 2
TINY = dict(noise_dim=6, gen_filters=(8, 4), disc_filters=(4, 8))


def design_nets(design, **overrides):
    """``(generator, discriminator)`` of the CGAN with label design ``design``, tiny sizes."""
    config = make_config("cgan", "smoke", label_conditioning=design, **{**TINY, **overrides})
    keras.utils.set_random_seed(0)
    return get_experiment("cgan").networks(config, SHAPE, CLASSES)


# The conditional experiments' networks at the report's sizes, on CIFAR-10.
CIFAR_SHAPE, CIFAR_CLASSES = (32, 32, 3), 10


def report_networks(experiment, **overrides):
    """``(config, generator, discriminator)`` of ``experiment`` at the report profile."""
    config = make_config(experiment, "report", **overrides)
    keras.utils.set_random_seed(0)
    return config, *get_experiment(experiment).networks(config, CIFAR_SHAPE, CIFAR_CLASSES)
