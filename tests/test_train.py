"""Training entry point: run directory contents, resume, NaN guard, CLI errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from replication.__main__ import main
from replication.runs import RunDir
from resume_harness import assert_resume_equals_uninterrupted

ROOT = Path(__file__).resolve().parent.parent


def test_smoke_run_directory_holds_everything(vae_smoke_run):
    run = RunDir(vae_smoke_run)
    info = json.loads(run.config_file.read_text())
    assert info["experiment"] == "vae"
    assert info["config"]["profile"] == "smoke"
    assert info["config"]["seed"] == 0
    assert info["data_source"] == "bundled" and "MNIST" in info["data"]
    assert info["device"].startswith(("CPU", "GPU"))
    assert info["versions"]["tensorflow"].startswith("2.")
    history = run.history()
    assert [row["epoch"] for row in history] == [1, 2]
    assert {"loss", "reconstruction_loss", "kl_loss", "val_loss"} <= set(history[0])
    assert run.snapshot_epochs() == [1, 2]
    assert json.loads(run.status_file.read_text())["state"] == "finished"
    assert (run.model_dir / "vae.keras").exists()


def test_saved_model_loads_in_a_fresh_process_with_replication_load_model(vae_smoke_run):
    """``import replication`` stays light (no TensorFlow) and ``replication.load_model`` reads
    a run's model quietly: nothing but the model's class name on stdout, nothing on stderr."""
    path = RunDir(vae_smoke_run).model_dir / "vae.keras"
    code = ("import sys, replication; assert 'tensorflow' not in sys.modules; "
            "m = replication.load_model(sys.argv[1]); print(type(m).__name__)")
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                         text=True, env=env)
    assert out.returncode == 0, out.stderr[-500:]
    assert out.stdout.strip() == "VAE"
    assert out.stderr == ""


def test_final_model_loads_and_decodes_the_snapshot_images(vae_smoke_run):
    run = RunDir(vae_smoke_run)
    model = keras.saving.load_model(run.model_dir / "vae.keras")
    snap = run.load_snapshot(2)
    from replication.snapshots import VAESnapshot
    from replication.experiments import make_config
    from replication import data

    config = make_config("vae", "smoke")
    fixed = VAESnapshot(config, data.load("mnist", verbose=False).test)
    decoded = np.asarray(model.decode(fixed.prior_z))
    np.testing.assert_array_equal(np.clip(np.rint(decoded * 255), 0, 255).astype(np.uint8),
                                  snap["samples"])


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


def test_existing_run_is_not_overwritten_without_resume(vae_smoke_run, capsys):
    code = main(["train", "vae", "--profile", "smoke", "--run-dir", str(vae_smoke_run)])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert "already holds a run" in err and "--resume" in err and "\n" not in err


def test_resume_of_a_finished_run_trains_nothing(vae_smoke_run, capsys):
    assert main(["train", "vae", "--run-dir", str(vae_smoke_run), "--resume",
                 "--profile", "smoke"]) == 0
    assert "already done" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["train", "vae", "--profile", "huge"], "invalid choice"),
    (["train", "vae", "--epochs", "0"], "must be at least 1"),
    (["train", "vae", "--epochs", "ten"], "expected a whole number"),
    (["train", "vae", "--seed", "-3"], "must be non-negative"),
    (["train", "gan"], "invalid choice"),
    (["train", "vae", "--bogus"], "unrecognized arguments"),
])
def test_bad_flags_exit_2_with_one_line(argv, message, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_bad_values_found_later_exit_2_with_one_line(tmp_path, capsys):
    code = main(["train", "vae", "--profile", "smoke", "--data", str(tmp_path / "nowhere"),
                 "--run-dir", str(tmp_path / "r")])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert "no such file or folder" in err and len(err.splitlines()) == 1
    code = main(["train", "vae", "--profile", "smoke", "--batch-size", "4096",
                 "--run-dir", str(tmp_path / "r2")])
    assert code == 2
    assert "batch size" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["-m", "replication", "train", "--help"],
                                  ["-m", "replication", "train", "vae", "--epochs", "0"],
                                  ["scripts/reproduce_all.py", "--help"]])
def test_help_and_bad_flags_answer_without_loading_tensorflow(argv):
    """``-X importtime`` lists every module imported: TensorFlow and Keras are not among
    them, so no start-up lines are printed and the answer is immediate."""
    out = subprocess.run([sys.executable, "-X", "importtime", *argv], capture_output=True,
                         text=True, cwd=ROOT)
    assert out.returncode in (0, 2)
    imported = {line.split("|")[-1].strip() for line in out.stderr.splitlines()
                if line.startswith("import time:")}
    assert imported and not imported & {"tensorflow", "keras"}


def test_help_documents_every_flag():
    out = subprocess.run([sys.executable, "-m", "replication", "train", "--help"],
                         capture_output=True, text=True, check=True).stdout
    for flag in ("--profile", "--epochs", "--batch-size", "--data", "--seed", "--run-dir",
                 "--resume", "--dataset"):
        assert flag in out
