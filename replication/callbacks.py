"""Callbacks: what happens at the end of each epoch of ``fit()``.

:class:`EpochEnd` does, in this order, for every epoch whose metrics are all finite: write the
figure snapshot, measure a GAN's quality (:mod:`replication.tracking`; the numbers also join the
epoch's logs, so TensorBoard records them) and check for signs of collapse, append the history
row, save the checkpoint, update ``status.json``.  A non-finite metric at any batch stops
training before anything of that epoch is written, and so does a refused write (a full disk),
so the last good checkpoint stays.  :class:`ReportLogLine` prints the report's one-line summary
and, on lines of their own, the quality and any warning.
"""

from __future__ import annotations

import csv
import math
import time

import keras
import numpy as np

from replication.checkpoint import save_state
from replication.runs import RunDir, atomic_path, read_json, report_log_line
from replication.tracking import collapse_warnings, quality_line


def _finite(logs) -> bool:
    return all(math.isfinite(float(v)) for v in (logs or {}).values()
               if isinstance(v, (int, float)) or hasattr(v, "__float__"))


class EpochEnd(keras.callbacks.Callback):
    """Snapshot, history row, checkpoint and status after each good epoch; NaN guard.

    Args:
        run: the run directory.
        optimizers: ``{role: optimizer}`` saved with the model in the checkpoint.
        snapshot_fn: ``model -> dict of arrays`` for the figures (or None).
        start_epoch: epochs already done (history rows from later epochs are discarded).
        is_chief: only the chief writes files (multi-worker training).
    """

    def __init__(self, run: RunDir, optimizers: dict, snapshot_fn=None, start_epoch: int = 0,
                 is_chief: bool = True, tracker=None, num_classes: int = 0):
        super().__init__()
        self.run = run
        self.optimizers = optimizers
        self.snapshot_fn = snapshot_fn
        self.start_epoch = start_epoch
        self.is_chief = is_chief
        self.tracker = tracker
        self.num_classes = num_classes
        self.failure: str | None = None
        self.write_failed = False  # the failure is a refused write (not a divergence)
        self._writing = run.path
        self.epochs_done = start_epoch
        self._rows = [r for r in run.history() if r.get("epoch", 0) <= start_epoch]
        self.warnings = [w for w in _saved_warnings(run) if w["epoch"] <= start_epoch]
        self.epoch_lines: list[str] = []  # printed after the report's log line
        self._epoch_started = time.perf_counter()
        self._writer = None

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_started = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        if self.failure is None and not _finite(logs):
            bad = sorted(k for k, v in logs.items() if not math.isfinite(float(v)))
            self.failure = (f"non-finite {', '.join(bad)} at epoch {self.epochs_done + 1}, "
                            f"batch {batch + 1}")
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        logs_in = logs if logs is not None else {}  # later callbacks (TensorBoard) read it
        logs = dict(logs_in)
        if self.failure is None and not _finite(logs):
            bad = sorted(k for k, v in logs.items() if not math.isfinite(float(v)))
            self.failure = f"non-finite {', '.join(bad)} at the end of epoch {epoch + 1}"
            self.model.stop_training = True
        if self.failure is not None:
            return
        ended = time.perf_counter()
        seconds = ended - self._epoch_started
        snapshot = self.snapshot_fn(self.model) if self.snapshot_fn is not None else None
        self.epoch_lines = []
        if self.is_chief:
            try:
                self._write_epoch(epoch + 1, logs, logs_in, seconds, snapshot, ended)
            except OSError as exc:  # a full disk, a folder gone: stop, keeping the last epoch
                self.failure = f"cannot write {self._writing} ({exc.strerror or exc})"
                self.write_failed = True
                self.model.stop_training = True
                return
        self.epochs_done = epoch + 1

    def _write_epoch(self, epoch: int, logs: dict, logs_in: dict, seconds: float, snapshot,
                     ended: float):
        """Snapshot, quality, history row, checkpoint, status; each file written whole or not
        at all (``atomic_path``), the checkpoint after the history row, so a refused write
        leaves the previous epoch's checkpoint in place.  The row's ``seconds`` are the epoch's
        steps (and validation), ``track_seconds`` its quality tracking and ``overhead_seconds``
        the rest of the epoch's own work since ``ended`` (snapshot, checkpoint, files), written
        into the row once the checkpoint is saved."""
        if snapshot is not None:
            self._writing = self.run.snapshot_file(epoch)
            with atomic_path(self._writing, suffix=".npz") as tmp:
                np.savez_compressed(tmp, **snapshot)
            self._writing = self.run.tensorboard_dir
            self._log_image(snapshot, epoch)
        row = {"epoch": epoch, **{k: float(v) for k, v in logs.items()},
               "seconds": round(seconds, 2)}
        self._track(row, logs_in=logs_in)
        self._writing = self.run.history_file
        self._write_history(self._rows + [row])
        self._rows.append(row)
        self._writing = self.run.checkpoint_file
        save_state(self.run.checkpoint_file, self.model, self.optimizers, epoch,
                   previous=self.run.previous_checkpoint_file)
        row["overhead_seconds"] = round(time.perf_counter() - ended
                                        - row.get("track_seconds", 0.0), 2)
        self._writing = self.run.history_file
        self._write_history(self._rows)
        self._writing = self.run.status_file
        self.run.set_status("running", epoch, **self.status_extra())

    def _track(self, row: dict, logs_in: dict) -> None:
        """Quality numbers and collapse warnings of the epoch, into ``row`` and the logs."""
        if self.tracker is not None:
            quality = self.tracker(self.model)
            row.update(quality)
            logs_in.update({k: v for k, v in quality.items() if k != "track_seconds"})
            line = quality_line(row, self.num_classes, self.tracker.samples)
            if line:
                self.epoch_lines.append(line)
        warnings = collapse_warnings(row, self._rows)
        row["collapse_warning"] = float(bool(warnings))
        for text in warnings:
            self.warnings.append({"epoch": int(row["epoch"]), "message": text})
            self.epoch_lines.append(text)

    def status_extra(self) -> dict:
        """What ``status.json`` carries beside the state: the collapse warnings so far."""
        return {"warnings": self.warnings} if self.warnings else {}

    def _log_image(self, snapshot: dict, epoch: int) -> None:
        """The epoch's sample grid (or VAE manifold) as a TensorBoard image."""
        import tensorflow as tf

        from replication.plots import tile

        key = "manifold" if "manifold" in snapshot else "samples"
        images = snapshot[key]
        columns = int(snapshot.get("columns", round(len(images) ** 0.5)))
        grid = tile(images, columns)
        if self._writer is None:
            self._writer = tf.summary.create_file_writer(str(self.run.tensorboard_dir / "images"))
        with self._writer.as_default():
            tf.summary.image(key, grid[None], step=epoch)
        self._writer.flush()

    def _write_history(self, rows: list[dict]):
        fields = []
        for row in rows:
            fields += [k for k in row if k not in fields]
        with atomic_path(self.run.history_file, suffix=".csv") as tmp:
            with open(tmp, "w", newline="") as fh:
                writer = csv.DictWriter(fh, fieldnames=fields)
                writer.writeheader()
                for row in rows:
                    writer.writerow({k: (int(v) if k == "epoch" else v) for k, v in row.items()})


def _saved_warnings(run: RunDir) -> list[dict]:
    try:
        return list(read_json(run.status_file).get("warnings", []))
    except (OSError, ValueError):
        return []


class ReportLogLine(keras.callbacks.Callback):
    """Prints ``epoch = 1/60, d_loss=0.479, g_loss=2.511`` after each epoch (correct counts),
    then the lines ``follow()`` returns (quality, warnings), each on a line of its own."""

    def __init__(self, total_epochs: int, keys=("d_loss", "g_loss"), follow=None):
        super().__init__()
        self.total_epochs = total_epochs
        self.keys = keys
        self.follow = follow

    def on_epoch_end(self, epoch, logs=None):
        print(report_log_line(epoch + 1, self.total_epochs, logs or {}, self.keys), flush=True)
        for line in (self.follow() if self.follow is not None else []):
            print(line, flush=True)
