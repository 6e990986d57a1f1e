"""DCGAN end to end: the report's log line, figures 9-12 and the GIF, resume, saved networks."""

from __future__ import annotations

import json

import imageio.v3 as iio
import keras
import numpy as np

from replication.__main__ import main
from replication.runs import RunDir
from replication.train import train
from resume_harness import assert_resume_equals_uninterrupted

Q2_FILES = ["fig09.png", "fig10.png", "fig11.png", "fig11_ema.png", "fig12.png", "dcgan.gif"]


def test_report_log_line_after_every_epoch(tmp_path, capsys):
    assert main(["train", "dcgan", "--profile", "smoke", "--quiet", "--run-dir",
                 str(tmp_path / "r")]) == 0
    lines = [l for l in capsys.readouterr().out.splitlines() if l.startswith("epoch = ")]
    assert len(lines) == 2
    assert lines[0].startswith("epoch = 1/2, d_loss=") and lines[1].startswith("epoch = 2/2, d_loss=")
    history = RunDir(tmp_path / "r").history()
    assert f"d_loss={history[1]['d_loss']:.3f}, g_loss={history[1]['g_loss']:.3f}" in lines[1]


def test_figures_from_the_run_directory(dcgan_smoke_run, tmp_path):
    assert main(["figures", "dcgan", "--run-dir", str(dcgan_smoke_run), "--out", str(tmp_path)]) == 0
    for name in Q2_FILES:
        assert (tmp_path / name).stat().st_size > 1000
    manifest = json.loads((tmp_path / "manifest.json").read_text())["files"]
    assert list(manifest) == Q2_FILES
    assert manifest["fig10.png"]["profile"] == "smoke"
    assert "CIFAR-10" in manifest["fig11.png"]["data"]
    assert iio.imread(tmp_path / "dcgan.gif", index=None).shape[0] == 2


def test_saved_networks_reproduce_the_snapshot(dcgan_smoke_run):
    from replication.experiments import make_config
    from replication.snapshots import GANSnapshot

    run = RunDir(dcgan_smoke_run)
    generator = keras.saving.load_model(run.model_dir / "generator.keras")
    keras.saving.load_model(run.model_dir / "discriminator.keras")
    fixed = GANSnapshot(make_config("dcgan", "smoke"))
    images = np.asarray(generator(fixed.noise, training=False))
    np.testing.assert_array_equal(
        np.clip(np.rint((images + 1) / 2 * 255), 0, 255).astype(np.uint8),
        run.load_snapshot(2)["samples"])


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


def test_loss_flag_is_recorded(tmp_path):
    run = train("dcgan", "smoke", run_dir=tmp_path / "ls", verbose=0, loss="least-squares",
                epochs=1, train_examples=64, dataset="mnist", batch_size=32)
    assert json.loads(run.config_file.read_text())["config"]["loss"] == "least-squares"
