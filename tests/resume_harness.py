"""One harness for "a run killed mid-epoch and resumed ends where an uninterrupted one does"
(weights, BatchNorm statistics, averaged generator, optimizer moments, RNG states, history)."""

from __future__ import annotations

import json
import re

import keras
import numpy as np
import pytest

from replication.runs import RunDir
from replication.train import TrainingError, train


class KillAt(keras.callbacks.Callback):
    """Simulates a kill (Ctrl-C) in the middle of an epoch."""

    def __init__(self, epoch, batch):
        super().__init__()
        self.at = (epoch, batch)
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            raise KeyboardInterrupt


def _unnumbered(paths) -> list[str]:
    return [re.sub(r"_\d+(?=/|$)", "", str(p)) for p in paths]


def checkpoint_state(run_dir) -> dict:
    with np.load(RunDir(run_dir).checkpoint_file) as npz:
        return {k: npz[k] for k in npz.files}


def assert_resume_equals_uninterrupted(tmp_path, experiment: str, kill_at=(1, 2), **overrides):
    """Train ``experiment`` (smoke profile with ``overrides``) straight through, and again
    killed at ``kill_at`` = (epoch, batch) then resumed; assert both end in the same state.
    Returns the two run directories ``(straight, resumed)`` for further checks."""
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    train(experiment, "smoke", run_dir=straight, verbose=0, **overrides)
    with pytest.raises(TrainingError, match="--resume"):
        train(experiment, "smoke", run_dir=killed, verbose=0,
              callbacks=[KillAt(*kill_at)], **overrides)
    status = json.loads(RunDir(killed).status_file.read_text())
    assert status["state"] == "interrupted" and status["epochs_done"] == kill_at[0]
    train(experiment, "smoke", run_dir=killed, resume=True, verbose=0)
    a, b = checkpoint_state(straight), checkpoint_state(killed)
    assert a.keys() == b.keys()
    assert int(b["epoch"]) == int(a["epoch"])
    moments = [k for k in a if k.startswith("optimizer.") and not k.endswith("paths")]
    assert len(moments) > 10  # optimizer state is part of the comparison
    for key in a:
        if key.endswith("paths"):  # variable names, up to Keras' per-process numbering of
            if key.startswith("model"):  # unnamed layers and optimizers ("dropout_3")
                assert _unnumbered(b[key]) == _unnumbered(a[key])
            continue
        np.testing.assert_allclose(b[key], a[key], rtol=1e-5, atol=1e-6, err_msg=key)
    epochs = [r["epoch"] for r in RunDir(straight).history()]
    assert [r["epoch"] for r in RunDir(killed).history()] == epochs
    return RunDir(straight), RunDir(killed)
