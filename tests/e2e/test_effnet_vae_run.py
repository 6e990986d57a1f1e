"""End to end: an EfficientNet-VAE run with a frozen first epoch, then its figures."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from replication.__main__ import main
from replication.models import efficientnet_vae as ev
from replication.runs import RunDir
from replication.train import train

pytestmark = pytest.mark.e2e


def test_smoke_run_with_a_frozen_first_epoch_then_figures(tmp_path):
    seen = []

    class Record(keras.callbacks.Callback):
        def _record(self):
            kernels = [v for v in ev.backbone_of(self.model).weights if "kernel" in v.path][:5]
            seen.append([np.array(v.numpy()) for v in kernels])

        def on_train_begin(self, logs=None):
            self._record()

        def on_epoch_end(self, epoch, logs=None):
            self._record()

    run = train("effnet_vae", "smoke", run_dir=tmp_path / "run", verbose=0,
                encoder_weights="none", freeze_encoder_epochs=1, epochs=2, train_examples=128,
                eval_examples=128, latent_points=128, batch_size=64, callbacks=[Record()])
    info = json.loads(run.config_file.read_text())
    assert info["config"]["encoder_weights"] == "none"
    assert info["config"]["freeze_encoder_epochs"] == 1
    start, after_frozen, after_trained = seen
    assert all(np.array_equal(a, b) for a, b in zip(start, after_frozen))  # epoch 1: frozen
    assert any(not np.array_equal(a, b) for a, b in zip(after_frozen, after_trained))
    history = RunDir(run.path).history()
    assert len(history) == 2 and all(np.isfinite(r["val_loss"]) for r in history)
    out = tmp_path / "fig"
    assert main(["figures", "effnet_vae", "--run-dir", str(run.path), "--out", str(out)]) == 0
    assert (out / "fig07.png").exists() and (out / "fig08.png").exists()
