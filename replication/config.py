"""The settings every experiment shares: the base dataclasses, the profiles and the validation.

Each experiment has one frozen dataclass holding the report's (or, where the report is
silent, the project's documented) choices, in its own module of :mod:`replication.experiments`
with the overrides of its profiles; it extends :class:`ExperimentConfig` (and, for the GANs,
:class:`GANConfig`).  A *profile* scales the schedule without touching the architecture:

* ``smoke``  – seconds; used by the tests and the acceptance checks.
* ``quick``  – minutes on a 2-core CPU; shows real learning.
* ``report`` – the schedule the report ran.
* ``paper``  – the schedule of the original paper, where it differs from the report.

Everything else (CLI defaults, scripts, tests) reads these objects
(:func:`replication.experiments.make_config`); no number is repeated.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from replication.errors import ReplicationError
from replication.levers import PRECISION_SETTINGS, XLA_SETTINGS
from replication.vocabulary import GAN_LOSSES, augmentation_policy, unknown

PROFILES = ("smoke", "quick", "report", "paper")
# What `train` and `reproduce` run when no --profile is given: minutes, not hours (the studies
# and the seed tables default to the report's schedule, which they are about).
DEFAULT_PROFILE = "quick"
DATASETS = ("mnist", "cifar10")
# "report" and "paper" run the full schedules on the whole data; the others are short runs.
FULL_SCHEDULE_PROFILES = ("report", "paper")
# Settings every experiment takes under a profile before its own profile table: the quick and
# the full schedules train at ``--precision auto`` (bf16 where the benchmark measured a model's
# step faster in it on this kind of device, else fp32: replication.levers), as every shipped
# run did; the smoke profile stays fp32, so the tests train alike on every machine.
PROFILE_DEFAULTS: dict[str, dict[str, Any]] = {
    profile: {"precision": "auto"} for profile in ("quick",) + FULL_SCHEDULE_PROFILES}
# What a run's results do not depend on by design (or what is an input recorded beside the
# settings): left out when a saved run is compared with a profile's current settings.
NOT_SETTINGS = ("profile", "epochs", "precision", "xla", "fused_batchnorm", "encoder_weights")


def is_full_schedule(profile: str) -> bool:
    """Whether ``profile`` runs a full schedule (the report's or the paper's)."""
    return profile in FULL_SCHEDULE_PROFILES


class ConfigError(ReplicationError, ValueError):
    """A configuration value a user asked for is not valid."""


@dataclass(frozen=True)
class ExperimentConfig:
    """Fields shared by every experiment."""

    experiment: str = ""
    profile: str = "report"
    dataset: str = "mnist"
    epochs: int = 1
    batch_size: int = 128
    learning_rate: float = 1e-3
    seed: int = 0
    # Number of training / evaluation examples taken from each split (None = all of it).
    # Only the smoke and quick profiles shrink these; report and paper use whole splits.
    train_examples: int | None = None
    eval_examples: int | None = None
    # Speed levers (replication.levers): numeric precision (fp32 | bf16 | fp16 | auto; a run
    # records the concrete one) and XLA compilation.
    precision: str = "fp32"
    xla: str = "auto"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def validate(self) -> None:
        """Raise :class:`ConfigError` for a value a user asked for that is not valid (each
        experiment's class adds its own checks)."""
        for name in ("epochs", "batch_size"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name.replace('_', '-')} must be at least 1, got "
                                  f"{getattr(self, name)}")
        for name in ("train_examples", "eval_examples"):
            value = getattr(self, name)
            if value is not None and value < self.batch_size:
                raise ConfigError(
                    f"{name} ({value}) must be at least the batch size ({self.batch_size})")
        if self.precision not in PRECISION_SETTINGS:
            raise ConfigError(f"unknown precision {self.precision!r}; choose one of "
                              f"{', '.join(PRECISION_SETTINGS)}")
        if self.xla not in XLA_SETTINGS:
            raise ConfigError(f"unknown xla setting {self.xla!r}; choose one of "
                              f"{', '.join(XLA_SETTINGS)}")
        if self.dataset not in DATASETS:
            raise ConfigError(f"unknown dataset {self.dataset!r}; choose one of "
                              f"{', '.join(DATASETS)}")
        if self.seed < 0:
            raise ConfigError(f"seed must be non-negative, got {self.seed}")


@dataclass(frozen=True)
class GANConfig(ExperimentConfig):
    """Fields shared by the adversarial experiments."""

    noise_dim: int = 100
    loss: str = "non-saturating"
    learning_rate: float = 2e-4
    beta_1: float = 0.5
    beta_2: float = 0.999
    init_stddev: float = 0.02
    leaky_slope: float = 0.2
    # Wasserstein loss only: gradient-penalty weight and critic updates per generator update.
    gp_weight: float = 10.0
    critic_steps: int = 5
    num_fixed_noise: int = 64  # samples in the per-epoch fixed-noise grid
    # One generator forward pass serves the D and the G update of a step (a speed lever, as
    # the reference PyTorch DCGAN; not with several critic steps).  Runs saved before this
    # setting existed trained without it (see _LEGACY_DEFAULTS).
    share_fakes: bool = True
    # BatchNorm computed by TensorFlow's fused kernel (replication.models.layers.
    # FusedBatchNormalization): the same function, one op instead of a dozen; 1.2x the AC-GAN's
    # bf16 step on CPU (docs/speed.md).  Runs saved before this setting existed trained with
    # Keras' own BatchNorm, and resume with it (see _LEGACY_DEFAULTS).
    fused_batchnorm: bool = True
    # Stabilisers (docs/models.md): the report is silent on all of them, and each
    # default is the report's plain training.
    #   real_label: D's target for real images; below 1 is one-sided label smoothing
    #     (Salimans et al. 2016 use 0.9; fakes keep target 0).
    #   d_learning_rate / g_learning_rate: per-network Adam rates (TTUR, Heusel et al. 2017);
    #     None means ``learning_rate``.
    real_label: float = 1.0
    d_learning_rate: float | None = None
    g_learning_rate: float | None = None
    # The averaged generator: an exponential moving average of G's weights and BatchNorm
    # statistics after every generator update, with the decay set by a half-life in images,
    # ramped as in StyleGAN2-ADA: half-life = min(ema_half_life, ema_ramp * images seen)
    # (its CIFAR-10 preset: 500k images, ramp 0.05).  ema_half_life 0 turns it off.
    ema_half_life: int = 500_000
    ema_ramp: float = 0.05
    # DiffAugment (Zhao et al. 2020; replication.models.augment): a comma-separated policy of
    # differentiable augmentations ("color", "translation", "cutout") applied to every input
    # of D, real and generated, in both updates; "" (the default) trains without.
    diff_augment: str = ""
    # Quality tracked at the end of every epoch (replication.tracking): this many generated
    # images from fixed noise (class-balanced labels) scored by the shipped classifier against
    # the run's real evaluation split; 0 turns it off.
    track_samples: int = 2000

    def validate(self) -> None:
        super().validate()
        if self.loss not in GAN_LOSSES:
            raise ConfigError(unknown("loss", self.loss, GAN_LOSSES))
        if not 0.0 < self.real_label <= 1.0:
            raise ConfigError(f"real-label must be in (0, 1], got {self.real_label}")
        if self.real_label != 1.0 and not GAN_LOSSES[self.loss].smoothable:
            raise ConfigError(f"label smoothing (real-label below 1) has no meaning for the "
                              f"{self.loss} critic, which has no targets")
        for name in ("d_learning_rate", "g_learning_rate"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ConfigError(f"{name.replace('_', '-')} must be positive, got {value}")
        if self.ema_half_life < 0 or self.ema_ramp < 0:
            raise ConfigError("ema-half-life and ema-ramp must be non-negative (0 turns them "
                              "off)")
        try:
            augmentation_policy(self.diff_augment)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        if self.track_samples and self.track_samples < 10:
            raise ConfigError(f"track-samples must be 0 (off) or at least 10, got "
                              f"{self.track_samples}")

    def learning_rates(self) -> tuple[float, float]:
        """``(D's, G's)`` Adam learning rate."""
        d = self.learning_rate if self.d_learning_rate is None else self.d_learning_rate
        g = self.learning_rate if self.g_learning_rate is None else self.g_learning_rate
        return d, g


def replace(config: ExperimentConfig, **changes: Any) -> ExperimentConfig:
    """``config`` with ``changes``, validated."""
    new = dataclasses.replace(config, **changes)
    new.validate()
    return new
