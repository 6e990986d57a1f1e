"""replication/train.py: what a run directory holds, --resume (refused changes, missing
folders, damaged checkpoints, a refused write), one-line errors for bad values."""

from __future__ import annotations

import json

import numpy as np
import pytest

from replication.__main__ import main
from replication.checkpoint import CheckpointError
from replication.runs import RunDir, read_npz
from replication.train import train
from tests.helpers.files import partial_files as _partial_files
from tests.helpers.files import truncate as _truncate


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


def test_existing_run_is_not_overwritten_without_resume(vae_smoke_run, capsys):
    code = main(["train", "vae", "--profile", "smoke", "--run-dir", str(vae_smoke_run)])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert "already holds a run" in err and "--resume" in err and "\n" not in err


def test_resume_of_a_finished_run_trains_nothing(vae_smoke_run, capsys):
    assert main(["train", "vae", "--run-dir", str(vae_smoke_run), "--resume",
                 "--profile", "smoke"]) == 0
    assert "already done" in capsys.readouterr().out


def test_resume_refuses_changed_settings_but_may_raise_epochs(tmp_path, capsys):
    run = tmp_path / "run"
    base = ["train", "dcgan", "--profile", "smoke", "--dataset", "mnist", "--run-dir", str(run),
            "--quiet", "--track-samples", "0"]  # (untracked: the resume tests compare curves)
    args = base + ["--epochs", "1"]
    assert main(args) == 0
    capsys.readouterr()
    assert main(args + ["--resume", "--real-label", "0.9"]) == 2
    err = capsys.readouterr().err
    assert "cannot change real_label" in err and len(err.strip().splitlines()) == 1
    assert main(args + ["--resume", "--data", "tfds"]) == 2
    assert "data source" in capsys.readouterr().err
    assert main(base + ["--epochs", "2", "--resume"]) == 0
    assert RunDir(run).info()["epochs_done"] == 2


def test_resume_of_a_missing_run_folder_is_refused(tmp_path, capsys):
    missing = tmp_path / "typo"
    assert main(["train", "vae", "--profile", "smoke", "--run-dir", str(missing),
                 "--resume"]) == 2
    err = capsys.readouterr().err
    assert "--resume: there is no run in" in err and str(missing) in err
    assert not missing.exists()


def test_resume_from_a_truncated_checkpoint_falls_back_to_the_previous(vae_copy, capsys):
    from replication.train import train

    run = RunDir(vae_copy)
    _truncate(run.checkpoint_file)
    train("vae", "smoke", run_dir=vae_copy, resume=True, epochs=3, verbose=0)
    out = capsys.readouterr().out
    assert "state.npz is damaged" in out and "restored" in out and "after epoch 1" in out
    assert [int(r["epoch"]) for r in run.history()] == [1, 2, 3]
    assert (run.checkpoint_file.parent / "state.damaged.npz").exists()  # moved aside, kept
    assert int(read_npz(run.checkpoint_file)["epoch"]) == 3
    assert int(read_npz(run.previous_checkpoint_file)["epoch"]) == 2


def test_resume_without_a_good_checkpoint_says_it_cannot(vae_copy):
    from replication.train import train

    run = RunDir(vae_copy)
    _truncate(run.checkpoint_file)
    _truncate(run.previous_checkpoint_file)
    with pytest.raises(CheckpointError, match="no earlier good checkpoint.*cannot resume"):
        train("vae", "smoke", run_dir=vae_copy, resume=True, epochs=3, verbose=0)
    assert json.loads(run.status_file.read_text())["epochs_done"] == 2  # nothing rewritten


def test_a_refused_checkpoint_write_ends_in_one_line_keeping_the_last_epoch(
        tmp_path, monkeypatch, capsys):
    """A full disk while the checkpoint of epoch 2 is written: one line naming the path and
    what was kept, status.json says failed, epoch 1's checkpoint is intact, no partial file."""
    import replication.checkpoint as checkpoint

    real_savez, calls = np.savez, []

    def full_disk(file, **arrays):
        calls.append(file)
        if len(calls) == 2:  # the second epoch: write a little, then the disk is full
            with open(file, "wb") as fh:
                fh.write(b"\0" * 100)
            raise OSError(28, "No space left on device")
        return real_savez(file, **arrays)

    monkeypatch.setattr(checkpoint.np, "savez", full_disk)
    run = tmp_path / "run"
    code = main(["train", "vae", "--profile", "smoke", "--run-dir", str(run), "--quiet"])
    assert code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0]
    assert "checkpoint/state.npz" in err[0] and "No space left on device" in err[0]
    assert "epoch 1 is kept" in err[0] and "--resume" in err[0]
    status = json.loads((run / "status.json").read_text())
    assert status["state"].startswith("failed: cannot write") and status["epochs_done"] == 1
    with np.load(run / "checkpoint" / "state.npz") as npz:
        assert int(npz["epoch"]) == 1
    assert _partial_files(run) == []
    monkeypatch.setattr(checkpoint.np, "savez", real_savez)
    assert main(["train", "vae", "--profile", "smoke", "--run-dir", str(run), "--resume",
                 "--quiet"]) == 0  # after freeing space, the run continues


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


def test_loss_flag_is_recorded(tmp_path):
    run = train("dcgan", "smoke", run_dir=tmp_path / "ls", verbose=0, loss="least-squares",
                epochs=1, train_examples=64, dataset="mnist", batch_size=32, track_samples=0)
    assert json.loads(run.config_file.read_text())["config"]["loss"] == "least-squares"
