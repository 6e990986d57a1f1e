"""Damaged files: every reader of a run's files answers a truncated or corrupt file with one
line naming it (exit code 2 from a command), deletes nothing, and a damaged last checkpoint
still lets a run resume from the one before."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from replication import load_model
from replication.__main__ import main
from replication.checkpoint import CheckpointError
from replication.errors import DamagedFileError
from replication.runs import RunDir, read_json, read_npz


def _truncate(path, keep=1000):
    data = path.read_bytes()
    path.write_bytes(data[:min(keep, len(data) // 2)])


def _one_line_error(capsys, *needles):
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in captured.err, captured.err
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def vae_copy(vae_smoke_run, tmp_path):
    target = tmp_path / "vae"
    shutil.copytree(vae_smoke_run, target)
    return target


def test_a_truncated_model_is_named_not_reported_missing(vae_copy, capsys):
    model = vae_copy / "model" / "vae.keras"
    _truncate(model, 20_000)
    size = model.stat().st_size
    with pytest.raises(DamagedFileError, match="vae.keras is damaged"):
        load_model(model)
    assert main(["sample", "vae", "--run-dir", str(vae_copy), "--out",
                 str(vae_copy / "x.png")]) == 2
    _one_line_error(capsys, "vae.keras", "damaged", "not a complete .keras archive")
    assert model.stat().st_size == size and not (vae_copy / "x.png").exists()


def test_a_missing_model_is_still_missing(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "nothing.keras")


def test_corrupt_json_of_a_run(vae_copy, capsys):
    (vae_copy / "config.json").write_text('{"experiment": "vae", "config": {')
    with pytest.raises(DamagedFileError, match="not valid JSON"):
        read_json(vae_copy / "config.json")
    assert main(["sample", "vae", "--run-dir", str(vae_copy), "--out",
                 str(vae_copy / "x.png")]) == 2
    _one_line_error(capsys, "config.json", "damaged")


def test_truncated_snapshot(vae_copy, capsys):
    run = RunDir(vae_copy)
    epoch = run.snapshot_epochs()[-1]
    _truncate(run.snapshot_file(epoch))
    with pytest.raises(DamagedFileError, match=f"epoch_{epoch:03d}.npz is damaged"):
        run.load_snapshot(epoch)
    assert main(["figures", "vae", "--run-dir", str(vae_copy), "--out",
                 str(vae_copy / "figs"), "--only", "fig03"]) == 2
    _one_line_error(capsys, f"epoch_{epoch:03d}.npz", "damaged")


def test_bit_flipped_npz_is_damaged_too(tmp_path):
    path = tmp_path / "a.npz"
    np.savez_compressed(path, x=np.arange(10_000))
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0xFF  # inside the compressed member
    path.write_bytes(bytes(data))
    with pytest.raises(DamagedFileError, match="a.npz is damaged"):
        read_npz(path)


def test_checkpoints_keep_the_epoch_before(vae_smoke_run):
    run = RunDir(vae_smoke_run)
    assert run.checkpoint_file.exists() and run.previous_checkpoint_file.exists()
    assert int(read_npz(run.checkpoint_file)["epoch"]) == 2
    assert int(read_npz(run.previous_checkpoint_file)["epoch"]) == 1


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
