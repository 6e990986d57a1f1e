"""replication/checkpoint.py: a checkpoint of another architecture is refused; the one of the
epoch before is kept beside the last."""

from __future__ import annotations

import pytest

from replication.checkpoint import CheckpointError, load_state, save_state
from replication.runs import RunDir, read_npz
from tests.helpers.builds import built as _built


def test_a_checkpoint_of_another_architecture_is_refused(tmp_path):
    dcgan = _built("dcgan")
    path = tmp_path / "state.npz"
    save_state(path, dcgan.model, dcgan.optimizers, epoch=1)
    wider = _built("dcgan", gen_filters=(128, 64, 32))  # same layers, other shapes
    with pytest.raises(CheckpointError, match="different architecture"):
        load_state(path, wider.model, wider.optimizers)
    acgan = _built("acgan")  # other layers altogether
    with pytest.raises(CheckpointError, match="different architecture"):
        load_state(path, acgan.model, acgan.optimizers)


def test_checkpoints_keep_the_epoch_before(vae_smoke_run):
    run = RunDir(vae_smoke_run)
    assert run.checkpoint_file.exists() and run.previous_checkpoint_file.exists()
    assert int(read_npz(run.checkpoint_file)["epoch"]) == 2
    assert int(read_npz(run.previous_checkpoint_file)["epoch"]) == 1
