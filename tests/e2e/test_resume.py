"""End to end: a run killed mid-epoch (or paused) and resumed ends where an uninterrupted one
does, for every experiment family (tests/resume_harness.py)."""

from __future__ import annotations

import numpy as np
import pytest

from replication.runs import RunDir
from tests.resume_harness import assert_resume_equals_uninterrupted

pytestmark = pytest.mark.e2e


def test_interrupted_run_resumes_to_the_same_weights(tmp_path):
    assert_resume_equals_uninterrupted(tmp_path, "vae", kill_at=(1, 3), epochs=3,
                                       train_examples=512, eval_examples=256, latent_points=256)


def test_a_paused_run_continues_to_the_same_end(tmp_path, capsys):
    """``stop_after`` (the study's screening pass) pauses a run on its schedule; resumed, it
    ends where an uninterrupted run does."""
    from replication.train import train

    settings = dict(epochs=2, train_examples=256, eval_examples=128, latent_points=128)
    straight, paused = tmp_path / "straight", tmp_path / "paused"
    train("vae", "smoke", run_dir=straight, verbose=0, **settings)
    train("vae", "smoke", run_dir=paused, verbose=0, stop_after=1, **settings)
    assert "paused after epoch 1 of 2" in capsys.readouterr().out
    status = RunDir(paused).info()
    assert (status["state"], status["epochs_done"]) == ("paused", 1)
    assert not RunDir(paused).model_dir.exists() or not any(RunDir(paused).model_dir.iterdir())
    train("vae", "smoke", run_dir=paused, resume=True, verbose=0, stop_after=1)  # no-op
    assert RunDir(paused).info()["epochs_done"] == 1
    train("vae", "smoke", run_dir=paused, resume=True, verbose=0)
    assert RunDir(paused).info()["state"] == "finished"
    a, b = (np.load(RunDir(p).checkpoint_file) for p in (straight, paused))
    for key in a.files:
        if not key.endswith("paths"):
            np.testing.assert_allclose(b[key], a[key], rtol=1e-5, atol=1e-6, err_msg=key)
    assert [r["epoch"] for r in RunDir(paused).history()] == [1, 2]


def test_killed_run_resumes_to_the_same_weights_and_optimizer_state(tmp_path):
    straight, resumed = assert_resume_equals_uninterrupted(
        tmp_path, "dcgan", kill_at=(1, 2), epochs=3, train_examples=128, dataset="mnist",
        batch_size=32)
    # The averaged generator is part of the compared state.
    with np.load(straight.checkpoint_file) as npz:
        assert any("ema_" in str(p) for p in npz["model/paths"])
    # The resumed run continues the same quality curves (shipped MNIST classifier).
    rows = {"straight": straight.history(), "resumed": resumed.history()}
    for key in ("fid", "coverage", "fid_ema", "coverage_ema"):
        np.testing.assert_allclose([r[key] for r in rows["resumed"]],
                                   [r[key] for r in rows["straight"]], rtol=1e-4, err_msg=key)


@pytest.mark.parametrize("experiment", ["cgan", "acgan"])
def test_killed_conditional_runs_resume_to_the_same_state(experiment, tmp_path):
    # (Quality tracking off: the DCGAN's resume test covers the resumed curves.)
    assert_resume_equals_uninterrupted(tmp_path, experiment, kill_at=(1, 1), epochs=2,
                                       train_examples=100, batch_size=25, track_samples=0)


def test_a_run_with_the_discriminators_stabilisers_resumes_to_the_same_state(tmp_path):
    # Spectral normalisation's power-iteration vectors, DiffAugment's draws (from the model's
    # seed generator) and the twin classifier head are part of the state to resume (a small
    # AC-GAN: the levers, not the paper's widths, are under test).
    straight, _ = assert_resume_equals_uninterrupted(
        tmp_path, "acgan", kill_at=(1, 1), epochs=2, train_examples=100, batch_size=25,
        track_samples=0, spectral_norm=True, diff_augment="color,translation,cutout",
        class_loss="twin", loss="hinge", gen_linear_maps=16, gen_filters=(16, 8),
        disc_filters=(8, 16), disc_strides=(2, 2))
    with np.load(straight.checkpoint_file) as npz:
        assert sum("sn_u" in str(p) for p in npz["model/paths"]) == 3
