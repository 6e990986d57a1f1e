"""Experiment configurations: the single source of truth for every hyper-parameter.

Each experiment of the report has one frozen dataclass holding the report's (or, where the
report is silent, the project's documented) choices.  A *profile* scales the schedule without touching the
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

from replication.errors import ReplicationError

EXPERIMENTS = ("vae", "effnet_vae", "dcgan", "cgan", "acgan")
# Not a model of the report: the classifier the evaluation trains once per dataset.
AUXILIARY = ("classifier",)
PROFILES = ("smoke", "quick", "report", "paper")
DATASETS = ("mnist", "cifar10")
# The GAN losses (replication.models.losses implements each; the default is the report's).
GAN_LOSSES = ("minimax", "non-saturating", "least-squares", "wasserstein")
# The EfficientNet-VAE's encoder backbones (replication.models.efficientnet_vae).
EFFNET_ENCODERS = ("efficientnet-b0", "efficientnet-lite0")
# "report" and "paper" run the full schedules on the whole data; the others are short runs.
FULL_SCHEDULE_PROFILES = ("report", "paper")


def is_full_schedule(profile: str) -> bool:
    """Whether ``profile`` runs a full schedule (the report's or the paper's)."""
    return profile in FULL_SCHEDULE_PROFILES


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


@dataclass(frozen=True)
class VAEConfig(ExperimentConfig):
    """Q1: convolutional VAE with a 2-D latent space on MNIST (Kingma & Welling 2013).

    The report fixes the objective (ELBO with cross-entropy reconstruction and KL); the project fixes
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
    # Figures (fig02-fig06): sizes of the per-epoch snapshots.
    manifold_size: int = 20          # fig02: n x n grid over the latent plane
    manifold_quantile: float = 0.05  # grid spans the N(0,1) quantiles [q, 1-q] on each axis
    num_samples: int = 64            # fig03: decoded z ~ N(0, I)
    num_reconstructions: int = 10    # fig03b
    num_interpolations: int = 6      # fig04: rows
    interpolation_steps: int = 10    # fig04: columns
    latent_points: int = 10_000      # fig06: encoded test images in the scatter


@dataclass(frozen=True)
class EffNetVAEConfig(VAEConfig):
    """Q1 bonus: the VAE with a pretrained EfficientNet encoder.

    Same latent head, decoder family, loss and optimiser as the Q1 VAE; MNIST padded to 32x32
    and repeated to three channels for the encoder.  ``encoder``: one of
    :data:`EFFNET_ENCODERS` (EfficientNet-Lite0, whose ImageNet weights come offline from a
    pip package, or EfficientNet-B0 from the ``efficientnet`` package, which downloads them);
    ``encoder_weights``: "imagenet", "none" or a path to a local weights file.
    """

    experiment: str = "effnet_vae"
    epochs: int = 10
    encoder_input_size: int = 32
    encoder_weights: str = "imagenet"
    freeze_encoder_epochs: int = 0
    # The report names no EfficientNet variant and used pretrained weights: Lite0 is the
    # EfficientNet whose ImageNet weights can be had offline (docs/models.md).
    encoder: str = "efficientnet-lite0"


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
    # Quality tracked at the end of every epoch (replication.tracking): this many generated
    # images from fixed noise (class-balanced labels) scored by the shipped classifier against
    # the run's real evaluation split; 0 turns it off.
    track_samples: int = 2000

    def learning_rates(self) -> tuple[float, float]:
        """``(D's, G's)`` Adam learning rate."""
        d = self.learning_rate if self.d_learning_rate is None else self.d_learning_rate
        g = self.learning_rate if self.g_learning_rate is None else self.g_learning_rate
        return d, g


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


@dataclass(frozen=True)
class CGANConfig(DCGANConfig):
    """Q3: conditional GAN (Mirza & Osindero 2014) with DCGAN-style networks on CIFAR-10.

    Both networks receive the label (the report fixes only that); ``label_conditioning`` says
    how (one of :data:`CGAN_LABEL_CONDITIONING`, built by :mod:`replication.models.dcgan`):
    ``input-concat`` joins a one-hot vector to G's noise and ten one-hot planes to D's image;
    ``projection`` is a projection D (Miyato & Koyama 2018) with class-conditional BatchNorm
    in G; ``projection-d`` the projection D with G's input concatenation; ``late-concat`` the
    label planes joined to D's last 4x4 features (Reed et al. 2016) with G's input
    concatenation.  15 epochs, as the report ran.
    """

    experiment: str = "cgan"
    epochs: int = 15
    # The report is silent on how the label enters the networks, on wrong-label pairs and on
    # the CGAN's batch size; chosen by the study in docs/studies.md.
    batch_size: int = 64
    label_conditioning: str = "projection"
    # Matching-aware discriminator (Reed et al. 2016): real images paired with a wrong label
    # are shown to D as fakes, so D must read the label.  D's loss on fakes becomes the mean
    # of its loss on generated images and on mismatched real pairs (off: the report's
    # two-term objective alone).
    mismatched_labels: bool = True


@dataclass(frozen=True)
class ACGANConfig(GANConfig):
    """Q3: AC-GAN (Odena et al. 2016), the paper's CIFAR-10 architecture table exactly.

    Adam with one of the table's learning rates {1e-4, 2e-4, 3e-4} and beta_1 0.5, beta_2 0.999;
    batch 100; LeakyReLU 0.2; dropout 0.5 in D; weights N(0, 0.02), biases 0; activation noise
    std from the table's options {0, 0.1, 0.2}.  ``report``: the report's ~18 epochs of 500
    iterations; ``paper``: the paper's 50,000 iterations (100 epochs).
    """

    experiment: str = "acgan"
    dataset: str = "cifar10"
    epochs: int = 18
    batch_size: int = 100
    learning_rate: float = 2e-4
    gen_linear_maps: int = 384
    gen_filters: tuple[int, ...] = (192, 96)
    gen_kernel_size: int = 5
    disc_filters: tuple[int, ...] = (16, 32, 64, 128, 256, 512)
    disc_strides: tuple[int, ...] = (2, 1, 2, 1, 2, 1)
    disc_kernel_size: int = 3
    dropout: float = 0.5
    activation_noise: float = 0.0
    # D's class loss: "all" (the paper: on real and generated images) or "real" (on real
    # images only, as Keras' mnist_acgan example and StudioGAN do; a departure from the
    # paper's loss).  G's class loss on its own samples is the same either way.
    class_loss: str = "all"


@dataclass(frozen=True)
class ClassifierConfig(ExperimentConfig):
    """The evaluation's own classifier (:mod:`replication.models.classifier`), one per dataset.

    Its penultimate features and logits are the offline extractor for FID/KID, the classifier
    score, the conditional accuracy and class coverage.  Targets: >= 99 % test accuracy on
    MNIST, >= 85 % on CIFAR-10.  Nesterov SGD, 10 % linear warm-up then linear decay to 0,
    label smoothing 0.2, decoupled weight decay, shifts of up to ``translate`` pixels and (for
    CIFAR-10) horizontal flips.
    """

    experiment: str = "classifier"
    dataset: str = "cifar10"
    # 20 epochs: the 10-epoch schedule reached 85.11 % on CIFAR-10; twice as long buys a few
    # points for the extractor every GAN number depends on (measured: docs/evaluation.md).
    epochs: int = 20
    batch_size: int = 256
    learning_rate: float = 0.1
    weight_decay: float = 5e-4
    label_smoothing: float = 0.2
    warmup_fraction: float = 0.1
    widths: tuple[int, ...] = (64, 128, 256)
    logit_temperature: float = 8.0
    translate: int = 2
    flip: bool = True


_CONFIG_CLASSES: dict[str, type[ExperimentConfig]] = {
    "vae": VAEConfig,
    "effnet_vae": EffNetVAEConfig,
    "dcgan": DCGANConfig,
    "cgan": CGANConfig,
    "acgan": ACGANConfig,
    "classifier": ClassifierConfig,
}

# Profile overrides per experiment.  ``report`` and ``paper`` are the dataclass defaults unless
# listed here.  Smoke and quick shrink only the schedule and the data, never the architecture.
_PROFILE_OVERRIDES: dict[str, dict[str, dict[str, Any]]] = {
    "vae": {
        "smoke": dict(epochs=2, train_examples=2048, eval_examples=1024, latent_points=1024),
        "quick": dict(epochs=4, train_examples=40_000),
        "report": {},
        "paper": {},
    },
    "effnet_vae": {
        # smoke keeps EfficientNet-B0, whose ImageNet weights need a download: the seconds-long
        # profile exercises that path's fast offline refusal; Lite0's offline weights are
        # exercised by `--encoder efficientnet-lite0` (tests, the acceptance checks).
        "smoke": dict(epochs=2, train_examples=512, eval_examples=512, latent_points=512,
                      manifold_size=10, encoder="efficientnet-b0"),
        "quick": dict(epochs=2, train_examples=16_000),
        "report": {},
        "paper": {},
    },
    "dcgan": {
        "smoke": dict(epochs=2, batch_size=32, train_examples=256, eval_examples=256,
                      num_fixed_noise=16, track_samples=200),
        "quick": dict(epochs=4, train_examples=12_800),
        "report": {},
        "paper": {},
    },
    "cgan": {
        "smoke": dict(epochs=2, batch_size=32, train_examples=256, eval_examples=256,
                      track_samples=200),
        # 1,000 steps: measured to be about where the rows start to differ by class.
        "quick": dict(epochs=10, train_examples=12_800),
        "report": {},
        "paper": {},
    },
    "acgan": {
        "smoke": dict(epochs=2, batch_size=25, train_examples=250, eval_examples=250,
                      track_samples=200),
        "quick": dict(epochs=5, train_examples=10_000),
        "report": {},
        "paper": dict(epochs=100),  # 50,000 iterations of batch 100 on the 50,000 images
    },
    "classifier": {
        "smoke": dict(epochs=2, batch_size=64, train_examples=2048, eval_examples=512),
        "quick": {},
        "report": {},
        "paper": {},
    },
}


# Where one dataset makes an experiment much cheaper per step, its quick profile uses the time
# for more steps (DCGAN on 28x28x1 MNIST: two full epochs, about the time of CIFAR-10's 500 steps).
_DATASET_OVERRIDES: dict[tuple[str, str, str], dict[str, Any]] = {
    ("dcgan", "mnist", "quick"): dict(epochs=2, train_examples=60_000),
    # Digits: narrower, three epochs, no flips (a mirrored digit is another shape).
    **{("classifier", "mnist", profile): dict(widths=(32, 64, 128), flip=False,
                                              **({} if profile == "smoke" else dict(epochs=3)))
       for profile in PROFILES},
}


class ConfigError(ReplicationError, ValueError):
    """A configuration value a user asked for is not valid."""


def available_experiments() -> tuple[str, ...]:
    return EXPERIMENTS + AUXILIARY


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
    dataset = overrides.get("dataset") or getattr(cls, "dataset")
    values.update(_DATASET_OVERRIDES.get((experiment, dataset, profile), {}))
    values.update({k: v for k, v in overrides.items() if v is not None})
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise ConfigError(f"{experiment} has no setting {', '.join(unknown)}")
    config = cls(profile=profile, **values)
    _validate(config)
    return config


# Settings added after runs were saved: a saved config without them ran as these say.
# (ema_half_life: a run saved without it has no averaged generator in its checkpoint.)
# (label_conditioning: a conditional GAN saved without it joined the label at both inputs.)
# (encoder: an EfficientNet-VAE saved without it had the EfficientNet-B0 encoder.)
_LEGACY_DEFAULTS: dict[str, Any] = {"share_fakes": False, "ema_half_life": 0,
                                    "label_conditioning": "input-concat",
                                    "encoder": "efficientnet-b0"}


def config_from_dict(values: dict[str, Any]) -> ExperimentConfig:
    """Rebuild a configuration saved with :meth:`ExperimentConfig.to_dict`."""
    cls = _CONFIG_CLASSES[values["experiment"]]
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {k: v for k, v in _LEGACY_DEFAULTS.items() if k in fields and k not in values}
    for key, value in values.items():
        if key in fields:
            kwargs[key] = tuple(value) if isinstance(value, list) else value
    return cls(**kwargs)


# What a run's results do not depend on by design (or what is an input recorded beside the
# settings): left out when a saved run is compared with a profile's current settings.
NOT_SETTINGS = ("profile", "epochs", "precision", "xla", "encoder_weights")


def settings_changed(saved: ExperimentConfig, current: ExperimentConfig) -> dict[str, tuple]:
    """``{setting: (saved value, current value)}`` for every training setting in which a saved
    run differs from ``current`` (e.g. a profile default changed after the run was started)."""
    old, new = saved.to_dict(), current.to_dict()
    return {k: (old.get(k), new[k]) for k in new
            if k not in NOT_SETTINGS and old.get(k) != new[k]}


def changed_from_profile(saved: dict, experiment: str, profile: str,
                         current: str = "now") -> str | None:
    """How a saved run's settings (its config.json ``config``) differ from the profile's
    current ones, as ``"setting old (<current> new), ..."``; None when they don't."""
    changed = settings_changed(config_from_dict(saved), make_config(experiment, profile))
    if not changed:
        return None
    return ", ".join(f"{k} {old!r} ({current} {new!r})"
                     for k, (old, new) in sorted(changed.items()))


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
    from replication.levers import PRECISION_SETTINGS, XLA_SETTINGS  # config stays light

    if config.precision not in PRECISION_SETTINGS:
        raise ConfigError(f"unknown precision {config.precision!r}; choose one of "
                          f"{', '.join(PRECISION_SETTINGS)}")
    if config.xla not in XLA_SETTINGS:
        raise ConfigError(f"unknown xla setting {config.xla!r}; choose one of "
                          f"{', '.join(XLA_SETTINGS)}")
    if config.dataset not in DATASETS:
        raise ConfigError(f"unknown dataset {config.dataset!r}; choose one of {', '.join(DATASETS)}")
    if config.seed < 0:
        raise ConfigError(f"seed must be non-negative, got {config.seed}")
    if isinstance(config, EffNetVAEConfig) and config.freeze_encoder_epochs < 0:
        raise ConfigError("freeze-encoder-epochs must be non-negative")
    if isinstance(config, EffNetVAEConfig) and config.encoder not in EFFNET_ENCODERS:
        raise ConfigError(f"unknown encoder {config.encoder!r}; choose one of "
                          f"{', '.join(EFFNET_ENCODERS)}")
    if isinstance(config, ACGANConfig):
        if config.learning_rate not in ACGAN_LEARNING_RATES:
            raise ConfigError("the AC-GAN table allows learning rates 1e-4, 2e-4 or 3e-4, "
                              f"got {config.learning_rate}")
        if config.activation_noise not in ACGAN_ACTIVATION_NOISE:
            raise ConfigError("the AC-GAN table allows activation noise "
                              f"{', '.join(map(str, ACGAN_ACTIVATION_NOISE))}, "
                              f"got {config.activation_noise}")
    if isinstance(config, ACGANConfig) and config.class_loss not in ACGAN_CLASS_LOSSES:
        raise ConfigError(f"unknown class loss {config.class_loss!r}; choose one of "
                          f"{', '.join(ACGAN_CLASS_LOSSES)}")
    if isinstance(config, CGANConfig) and config.label_conditioning not in CGAN_LABEL_CONDITIONING:
        raise ConfigError(f"unknown label design {config.label_conditioning!r}; choose one of "
                          f"{', '.join(CGAN_LABEL_CONDITIONING)}")
    if isinstance(config, GANConfig):
        _validate_gan(config)


ACGAN_CLASS_LOSSES = ("all", "real")
# How the conditional GAN's label enters G and D (CGANConfig; replication.models.dcgan).
CGAN_LABEL_CONDITIONING = ("input-concat", "projection", "projection-d", "late-concat")
ACGAN_LEARNING_RATES = (1e-4, 2e-4, 3e-4)
ACGAN_ACTIVATION_NOISE = (0.0, 0.1, 0.2)


def _validate_gan(config: GANConfig) -> None:
    if config.loss not in GAN_LOSSES:
        raise ConfigError(f"unknown loss {config.loss!r}; choose one of {', '.join(GAN_LOSSES)}")
    if not 0.0 < config.real_label <= 1.0:
        raise ConfigError(f"real-label must be in (0, 1], got {config.real_label}")
    if config.real_label != 1.0 and config.loss == "wasserstein":
        raise ConfigError("label smoothing (real-label below 1) has no meaning for the "
                          "wasserstein critic, which has no targets")
    for name in ("d_learning_rate", "g_learning_rate"):
        value = getattr(config, name)
        if value is not None and not value > 0:
            raise ConfigError(f"{name.replace('_', '-')} must be positive, got {value}")
        if value is not None and isinstance(config, ACGANConfig) and \
                value not in ACGAN_LEARNING_RATES:
            raise ConfigError(f"the AC-GAN table allows learning rates 1e-4, 2e-4 or 3e-4 per "
                              f"network, got {name.replace('_', '-')} {value}")
    if config.ema_half_life < 0 or config.ema_ramp < 0:
        raise ConfigError("ema-half-life and ema-ramp must be non-negative (0 turns them off)")
    if config.track_samples and config.track_samples < 10:
        raise ConfigError(f"track-samples must be 0 (off) or at least 10, got "
                          f"{config.track_samples}")


def replace(config: ExperimentConfig, **changes: Any) -> ExperimentConfig:
    new = dataclasses.replace(config, **changes)
    _validate(new)
    return new


__all__ = [
    "EXPERIMENTS", "AUXILIARY", "PROFILES", "DATASETS", "GAN_LOSSES", "is_full_schedule", "ExperimentConfig", "VAEConfig",
    "EffNetVAEConfig", "GANConfig", "DCGANConfig", "CGANConfig", "ACGANConfig",
    "ClassifierConfig", "ConfigError", "make_config", "config_from_dict",
    "available_experiments", "replace", "settings_changed",
]
