"""The end-of-epoch writer: NaN guard keeps the last good checkpoint; the report's log line."""

from __future__ import annotations

import json

import keras
import numpy as np
import tensorflow as tf

from replication.callbacks import EpochEnd, ReportLogLine
from replication.checkpoint import build_optimizers, load_state
from replication.runs import RunDir, report_log_line


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


def test_report_log_line_format():
    line = report_log_line(1, 60, {"d_loss": 0.4791, "g_loss": 2.5114, "x": 1}, ("d_loss", "g_loss"))
    assert line == "epoch = 1/60, d_loss=0.479, g_loss=2.511"


def test_files_left_by_a_killed_writer_are_cleaned_and_finished_files_kept(tmp_path):
    import os
    import subprocess
    import sys

    from replication.runs import PARTIAL_MARK, remove_partial_files

    # A process killed inside atomic_path leaves its temporary file, never the target.
    script = ("import os, sys; from replication.runs import atomic_path\n"
              "with atomic_path(sys.argv[1]) as tmp:\n"
              "    tmp.write_bytes(b'half')\n"
              "    os._exit(9)\n")
    target = tmp_path / "fig02.png"
    subprocess.run([sys.executable, "-c", script, str(target)], check=False)
    left = [p.name for p in tmp_path.iterdir()]
    assert not target.exists() and len(left) == 1 and PARTIAL_MARK in left[0]
    (tmp_path / "fig03.png").write_bytes(b"done")
    (tmp_path / ".hidden").write_text("not ours")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / f".state{PARTIAL_MARK}x.npz").write_bytes(b"half")
    assert remove_partial_files(tmp_path) == 1
    assert sorted(os.listdir(tmp_path)) == [".hidden", "fig03.png", "sub"]
    assert remove_partial_files(tmp_path, recursive=True) == 1
    assert os.listdir(tmp_path / "sub") == []
