"""The error policy over every file of a run a command reads: a damaged history.csv, snapshot
array or shipped image grid is answered by each command that reads it in one line naming the
file (exit code 2), never a traceback, and nothing already computed is lost."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from replication import cards
from replication.__main__ import main
from replication.errors import DamagedFileError
from replication.runs import FRAME_SUFFIX, SHAPE_SUFFIX, RunDir, read_npz
from tests.helpers.files import one_line_error

GARBAGE_HISTORY = "epoch,loss\n1,0.5\n2,not-a-number\n"
RAGGED_HISTORY = "epoch,loss\n1,0.5,7\n"
BINARY_HISTORY = b"\x89PNG\r\n\x1a\n\x00\xff\xfe"


@pytest.fixture
def shipped_cgan(shipped, tmp_path):
    """A copy of the shipped CGAN smoke run (its snapshots hold JPEG frame grids)."""
    return shutil.copytree(shipped / "cgan", tmp_path / "cgan")


@pytest.mark.parametrize("history", [GARBAGE_HISTORY, RAGGED_HISTORY, BINARY_HISTORY],
                         ids=["text", "ragged", "binary"])
@pytest.mark.parametrize("command", ["figures", "study-table", "shipped-table"])
def test_a_damaged_history_is_one_line_in_every_command(vae_copy, tmp_path, capsys, history,
                                                        command):
    target = vae_copy / "history.csv"
    (target.write_bytes if isinstance(history, bytes) else target.write_text)(history)
    before = sorted(p.name for p in (vae_copy / "snapshots").iterdir())
    argv = {"figures": ["figures", "vae", "--run-dir", str(vae_copy), "--out",
                        str(tmp_path / "figs"), "--only", "fig05"],
            "study-table": None, "shipped-table": None}[command]
    if command == "shipped-table":  # pages' table of the shipped runs sums their epoch times
        root = tmp_path / "pretrained"
        shutil.copytree(vae_copy, root / "vae")
        with pytest.raises(DamagedFileError, match="history.csv is damaged"):
            cards.shipped_table(root)
        return
    if argv is None:  # the study table reads the history of every run under --runs
        root = tmp_path / "runs"
        shutil.copytree(vae_copy, root / "vae" / "study-smoke" / "baseline-s0")
        argv = ["study", "table", "vae", "--profile", "smoke", "--runs", str(root)]
    assert main(argv) == 2
    one_line_error(capsys, "history.csv is damaged")
    assert sorted(p.name for p in (vae_copy / "snapshots").iterdir()) == before


def _as_frames(run: RunDir, epoch: int, grid: bytes, images: int | None = None):
    """Store epoch's ``samples`` as a shipped run's frames do (a JPEG grid and its shape),
    with ``grid`` as the JPEG bytes."""
    path = run.snapshot_file(epoch)
    arrays = read_npz(path)
    samples = arrays.pop("samples")
    shape = np.array([images or len(samples), *samples.shape[1:]])
    np.savez(path, **arrays, **{"samples" + FRAME_SUFFIX: np.frombuffer(grid, np.uint8),
                                "samples" + SHAPE_SUFFIX: shape})
    return path


def test_a_damaged_frame_grid_is_one_line(shipped_cgan, tmp_path, capsys):
    run = RunDir(shipped_cgan)
    path = _as_frames(run, run.snapshot_epochs()[0], b"not a jpeg at all")
    assert main(["figures", "cgan", "--run-dir", str(shipped_cgan), "--out",
                 str(tmp_path / "figs"), "--only", "cgan.gif"]) == 2
    one_line_error(capsys, f"{path.name} is damaged", "image grid is unreadable")


def test_a_frame_grid_too_small_for_its_images_is_damaged(shipped_cgan):
    import io

    from PIL import Image

    run = RunDir(shipped_cgan)
    epoch = run.snapshot_epochs()[0]
    small = io.BytesIO()
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(small, format="JPEG")
    _as_frames(run, epoch, small.getvalue(), images=100)  # one image's grid, 100 claimed
    with pytest.raises(DamagedFileError, match="image grid holds 1 of 100 images"):
        run.load_snapshot(epoch)
