"""The experiments, one module each, and their registry: everything that differs between them.

Each module (:mod:`~replication.experiments.vae`, ``effnet_vae``, ``dcgan``, ``cgan``, ``acgan``
and the evaluation's ``classifier``) holds its frozen dataclass of settings, the overrides of
its profiles, how its networks are built and trained and the ids of its figures
(:class:`~replication.experiments.base.Experiment`), and what the commands ask of it: its
model files, how to draw from it, whether a likelihood bound scores it, the report's captions
of its figures, published numbers, the time estimate and the benchmark's settings (its
family's answers, :class:`~replication.experiments.vae.VAEExperiment` or
:class:`~replication.experiments.base.GANExperiment`, unless it says otherwise).  Adding an
experiment means one module there and :func:`register` (or its line in :data:`MODULES`); the
CLIs, ``evaluate``, ``gallery``, ``reproduce`` and ``bench`` read their lists from here (only
the study variants stay with :mod:`replication.study`).

:func:`make_config` builds an experiment's settings at a profile, :func:`config_from_dict`
rebuilds a saved run's.  Importing this package does not import TensorFlow.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from replication.config import (NOT_SETTINGS, PROFILE_DEFAULTS, PROFILES, ConfigError,
                                ExperimentConfig)
from replication.experiments import acgan, cgan, classifier, dcgan, effnet_vae, vae
from replication.experiments.base import Built, Experiment, GANExperiment

# The report's experiments in the report's order, then the evaluation's classifier.
MODULES = (vae, effnet_vae, dcgan, cgan, acgan, classifier)
EXPERIMENTS: dict[str, Experiment] = {m.EXPERIMENT.name: m.EXPERIMENT for m in MODULES}


def register(spec: Experiment) -> Experiment:
    """Add the experiment ``spec`` to the registry, after the ones there; every command reads
    it from then on (its figures are registered with ``replication.figures.figure``)."""
    if spec.name in EXPERIMENTS:
        raise ValueError(f"an experiment {spec.name!r} is registered already")
    EXPERIMENTS[spec.name] = spec
    return spec


def get(name: str) -> Experiment:
    return EXPERIMENTS[name]


def of_report() -> list[Experiment]:
    """The report's experiments, in the report's order (not the evaluation's classifier)."""
    return [spec for spec in EXPERIMENTS.values() if spec.section is not None]


def names() -> tuple[str, ...]:
    """Names of the report's experiments, in the report's order."""
    return tuple(s.name for s in of_report())


def available() -> tuple[str, ...]:
    """Every experiment ``train`` takes: the report's, then the evaluation's classifier."""
    return tuple(EXPERIMENTS)


def setting_names() -> set[str]:
    """Every setting any registered experiment has (its config dataclass's fields)."""
    return {f.name for spec in EXPERIMENTS.values()
            for f in dataclasses.fields(spec.config_class)}


def experiment_of_figure(figure_id: str) -> str:
    for spec in of_report():
        if figure_id in spec.figures:
            return spec.name
    raise KeyError(f"no experiment draws {figure_id}")


def make_config(experiment: str, profile: str = "report", **overrides: Any) -> ExperimentConfig:
    """Return the configuration of ``experiment`` under ``profile`` with ``overrides`` applied.

    Overrides whose value is ``None`` are ignored, so CLI defaults can be passed straight in.
    """
    if experiment not in EXPERIMENTS:
        raise ConfigError(
            f"unknown experiment {experiment!r}; choose one of {', '.join(available())}")
    if profile not in PROFILES:
        raise ConfigError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
    spec = EXPERIMENTS[experiment]
    cls = spec.config_class
    values = dict(PROFILE_DEFAULTS.get(profile, {}))
    values.update(spec.profiles.get(profile, {}))
    dataset = overrides.get("dataset") or getattr(cls, "dataset")
    values.update(spec.dataset_profiles.get((dataset, profile), {}))
    values.update({k: v for k, v in overrides.items() if v is not None})
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise ConfigError(f"{experiment} has no setting {', '.join(unknown)}")
    config = cls(profile=profile, **values)
    config.validate()
    return config


# Settings added after runs were saved: a saved config without them ran as these say.
# (ema_half_life: a run saved without it has no averaged generator in its checkpoint.)
# (label_conditioning: a conditional GAN saved without it joined the label at both inputs.)
# (encoder: an EfficientNet-VAE saved without it had the EfficientNet-B0 encoder.)
_LEGACY_DEFAULTS: dict[str, Any] = {"share_fakes": False, "fused_batchnorm": False,
                                    "ema_half_life": 0,
                                    "label_conditioning": "input-concat",
                                    "encoder": "efficientnet-b0"}


def config_from_dict(values: dict[str, Any]) -> ExperimentConfig:
    """Rebuild a configuration saved with :meth:`ExperimentConfig.to_dict`."""
    cls = EXPERIMENTS[values["experiment"]].config_class
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {k: v for k, v in _LEGACY_DEFAULTS.items() if k in fields and k not in values}
    for key, value in values.items():
        if key in fields:
            kwargs[key] = tuple(value) if isinstance(value, list) else value
    return cls(**kwargs)


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


__all__ = ["MODULES", "EXPERIMENTS", "Built", "Experiment", "GANExperiment", "register", "get",
           "of_report",
           "names", "available", "setting_names", "experiment_of_figure", "make_config", "config_from_dict",
           "settings_changed", "changed_from_profile"]
