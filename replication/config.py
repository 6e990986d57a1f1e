"""Experiment configurations: the single source of truth for every hyper-parameter.

Each experiment of the report has one frozen dataclass holding the report's (or, where the
report is silent, SPEC.md's) choices.  A *profile* scales the schedule without touching the
architecture:

* ``smoke``  – seconds; used by the tests and the acceptance checks.
* ``quick``  – minutes on a 2-core CPU; shows real learning.
* ``report`` – the schedule the report ran.
* ``paper``  – the schedule of the original paper, where it differs from the report.

Everything else (CLI defaults, scripts, tests) reads these objects; no number is repeated.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

EXPERIMENTS = ("vae", "effnet_vae", "dcgan", "cgan", "acgan")
PROFILES = ("smoke", "quick", "report", "paper")
DATASETS = ("mnist", "cifar10")


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

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class VAEConfig(ExperimentConfig):
    """Q1: convolutional VAE with a 2-D latent space on MNIST (Kingma & Welling 2013).

    The report fixes the objective (ELBO with cross-entropy reconstruction and KL); SPEC fixes
    the silent parts: 2-D latent, convolutional encoder/decoder, Bernoulli decoder, Adam,
    30 epochs, batch 128.
    """

    experiment: str = "vae"
    dataset: str = "mnist"
    epochs: int = 30
    batch_size: int = 128
    learning_rate: float = 1e-3
    latent_dim: int = 2
    conv_filters: tuple[int, ...] = (32, 64)
    kernel_size: int = 3
    dense_units: int = 256
    # Figures (SPEC fig02-fig06): sizes of the per-epoch snapshots.
    manifold_size: int = 20          # fig02: n x n grid over the latent plane
    manifold_quantile: float = 0.05  # grid spans the N(0,1) quantiles [q, 1-q] on each axis
    num_samples: int = 64            # fig03: decoded z ~ N(0, I)
    num_reconstructions: int = 10    # fig03b
    num_interpolations: int = 6      # fig04: rows
    interpolation_steps: int = 10    # fig04: columns
    latent_points: int = 10_000      # fig06: encoded test images in the scatter


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


@dataclass(frozen=True)
class DCGANConfig(GANConfig):
    """Q2: DCGAN (Radford et al. 2015) on CIFAR-10 (MNIST with ``dataset='mnist'``).

    Widths follow the common 32x32 DCGAN (G: 4x4x256 -> 128 -> 64 -> C; D: 64 -> 128 -> 256),
    chosen so that the report's 60 epochs fit in a background run on a 2-core CPU.
    """

    experiment: str = "dcgan"
    dataset: str = "cifar10"
    epochs: int = 60
    batch_size: int = 128
    gen_filters: tuple[int, ...] = (256, 128, 64)
    disc_filters: tuple[int, ...] = (64, 128, 256)
    kernel_size: int = 4


_CONFIG_CLASSES: dict[str, type[ExperimentConfig]] = {
    "vae": VAEConfig,
    "dcgan": DCGANConfig,
}

# Profile overrides per experiment.  ``report`` and ``paper`` are the dataclass defaults unless
# listed here.  Smoke and quick shrink only the schedule and the data, never the architecture.
_PROFILE_OVERRIDES: dict[str, dict[str, dict[str, Any]]] = {
    "vae": {
        "smoke": dict(epochs=2, train_examples=2048, eval_examples=1024, latent_points=1024),
        "quick": dict(epochs=5),
        "report": {},
        "paper": {},
    },
    "dcgan": {
        "smoke": dict(epochs=2, batch_size=32, train_examples=256, eval_examples=256,
                      num_fixed_noise=16),
        "quick": dict(epochs=5, train_examples=12_800),
        "report": {},
        "paper": {},
    },
}


class ConfigError(ValueError):
    """A configuration value a user asked for is not valid."""


def available_experiments() -> tuple[str, ...]:
    return tuple(e for e in EXPERIMENTS if e in _CONFIG_CLASSES)


def make_config(experiment: str, profile: str = "report", **overrides: Any) -> ExperimentConfig:
    """Return the configuration of ``experiment`` under ``profile`` with ``overrides`` applied.

    Overrides whose value is ``None`` are ignored, so CLI defaults can be passed straight in.
    """
    if experiment not in _CONFIG_CLASSES:
        raise ConfigError(
            f"unknown experiment {experiment!r}; choose one of {', '.join(available_experiments())}")
    if profile not in PROFILES:
        raise ConfigError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
    cls = _CONFIG_CLASSES[experiment]
    values = dict(_PROFILE_OVERRIDES[experiment].get(profile, {}))
    values.update({k: v for k, v in overrides.items() if v is not None})
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise ConfigError(f"{experiment} has no setting {', '.join(unknown)}")
    config = cls(profile=profile, **values)
    _validate(config)
    return config


def config_from_dict(values: dict[str, Any]) -> ExperimentConfig:
    """Rebuild a configuration saved with :meth:`ExperimentConfig.to_dict`."""
    cls = _CONFIG_CLASSES[values["experiment"]]
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in values.items():
        if key in fields:
            kwargs[key] = tuple(value) if isinstance(value, list) else value
    return cls(**kwargs)


def _validate(config: ExperimentConfig) -> None:
    positive = ["epochs", "batch_size"]
    for name in positive:
        if getattr(config, name) < 1:
            raise ConfigError(f"{name.replace('_', '-')} must be at least 1, got {getattr(config, name)}")
    for name in ("train_examples", "eval_examples"):
        value = getattr(config, name)
        if value is not None and value < config.batch_size:
            raise ConfigError(
                f"{name} ({value}) must be at least the batch size ({config.batch_size})")
    if config.dataset not in DATASETS:
        raise ConfigError(f"unknown dataset {config.dataset!r}; choose one of {', '.join(DATASETS)}")
    if config.seed < 0:
        raise ConfigError(f"seed must be non-negative, got {config.seed}")
    if isinstance(config, GANConfig):
        from replication.models.losses import LOSSES  # local import: config stays light

        if config.loss not in LOSSES:
            raise ConfigError(f"unknown loss {config.loss!r}; choose one of {', '.join(LOSSES)}")


def replace(config: ExperimentConfig, **changes: Any) -> ExperimentConfig:
    new = dataclasses.replace(config, **changes)
    _validate(new)
    return new


__all__ = [
    "EXPERIMENTS", "PROFILES", "DATASETS", "ExperimentConfig", "VAEConfig", "GANConfig",
    "DCGANConfig", "ConfigError", "make_config", "config_from_dict", "available_experiments",
    "replace",
]
