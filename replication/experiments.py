"""The registry of experiments: everything that differs between them, in one place.

Each experiment declares what it is (name, title, family, conditioning, default dataset via its
config class, gallery section, the report's log keys, its figures in the report's order and its
precision preference) and how it is trained (value range of its images, ``networks(config, image_shape, num_classes)``,
optimizers, per-epoch snapshot and quality tracker, final models).  The CLIs, ``evaluate``,
``gallery``, ``reproduce`` and ``bench`` read their lists from here.  What only one command
reads stays with that command: the published numbers (:mod:`replication.evaluate.table`), the
study variants (:mod:`replication.study`), the benchmark's overrides (:mod:`replication.bench`)
and the time estimates (:mod:`replication.reproduce`).  Importing this module does not import TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable


@dataclass
class Built:
    """A model ready for ``fit()``, with its optimizers by role (all of them checkpointed)."""

    model: object  # keras.Model
    optimizers: dict
    optimizer_variables: dict  # role -> variables that optimizer updates


class Experiment:
    name: str = ""
    title: str = ""                # in tables and figure titles
    family: str = ""               # "vae", "gan" or "classifier"
    conditioning: str = "none"     # GANs: "none", "input" (label into both nets), "auxiliary"
    section: str | None = None     # the gallery's heading (None: not a model of the report)
    figures: tuple[str, ...] = ()  # figure ids, in the report's order
    value_range: str = "unit"      # "unit" = [0, 1] images, "tanh" = [-1, 1]
    uses_labels: bool = True       # training batches are (image, label) pairs
    validates: bool = False        # fit() gets the test split as validation data
    log_keys: tuple[str, ...] | None = None  # metrics of the report's per-epoch log line
    pretrained_encoder: bool = False  # reproduce resolves --encoder-weights auto for it
    # --precision auto: the benchmark measured bf16 faster than fp32 on a CPU with
    # AVX512-BF16 (docs/speed.md; replication.levers).
    bf16_on_cpu: bool = False
    # The README's front picture (replication.figures.overview): the last snapshot's array it
    # shows and what the panel says; None: not shown.
    overview: tuple[str, str] | None = None

    @property
    def conditional(self) -> bool:
        return self.conditioning != "none"

    def networks(self, config, image_shape, num_classes: int):
        """The experiment's network(s), built from the config alone (untrained)."""
        raise NotImplementedError

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
    title = "VAE"
    family = "vae"
    section = "Q1 — Variational autoencoder (MNIST)"
    figures = ("fig01", "fig02", "fig03", "fig03b", "fig04", "fig05", "fig06", "vae_grid.gif",
               "vae_latent.gif")
    overview = ("manifold", "the decoder over the 2-D latent plane")
    value_range = "unit"
    uses_labels = False
    validates = True
    bf16_on_cpu = True

    def networks(self, config, image_shape, num_classes: int = 0):
        from replication.models.vae import build_vae

        return build_vae(config, image_shape)

    def build(self, config, dataset) -> Built:
        import keras

        model = self.networks(config, dataset.image_shape, dataset.num_classes)
        model.compile(optimizer=keras.optimizers.Adam(config.learning_rate))
        return Built(model, {"vae": model.optimizer}, {"vae": model.trainable_variables})

    def snapshot_fn(self, config, dataset):
        from replication.snapshots import VAESnapshot

        return VAESnapshot(config, dataset.test if dataset.test is not None else dataset.train)

    def save_final(self, model, model_dir: Path) -> list[Path]:
        return [save_keras(model, model_dir / f"{self.name}.keras")]


class EffNetVAEExperiment(VAEExperiment):
    name = "effnet_vae"
    title = "EfficientNet-VAE"
    section = "Q1 bonus — VAE with a pretrained EfficientNet encoder (MNIST)"
    figures = ("fig07", "fig08")
    overview = None
    bf16_on_cpu = False  # 1.8x slower in bf16 (its depthwise convolutions)
    pretrained_encoder = True

    def __init__(self):
        self._backbone = None

    def preflight(self, config) -> None:
        from replication.models.efficientnet_vae import build_backbone

        self._backbone = build_backbone(config.encoder_input_size, config.encoder_weights,
                                        config.encoder)

    def networks(self, config, image_shape, num_classes: int = 0):
        from replication.models.efficientnet_vae import build_effnet_vae

        backbone, self._backbone = self._backbone, None
        return build_effnet_vae(config, image_shape, backbone)

    def build(self, config, dataset) -> Built:
        import keras

        model = self.networks(config, dataset.image_shape, dataset.num_classes)
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
    """Shared by the adversarial experiments: [-1, 1] images, two Adam optimizers;
    ``networks`` returns ``(generator, discriminator)``."""

    family = "gan"
    value_range = "tanh"
    log_keys = ("d_loss", "g_loss")
    conditioning = "none"
    bf16_on_cpu = True
    overview = ("samples", "fixed-noise samples")

    def build(self, config, dataset) -> Built:
        import keras

        from replication.levers import loss_scaled
        from replication.models.gan import GAN

        generator, discriminator = self.networks(config, dataset.image_shape,
                                                 dataset.num_classes)
        gan = GAN(generator, discriminator, config.noise_dim,
                  num_classes=dataset.num_classes if self.conditional else 0,
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
                    **self.compile_options(config))
        return Built(gan, {"d": gan.d_optimizer, "g": gan.g_optimizer},
                     {"d": discriminator.trainable_variables, "g": generator.trainable_variables})

    def compile_options(self, config) -> dict:
        """``GAN.compile`` options of this experiment's own config fields."""
        return {}

    def tracker(self, config, dataset, data_source: str):
        from replication.tracking import make_tracker

        return make_tracker(config, dataset, self.conditional, data_source)

    def snapshot_fn(self, config, dataset):
        from replication.snapshots import GANSnapshot

        return GANSnapshot(config, dataset.num_classes if self.conditional else 0)

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
    title = "DCGAN"
    section = "Q2 — DCGAN"
    figures = ("fig09", "fig10", "fig11", "fig12", "dcgan.gif")

    def networks(self, config, image_shape, num_classes: int = 0):
        from replication.models import dcgan

        k = num_classes if self.conditional else 0
        generator = dcgan.build_generator(image_shape, config.noise_dim, config.gen_filters,
                                          config.kernel_size, config.init_stddev, num_classes=k)
        discriminator = dcgan.build_discriminator(
            image_shape, config.disc_filters, config.kernel_size, config.init_stddev,
            config.leaky_slope, norm="layer" if config.loss == "wasserstein" else "batch",
            num_classes=k)
        return generator, discriminator


class CGANExperiment(DCGANExperiment):
    name = "cgan"
    title = "Conditional GAN"
    section = "Q3 — Conditional GAN (CIFAR-10)"
    conditioning = "input"
    overview = ("samples", "one row per class")
    figures = ("fig13", "fig14", "fig15", "fig16", "fig17", "fig18", "fig19", "fig20", "fig21",
               "cgan.gif")

    def compile_options(self, config) -> dict:
        return {"mismatched_labels": config.mismatched_labels}

    def networks(self, config, image_shape, num_classes: int = 10):
        from replication.models import dcgan

        g_way, d_way = dcgan.label_ways(config.label_conditioning)
        generator = dcgan.build_generator(image_shape, config.noise_dim, config.gen_filters,
                                          config.kernel_size, config.init_stddev,
                                          num_classes=num_classes, label_way=g_way)
        discriminator = dcgan.build_discriminator(
            image_shape, config.disc_filters, config.kernel_size, config.init_stddev,
            config.leaky_slope, norm="layer" if config.loss == "wasserstein" else "batch",
            num_classes=num_classes, label_way=d_way)
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
    title = "AC-GAN"
    section = "Q3 — AC-GAN (CIFAR-10)"
    conditioning = "auxiliary"
    figures = ("table1", "fig22", "fig23", "fig24", "fig25", "fig26", "fig27", "fig28",
               "acgan.gif")

    def compile_options(self, config) -> dict:
        return {"class_loss_on": config.class_loss}

    def networks(self, config, image_shape, num_classes: int = 10):
        from replication.models import acgan

        return (acgan.build_generator(config, num_classes, image_shape),
                acgan.build_discriminator(config, num_classes, image_shape))


class ClassifierExperiment(Experiment):
    """The evaluation's classifier (not a model of the report)."""

    name = "classifier"
    title = "classifier"
    family = "classifier"
    value_range = "unit"
    uses_labels = True
    validates = True

    def networks(self, config, image_shape, num_classes: int):
        from replication.models.classifier import build_classifier

        return build_classifier(config, image_shape, num_classes)

    def build(self, config, dataset) -> Built:
        from replication.data import steps_per_epoch
        from replication.models.classifier import compile_classifier

        model = self.networks(config, dataset.image_shape, dataset.num_classes)
        examples = len(dataset.train.take(config.train_examples))
        compile_classifier(model, config, steps_per_epoch(examples, config.batch_size))
        return Built(model, {"sgd": model.optimizer}, {"sgd": model.trainable_variables})

    def save_final(self, model, model_dir: Path) -> list[Path]:
        return [save_keras(model, model_dir / "classifier.keras")]


EXPERIMENTS: dict[str, Experiment] = {spec.name: spec for spec in (
    VAEExperiment(), EffNetVAEExperiment(), DCGANExperiment(), CGANExperiment(),
    ACGANExperiment(), ClassifierExperiment())}


def get(name: str) -> Experiment:
    return EXPERIMENTS[name]


def of_report() -> list[Experiment]:
    """The report's experiments, in the report's order (not the evaluation's classifier)."""
    return [spec for spec in EXPERIMENTS.values() if spec.section is not None]


def names(family: str | None = None) -> tuple[str, ...]:
    """Names of the report's experiments (of one ``family``: "vae" or "gan")."""
    return tuple(s.name for s in of_report() if family is None or s.family == family)


def experiment_of_figure(figure_id: str) -> str:
    for spec in of_report():
        if figure_id in spec.figures:
            return spec.name
    raise KeyError(f"no experiment draws {figure_id}")
