"""What every experiment declares and how it is trained (:class:`Experiment`), and the parts the
adversarial experiments share (:class:`GANExperiment`).

Each experiment declares what it is (name, title, family, conditioning, its config class and
profiles, gallery section, the report's log keys, its figures in the report's order and its
precision preference) and how it is trained (value range of its images,
``networks(config, image_shape, num_classes)``, optimizers, per-epoch snapshot and quality
tracker, final models).  Importing this module does not import TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from replication.levers import loss_scaled
from replication.runs import (AVERAGED_GENERATOR_FILE, DISCRIMINATOR_FILE, GENERATOR_FILE,
                              atomic_path)
from replication.tracking import make_tracker


@dataclass
class Built:
    """A model ready for ``fit()``, with its optimizers by role (all of them checkpointed)."""

    model: object  # keras.Model
    optimizers: dict
    optimizer_variables: dict  # role -> variables that optimizer updates


class Experiment:
    config_class: type | None = None  # its frozen dataclass of settings (replication.config)
    # Profile overrides of the dataclass defaults ({profile: {field: value}}; report and paper
    # are the defaults unless listed), and per (dataset, profile) on top of them.
    profiles: dict = {}
    dataset_profiles: dict = {}
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
    # The README's results table: what the report shows of it, and the figure that shows it.
    report_shows: str = ""
    headline_figure: str = ""

    @property
    def name(self) -> str:
        """The experiment's name (in the CLI, the run directories, the figures): its config's."""
        return self.config_class.experiment

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


def save_keras(model, path: Path) -> Path:
    """Save ``model`` with standard Keras layers only (a fused BatchNorm saved as Keras' own),
    atomically."""
    from replication.models.layers import standard_layers

    with atomic_path(path, suffix=".keras") as tmp:
        standard_layers(model).save(tmp)
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
        return make_tracker(config, dataset, self.conditional, data_source)

    def snapshot_fn(self, config, dataset):
        from replication.snapshots import GANSnapshot

        return GANSnapshot(config, dataset.num_classes if self.conditional else 0)

    def save_final(self, model, model_dir: Path) -> list[Path]:
        paths = [save_keras(model.generator, model_dir / GENERATOR_FILE),
                 save_keras(model.discriminator, model_dir / DISCRIMINATOR_FILE)]
        averaged = model.averaged_generator()
        if averaged is not None:
            paths.append(save_keras(averaged, model_dir / AVERAGED_GENERATOR_FILE))
        return paths
