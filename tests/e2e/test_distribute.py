"""End to end, tf.distribute on a CPU-only machine in subprocesses: 2 logical CPU devices for
MirroredStrategy, two local processes over loopback for MultiWorkerMirroredStrategy."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e


HELPERS = Path(__file__).resolve().parent.parent / "helpers"
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "MPLBACKEND": "Agg"}


def _mirrored_vs_single(experiment, *overrides):
    command = [sys.executable, str(HELPERS / "mirrored_step.py"), experiment, *overrides]
    out = subprocess.run(command, capture_output=True, text=True, env=ENV, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("experiment", ["vae", "dcgan"])
def test_one_mirrored_step_equals_one_single_device_step(experiment):
    result = _mirrored_vs_single(experiment)
    for optimizer in ("adam", "sgd"):
        assert result[optimizer]["variables_changed"] > 0.5 * result[optimizer]["variables"]
    # Plain SGD: the distributed gradients (loss scaling, per-replica noise slices,
    # synchronized BatchNorm) are the single device's to float precision.
    assert result["sgd"]["max_abs_diff"] < 1e-5
    # Adam's first step is ~ +-lr per weight whatever the gradient's size: a handful of weights
    # whose gradient is ~0 may flip sign between the two; everything else agrees.
    lr = 1e-3 if experiment == "vae" else 2e-4
    assert result["adam"]["max_abs_diff"] <= 2.05 * lr
    assert result["adam"]["share_above_1e-5"] < 0.01
    if experiment == "vae":
        assert result["adam"]["max_abs_diff"] < 1e-5


def test_the_acgan_stabilisers_of_d_train_the_same_on_two_replicas():
    """Spectral normalisation (its power-iteration vector is a non-trainable weight updated in
    the step, aggregated "only first replica"), the hinge loss and the twin classifier under
    MirroredStrategy equal one device (D's dropout off: its masks differ per replica)."""
    result = _mirrored_vs_single("acgan", "dropout=0", "spectral_norm=true", 'loss="hinge"',
                                 'class_loss="twin"')
    plain = 67  # the AC-GAN's variables without spectral normalisation
    assert result["sgd"]["variables"] == plain + 7  # one vector u per layer of D
    assert result["sgd"]["variables_changed"] == result["sgd"]["variables"]
    assert result["sgd"]["mirrored_changed"] == result["sgd"]["variables"]
    assert result["sgd"]["max_abs_diff"] < 1e-5
    assert result["adam"]["max_abs_diff"] <= 2.05 * 2e-4
    assert result["adam"]["share_above_1e-5"] < 0.01


def test_differentiable_augmentation_trains_on_two_replicas():
    """DiffAugment's random draws differ per replica, so only that the mirrored step runs and
    moves every variable is asserted."""
    result = _mirrored_vs_single("acgan", 'diff_augment="color,translation,cutout"',
                                 "spectral_norm=true")
    for optimizer in ("adam", "sgd"):
        assert result[optimizer]["mirrored_changed"] == result[optimizer]["variables"]


def test_two_process_multiworker_run_completes_and_writes_once(tmp_path):
    ports = subprocess.run([sys.executable, str(HELPERS / "free_ports.py"), "2"],
                           capture_output=True, text=True, check=True).stdout.split()
    workers = [f"127.0.0.1:{p}" for p in ports]
    procs = []
    for index in range(2):
        env = {**ENV, "TF_CONFIG": json.dumps({"cluster": {"worker": workers},
                                               "task": {"type": "worker", "index": index}})}
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "replication", "train", "vae", "--profile", "smoke",
             "--epochs", "1", "--strategy", "multiworker", "--quiet",
             "--run-dir", str(tmp_path / f"worker{index}")],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    outputs = [p.communicate(timeout=600)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs[0][-2000:] + outputs[1][-2000:]
    assert all("strategy multiworker (2 replicas)" in o for o in outputs)
    chief = tmp_path / "worker0"
    assert (chief / "model" / "vae.keras").exists()
    assert len((chief / "history.csv").read_text().strip().splitlines()) == 2  # header + 1 epoch
    assert json.loads((chief / "config.json").read_text())["replicas"] == 2
    assert not (tmp_path / "worker1").exists()  # the non-chief wrote nothing
