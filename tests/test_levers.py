"""replication/levers.py: precision policies, loss scaling and the XLA choice (no timings are
asserted anywhere)."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from replication import levers
from replication.config import ConfigError
from replication.experiments import get, make_config


def test_xla_choice_comes_from_the_measured_table():
    assert levers.resolve_xla("on") is True and levers.resolve_xla("off") is False
    assert levers.resolve_xla("auto", "CPU") is levers.XLA_BY_DEVICE["CPU"]
    assert levers.resolve_xla("auto", "TPU") == "auto"  # not measured: Keras decides


def test_auto_precision_is_the_measured_choice(monkeypatch):
    monkeypatch.setattr(levers, "cpu_has_bf16", lambda: True)
    assert levers.resolve_precision("auto", get("acgan").bf16_on_cpu, "CPU") == "bf16"
    assert levers.resolve_precision("auto", get("effnet_vae").bf16_on_cpu, "CPU") == "fp32"  # measured slower
    assert levers.resolve_precision("auto", get("acgan").bf16_on_cpu, "GPU") == "fp32"  # not measured
    assert levers.resolve_precision("fp16", get("acgan").bf16_on_cpu, "CPU") == "fp16"
    monkeypatch.setattr(levers, "cpu_has_bf16", lambda: False)
    assert levers.resolve_precision("auto", get("acgan").bf16_on_cpu, "CPU") == "fp32"


def test_auto_precision_is_recorded_concretely_and_resumes(tmp_path, monkeypatch):
    from replication.train import train

    monkeypatch.setattr(levers, "cpu_has_bf16", lambda: True)
    # (Two steps an epoch, untracked: bf16 tracking is run by the bf16 CGAN test below.)
    run = train("dcgan", "smoke", run_dir=tmp_path / "d", precision="auto", epochs=1, verbose=0,
                train_examples=64, track_samples=0)
    assert json.loads((run.path / "config.json").read_text())["config"]["precision"] == "bf16"
    train("dcgan", "smoke", run_dir=run.path, precision="auto", resume=True, epochs=2, verbose=0)
    assert len(run.history()) == 2


def test_precision_policy_is_scoped():
    before = keras.config.dtype_policy().name
    with levers.precision_policy("bf16"):
        layer = keras.layers.Dense(2)
        assert keras.config.dtype_policy().name == "mixed_bfloat16"
    assert keras.config.dtype_policy().name == before
    assert layer.compute_dtype == "bfloat16" and layer.variable_dtype == "float32"


@pytest.mark.parametrize("experiment", ["vae", "cgan"])
def test_bf16_training_runs_and_keeps_float32_weights(experiment, tmp_path):
    from replication.train import train

    # Fewer examples than the smoke profile's: two to four steps an epoch.
    smaller = {"vae": dict(train_examples=512, eval_examples=256, latent_points=256),
               "cgan": dict(train_examples=64)}[experiment]
    run = train(experiment, "smoke", run_dir=tmp_path / experiment, precision="bf16", verbose=0,
                **smaller)
    history = run.history()
    assert len(history) == 2
    assert all(np.isfinite(v) for row in history for k, v in row.items() if k != "epoch")
    saved = json.loads((run.path / "config.json").read_text())
    assert saved["config"]["precision"] == "bf16"
    name = "vae.keras" if experiment == "vae" else "generator.keras"
    model = keras.saving.load_model(run.model_dir / name)
    assert {w.dtype for w in model.weights} == {"float32"}
    # A resumed run keeps its precision.
    with pytest.raises(ConfigError, match="cannot change precision"):
        train(experiment, "smoke", run_dir=run.path, resume=True, precision="fp32", verbose=0)


def test_fp16_wraps_both_gan_optimizers_in_loss_scaling(mnist):
    from replication import experiments

    config = make_config("dcgan", "smoke", dataset="mnist", precision="fp16")
    with levers.precision_policy("fp16"):
        built = experiments.get("dcgan").build(config, mnist)
    for role in ("d", "g"):
        assert isinstance(built.optimizers[role], keras.optimizers.LossScaleOptimizer)
    assert built.model.generator.layers[-1].compute_dtype == "float16"
