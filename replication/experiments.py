"""What differs between experiments, behind one small interface used by ``train``.

Each experiment says which value range its images use, how its models and optimizers are
built from the config, what to snapshot after each epoch for the figures, which metrics form
the report's log line, and how its final models are saved.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import keras


@dataclass
class Built:
    """A model ready for ``fit()``, with its optimizers by role (all of them checkpointed)."""

    model: keras.Model
    optimizers: dict
    optimizer_variables: dict  # role -> variables that optimizer updates


class Experiment:
    name: str = ""
    value_range: str = "unit"      # "unit" = [0, 1] images, "tanh" = [-1, 1]
    uses_labels: bool = True       # training batches are (image, label) pairs
    validates: bool = False        # fit() gets the test split as validation data
    log_keys: tuple[str, ...] | None = None  # metrics of the report's per-epoch log line

    def build(self, config, dataset) -> Built:
        raise NotImplementedError

    def snapshot_fn(self, config, dataset) -> Callable | None:
        return None

    def preflight(self, config) -> None:
        """Checks that can fail fast, before any data is loaded (e.g. weight downloads)."""

    def callbacks(self, config) -> list:
        """Experiment-specific ``fit()`` callbacks."""
        return []

    def tracker(self, config, dataset, data_source: str):
        """What measures the model's quality at the end of each epoch (or None)."""
        return None

    def reference_arrays(self, config, dataset) -> dict | None:
        """Arrays from the data that figures need (written once to ``real_examples.npz``)."""
        return None

    def save_final(self, model, model_dir: Path) -> list[Path]:
        raise NotImplementedError


class VAEExperiment(Experiment):
    name = "vae"
    value_range = "unit"
    uses_labels = False
    validates = True

    def build(self, config, dataset) -> Built:
        from replication.models.vae import build_vae

        model = build_vae(config, dataset.image_shape)
        model.compile(optimizer=keras.optimizers.Adam(config.learning_rate))
        return Built(model, {"vae": model.optimizer}, {"vae": model.trainable_variables})

    def snapshot_fn(self, config, dataset):
        from replication.models.vae import VAESnapshot

        return VAESnapshot(config, dataset.test if dataset.test is not None else dataset.train)

    def save_final(self, model, model_dir: Path) -> list[Path]:
        return [save_keras(model, model_dir / f"{self.name}.keras")]


class EffNetVAEExperiment(VAEExperiment):
    name = "effnet_vae"

    def __init__(self):
        self._backbone = None

    def preflight(self, config) -> None:
        from replication.models.efficientnet_vae import build_backbone

        self._backbone = build_backbone(config.encoder_input_size, config.encoder_weights)

    def build(self, config, dataset) -> Built:
        from replication.models.efficientnet_vae import build_effnet_vae

        backbone, self._backbone = self._backbone, None
        model = build_effnet_vae(config, dataset.image_shape, backbone)
        model.compile(optimizer=keras.optimizers.Adam(config.learning_rate))
        # Built over every variable, frozen or not, so unfreezing later needs no new optimizer.
        return Built(model, {"vae": model.optimizer}, {"vae": model.trainable_variables})

    def callbacks(self, config) -> list:
        from replication.models.efficientnet_vae import FreezeEncoder

        return [FreezeEncoder(config.freeze_encoder_epochs)] if config.freeze_encoder_epochs else []


def save_keras(model, path: Path) -> Path:
    from replication.runs import atomic_path

    with atomic_path(path, suffix=".keras") as tmp:
        model.save(tmp)
    return path


class GANExperiment(Experiment):
    """Shared by the adversarial experiments: [-1, 1] images, two Adam optimizers."""

    value_range = "tanh"
    log_keys = ("d_loss", "g_loss")
    conditioning = "none"

    def networks(self, config, dataset):
        raise NotImplementedError

    def build(self, config, dataset) -> Built:
        from replication.levers import loss_scaled
        from replication.models.gan import GAN

        generator, discriminator = self.networks(config, dataset)
        gan = GAN(generator, discriminator, config.noise_dim,
                  num_classes=dataset.num_classes if self.conditioning != "none" else 0,
                  conditioning=self.conditioning, seed=config.seed,
                  ema_half_life=config.ema_half_life, ema_ramp=config.ema_ramp, name=self.name)
        critic_steps = config.critic_steps if config.loss == "wasserstein" else 1
        d_rate, g_rate = config.learning_rates()
        adam = dict(beta_1=config.beta_1, beta_2=config.beta_2)
        gan.compile(d_optimizer=loss_scaled(keras.optimizers.Adam(d_rate, **adam, name="d_adam"),
                                            config.precision),
                    g_optimizer=loss_scaled(keras.optimizers.Adam(g_rate, **adam, name="g_adam"),
                                            config.precision),
                    loss=config.loss, gp_weight=config.gp_weight, critic_steps=critic_steps,
                    share_fakes=config.share_fakes, real_label=config.real_label,
                    class_loss_on=getattr(config, "class_loss", "all"),
                    mismatched_labels=getattr(config, "mismatched_labels", False))
        return Built(gan, {"d": gan.d_optimizer, "g": gan.g_optimizer},
                     {"d": discriminator.trainable_variables, "g": generator.trainable_variables})

    def tracker(self, config, dataset, data_source: str):
        from replication.tracking import make_tracker

        return make_tracker(config, dataset, self.conditioning != "none", data_source)

    def snapshot_fn(self, config, dataset):
        from replication.models.gan import GANSnapshot

        return GANSnapshot(config, dataset.num_classes if self.conditioning != "none" else 0)

    def save_final(self, model, model_dir: Path) -> list[Path]:
        from replication.runs import (AVERAGED_GENERATOR_FILE, DISCRIMINATOR_FILE,
                                      GENERATOR_FILE)

        paths = [save_keras(model.generator, model_dir / GENERATOR_FILE),
                 save_keras(model.discriminator, model_dir / DISCRIMINATOR_FILE)]
        averaged = model.averaged_generator()
        if averaged is not None:
            paths.append(save_keras(averaged, model_dir / AVERAGED_GENERATOR_FILE))
        return paths


class DCGANExperiment(GANExperiment):
    name = "dcgan"

    def networks(self, config, dataset):
        from replication.models import dcgan

        shape = dataset.image_shape
        generator = dcgan.build_generator(shape, config.noise_dim, config.gen_filters,
                                          config.kernel_size, config.init_stddev)
        discriminator = dcgan.build_discriminator(
            shape, config.disc_filters, config.kernel_size, config.init_stddev,
            config.leaky_slope, norm="layer" if config.loss == "wasserstein" else "batch")
        return generator, discriminator


class CGANExperiment(GANExperiment):
    name = "cgan"
    conditioning = "input"

    def networks(self, config, dataset):
        from replication.models import dcgan

        shape, k = dataset.image_shape, dataset.num_classes
        generator = dcgan.build_generator(shape, config.noise_dim, config.gen_filters,
                                          config.kernel_size, config.init_stddev, num_classes=k)
        discriminator = dcgan.build_discriminator(
            shape, config.disc_filters, config.kernel_size, config.init_stddev,
            config.leaky_slope, norm="layer" if config.loss == "wasserstein" else "batch",
            num_classes=k)
        return generator, discriminator

    def reference_arrays(self, config, dataset) -> dict:
        """Ten real training images per class, in class order (fig14)."""
        import numpy as np

        labels = dataset.train.labels
        rng = np.random.default_rng(config.seed)
        index = np.concatenate([rng.permutation(np.flatnonzero(labels == c))[:10]
                                for c in range(dataset.num_classes)])
        return {"images": dataset.train.images[index], "labels": labels[index]}


class ACGANExperiment(CGANExperiment):
    name = "acgan"
    conditioning = "auxiliary"

    def networks(self, config, dataset):
        from replication.models import acgan

        shape, k = dataset.image_shape, dataset.num_classes
        return (acgan.build_generator(config, k, shape),
                acgan.build_discriminator(config, k, shape))


class ClassifierExperiment(Experiment):
    """The evaluation's classifier (not a model of the report)."""

    name = "classifier"
    value_range = "unit"
    uses_labels = True
    validates = True

    def build(self, config, dataset) -> Built:
        from replication.data import steps_per_epoch
        from replication.models.classifier import build_classifier, compile_classifier

        model = build_classifier(config, dataset.image_shape, dataset.num_classes)
        examples = len(dataset.train.take(config.train_examples))
        compile_classifier(model, config, steps_per_epoch(examples, config.batch_size))
        return Built(model, {"sgd": model.optimizer}, {"sgd": model.trainable_variables})

    def save_final(self, model, model_dir: Path) -> list[Path]:
        return [save_keras(model, model_dir / "classifier.keras")]


EXPERIMENTS: dict[str, Experiment] = {
    "vae": VAEExperiment(),
    "effnet_vae": EffNetVAEExperiment(),
    "dcgan": DCGANExperiment(),
    "cgan": CGANExperiment(),
    "acgan": ACGANExperiment(),
    "classifier": ClassifierExperiment(),
}


def get(name: str) -> Experiment:
    return EXPERIMENTS[name]
