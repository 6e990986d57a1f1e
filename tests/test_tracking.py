"""Quality tracked every epoch (replication.tracking) and the collapse warning: the tracker's
numbers on generators whose answers are known, the warning rules, and what a run writes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from replication import experiments
from replication.runs import RunDir
from replication.tracking import QualityTracker, collapse_warnings, quality_line
from replication.train import train


K = 10


def _level(c):
    return 20.0 + 20.0 * np.asarray(c, np.float64)  # the grey level that means class c


def fake_extractor(images):
    """Reads the class from an image's mean grey level (class c: about 20 + 20c)."""
    mean = images.reshape(len(images), -1).astype(np.float64).mean(axis=1)
    std = images.reshape(len(images), -1).astype(np.float64).std(axis=1)
    predicted = np.clip(np.rint((mean - 20.0) / 20.0), 0, K - 1).astype(int)
    return np.stack([mean, std], axis=1), np.eye(K)[predicted] * 10.0


def _images(levels, rng):
    noise = rng.normal(0.0, 3.0, (len(levels), 8, 8, 1))
    return np.clip(levels[:, None, None, None] + noise, 0, 255).astype(np.uint8)


class _Generator:
    """A stand-in generator: an image of the grey level of ``classes(labels)``."""

    def __init__(self, classes):
        self.classes = classes
        self.rng = np.random.default_rng(1)

    def __call__(self, inputs, training=False):
        noise, labels = inputs
        levels = _level(self.classes(np.asarray(labels)))
        images = _images(levels, self.rng).astype(np.float32)
        return images / 127.5 - 1.0  # tanh range


def _tracker():
    rng = np.random.default_rng(0)
    reference = _images(_level(np.arange(2000) % K), rng)
    return QualityTracker(1000, noise_dim=4, num_classes=K, conditional=True,
                          reference_images=reference, extractor=fake_extractor, seed=0)


def test_tracker_scores_a_faithful_and_a_collapsed_generator_as_they_are():
    tracker = _tracker()
    good = tracker.score(_Generator(lambda labels: labels))
    collapsed = tracker.score(_Generator(lambda labels: np.full_like(labels, 3)))
    assert good["coverage"] == K and good["cond_acc"] == 1.0
    assert collapsed["coverage"] == 1 and collapsed["cond_acc"] == pytest.approx(0.1)
    assert good["fid"] < 5.0 < 100.0 < collapsed["fid"]


def test_tracker_scores_the_averaged_generator_beside_the_trained_one():
    class GAN:
        generator = _Generator(lambda labels: labels)

        @staticmethod
        def averaged_generator():
            return _Generator(lambda labels: (labels + 1) % K)  # every image one class off

    row = _tracker()(GAN())
    assert row["cond_acc"] == 1.0 and row["cond_acc_ema"] == 0.0
    assert row["coverage_ema"] == K and "track_seconds" in row
    line = quality_line(row, K, 1000)
    assert "FID" in line and "averaged G" in line and "conditional accuracy 0.0 %" in line


def test_collapse_warning_rules():
    quiet = {"epoch": 3, "d_acc_fake": 0.99, "fid": 79.0}
    earlier = [{"epoch": 1, "fid": 60.0}, {"epoch": 2, "fid": 40.0}]
    assert collapse_warnings(quiet, earlier) == []
    strong_d = collapse_warnings({**quiet, "d_acc_fake": 0.996}, earlier)
    assert len(strong_d) == 1 and "99.60 %" in strong_d[0]
    rise = collapse_warnings({**quiet, "fid": 81.0}, earlier)
    assert len(rise) == 1 and "40.0 at epoch 2" in rise[0]
    assert len(collapse_warnings({**quiet, "fid": 81.0, "d_acc_fake": 1.0}, earlier)) == 2
    assert collapse_warnings({"epoch": 1, "fid": 500.0}, []) == []  # nothing to compare with


class _ScriptedTracker:
    """Returns the next FID of a script at each epoch (for the run-level behaviour)."""

    samples = 100

    def __init__(self, fids):
        self.fids = list(fids)

    def __call__(self, gan):
        return {"fid": self.fids.pop(0), "coverage": 10, "track_seconds": 0.0}


def test_a_run_records_quality_and_warnings_after_the_report_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(experiments.GANExperiment, "tracker",
                        lambda self, config, dataset, source: _ScriptedTracker([100.0, 250.0]))
    run = train("dcgan", "smoke", run_dir=tmp_path / "r", verbose=2, dataset="mnist",
                epochs=2, train_examples=64, batch_size=32)
    out = capsys.readouterr().out.splitlines()
    second = next(i for i, line in enumerate(out) if line.startswith("epoch = 2/2"))
    assert out[second + 1].startswith("quality (100 samples") and "FID 250.0" in out[second + 1]
    assert out[second + 2].startswith("collapse warning (epoch 2): tracked FID 250.0")
    history = run.history()
    assert [r["fid"] for r in history] == [100.0, 250.0]
    assert [r["collapse_warning"] for r in history] == [0.0, 1.0]
    status = json.loads(run.status_file.read_text())
    assert status["state"] == "finished"
    assert [w["epoch"] for w in status["warnings"]] == [2]
    # TensorBoard has the tracked numbers as epoch scalars too.
    import tensorflow as tf

    tags = set()
    for event_file in (run.tensorboard_dir / "train").glob("events.*"):
        for event in tf.compat.v1.train.summary_iterator(str(event_file)):
            tags |= {v.tag for v in event.summary.value}
    assert "epoch_fid" in tags


def test_tracking_can_be_turned_off(cgan_smoke_run):
    # The conditional GAN's smoke run (tests/conftest.py) is trained with track_samples=0.
    run = RunDir(cgan_smoke_run)
    assert run.info()["config"]["track_samples"] == 0
    assert "fid" not in run.history()[0]


def test_a_real_run_tracks_with_the_shipped_classifier(mnist_cgan_run):
    """The default tracker (shipped MNIST classifier) fills every quality column (the smoke
    run of tests/conftest.py, trained with the default tracker)."""
    row = RunDir(mnist_cgan_run).history()[0]
    for key in ("fid", "coverage", "cond_acc", "fid_ema", "coverage_ema", "cond_acc_ema"):
        assert np.isfinite(row[key]), key
    assert 0 <= row["cond_acc"] <= 1 and 1 <= row["coverage"] <= 10
