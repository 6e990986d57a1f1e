"""replication/callbacks.py: the end-of-epoch writer (a NaN keeps the last good checkpoint)
and the report's log line after every epoch."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from replication.callbacks import EpochEnd
from replication.checkpoint import build_optimizers, load_state
from replication.runs import RunDir


class _Toy(keras.Model):
    """Loss = mean of the batch, so a NaN in the data makes a NaN loss."""

    def __init__(self):
        super().__init__(name="toy")
        self.dense = keras.layers.Dense(1)
        self.tracker = keras.metrics.Mean(name="loss")

    @property
    def metrics(self):
        return [self.tracker]

    def call(self, x):
        return self.dense(x)

    def train_step(self, x):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(self(x)) + tf.reduce_mean(x)
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply(grads, self.trainable_variables)
        self.tracker.update_state(loss)
        return {"loss": self.tracker.result()}


def test_nan_stops_training_and_keeps_the_last_good_checkpoint(tmp_path):
    model = _Toy()
    model(np.zeros((1, 2), "float32"))
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    optimizers = {"toy": model.optimizer}
    build_optimizers(model, optimizers)
    data = np.ones((12, 2), "float32")
    data[9] = np.nan  # epoch 3 of 4 (3 batches of... 1 batch per epoch of 3 rows)
    run = RunDir(tmp_path)
    writer = EpochEnd(run, optimizers)
    model.fit(tf.data.Dataset.from_tensor_slices(data).batch(3), epochs=4, callbacks=[writer],
              verbose=0, steps_per_epoch=1, shuffle=False)
    assert writer.failure is not None and "loss" in writer.failure
    assert writer.epochs_done == 3
    assert [r["epoch"] for r in run.history()] == [1, 2, 3]
    assert json.loads(run.status_file.read_text())["epochs_done"] == 3
    restored = _Toy()
    restored(np.zeros((1, 2), "float32"))
    restored.compile(optimizer=keras.optimizers.Adam(1e-3))
    build_optimizers(restored, {"toy": restored.optimizer})
    assert load_state(run.checkpoint_file, restored, {"toy": restored.optimizer}) == 3
    assert np.all(np.isfinite(restored.dense.kernel.numpy()))


def test_report_log_line_after_every_epoch(dcgan_smoke_run):
    # The DCGAN's smoke run is trained by ``main(["train", "dcgan", "--profile", "smoke",
    # "--quiet", "--run-dir", ...])`` (tests/conftest.py, which asserts it returns 0); its output:
    out = (dcgan_smoke_run.parent / "dcgan_smoke.out").read_text()
    lines = [l for l in out.splitlines() if l.startswith("epoch = ")]
    assert len(lines) == 2
    assert lines[0].startswith("epoch = 1/2, d_loss=") and lines[1].startswith("epoch = 2/2, d_loss=")
    history = RunDir(dcgan_smoke_run).history()
    assert f"d_loss={history[1]['d_loss']:.3f}, g_loss={history[1]['g_loss']:.3f}" in lines[1]


def test_every_epoch_records_its_own_work_beside_its_steps(dcgan_smoke_run):
    run = RunDir(dcgan_smoke_run)
    history = run.history()
    assert history and all(row["overhead_seconds"] >= 0 for row in history)
    assert run.training_seconds() == pytest.approx(sum(
        row["seconds"] + row["track_seconds"] + row["overhead_seconds"] for row in history))
