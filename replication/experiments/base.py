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

import numpy as np

from replication.generation import generate
from replication.levers import loss_scaled
from replication.runs import (AVERAGED_GENERATOR_FILE, DISCRIMINATOR_FILE, GENERATOR_FILE,
                              atomic_path)
from replication.tracking import make_tracker
from replication.vocabulary import GAN_LOSSES, comma_list


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
    # The report's caption of each of its figure ids (the gallery quotes them).
    report_captions: dict[str, str] = {}
    # Published numbers for the same model, shown beside ours in the evaluation table
    # ({"source": ..., "IS": ..., "FID": ...}; docs/evaluation.md says why they differ).
    published: tuple[dict, ...] = ()
    # reproduce's up-front time estimate per measured kind of CPU (replication.levers.
    # MEASURED_CPUS; 2 cores each) at the profile's precision (``auto``): seconds per training
    # step at the quick profile's batch, per epoch beside the steps (tracking, snapshots,
    # checkpoints), per stage beside the epochs (building, drawing).  The Zen 5's and the
    # Xeon's (model 207) are replication.estimate.stage_timings of their main jobs' logs
    # (docs/bench/2026-12-07-zen5/, 2026-12-07-xeon207/, tested against them); the Zen 4's
    # were measured the same way by the quick profile's earlier trials (docs/results.md),
    # less the wait at the end of fit() that tf.data's autotuning caused then.  Replaced by the
    # measured epoch times once a stage has run.
    reference_seconds: dict[str, tuple[float, float, float]] = {"zen4": (0.1, 5.0, 5.0)}
    # Settings the benchmark changes so that it times the step alone (e.g. no weight download).
    bench_overrides: dict = {}
    # The family's answers (the VAEs' and the GANs' base classes set them):
    # a model with a likelihood bound (the VAEs), so evaluated by its test bounds, not samples.
    likelihood: bool = False
    # What a shipped run leaves out of the run directory.
    left_out_when_shipped: str = "optimizer state, checkpoint, TensorBoard logs"

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

    def model_files(self) -> dict[str, str]:
        """The final models a user draws from, by generator (``trained``, and ``averaged``
        where the family keeps an averaged copy): file names in the run's ``model/``; the
        first is the one a finished run always has."""
        return {}

    def draw(self, model, info: dict, n: int, *, seed: int = 0, klass: int | None = None):
        """``n`` uint8 images drawn from ``model`` (one of :meth:`model_files`, loaded) of the
        run described by ``info`` (its config.json and status), and their class labels (None
        for an unconditional model): all ``klass``, or for a conditional model without it,
        ``n / K`` per class, class by class."""
        raise NotImplementedError(f"{self.name} draws no samples")

    def loading_example(self, folder: str, settings: dict) -> list[str]:
        """Python lines that load the shipped model in ``pretrained/<folder>`` and draw from it
        (a model card's example, executed by the tests)."""
        return []


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
    left_out_when_shipped = "discriminator, optimizer state, checkpoint, TensorBoard logs"

    def build(self, config, dataset) -> Built:
        import keras

        from replication.models.gan import GAN

        generator, discriminator = self.networks(config, dataset.image_shape,
                                                 dataset.num_classes)
        gan = GAN(generator, discriminator, config.noise_dim,
                  num_classes=dataset.num_classes if self.conditional else 0,
                  conditioning=self.conditioning, seed=config.seed,
                  ema_half_life=config.ema_half_life, ema_ramp=config.ema_ramp, name=self.name)
        critic_steps = config.critic_steps if GAN_LOSSES[config.loss].critic else 1
        d_rate, g_rate = config.learning_rates()
        adam = dict(beta_1=config.beta_1, beta_2=config.beta_2)
        gan.compile(d_optimizer=loss_scaled(keras.optimizers.Adam(d_rate, **adam, name="d_adam"),
                                            config.precision),
                    g_optimizer=loss_scaled(keras.optimizers.Adam(g_rate, **adam, name="g_adam"),
                                            config.precision),
                    loss=config.loss, gp_weight=config.gp_weight, critic_steps=critic_steps,
                    share_fakes=config.share_fakes, real_label=config.real_label,
                    augment=comma_list(config.diff_augment), **self.compile_options(config))
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

    def model_files(self) -> dict[str, str]:
        return {"trained": GENERATOR_FILE, "averaged": AVERAGED_GENERATOR_FILE}

    def draw(self, model, info: dict, n: int, *, seed: int = 0, klass: int | None = None):
        labels = None
        if self.conditional:
            classes = len(info.get("class_names") or []) or 10
            labels = (np.full(n, klass) if klass is not None else
                      np.repeat(np.arange(classes), -(-n // classes))[:n]).astype(np.int32)
        return generate(model, n, info["config"]["noise_dim"], seed=seed, labels=labels)

    def loading_example(self, folder: str, settings: dict) -> list[str]:
        lines = ["import keras  # the generators are plain Keras models",
                 "import numpy as np",
                 f"g = keras.saving.load_model(\"pretrained/{folder}/model/{GENERATOR_FILE}\")",
                 "rng = np.random.default_rng(0)",
                 f"noise = rng.standard_normal((10, {settings.get('noise_dim', 100)}))"
                 ".astype(\"float32\")  # N(0, I)"]
        if self.conditional:
            lines += ["labels = np.arange(10, dtype=\"int32\")  # one of each class",
                      "images = g([noise, labels])  # tanh output in [-1, 1], 32x32x3"]
        else:
            lines += ["images = g(noise)  # tanh output in [-1, 1], 32x32x3"]
        return lines + ["x = keras.ops.convert_to_numpy(images).astype(\"float32\")",
                        "pixels = ((x + 1) * 127.5).round().clip(0, 255).astype(\"uint8\")"]

    def save_final(self, model, model_dir: Path) -> list[Path]:
        paths = [save_keras(model.generator, model_dir / GENERATOR_FILE),
                 save_keras(model.discriminator, model_dir / DISCRIMINATOR_FILE)]
        averaged = model.averaged_generator()
        if averaged is not None:
            paths.append(save_keras(averaged, model_dir / AVERAGED_GENERATOR_FILE))
        return paths
