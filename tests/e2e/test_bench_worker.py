"""End to end: scripts/bench.py in a subprocess measures a real training step."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.e2e


def test_bench_worker_measures_a_real_training_step(tmp_path):
    out = tmp_path / "bench.json"
    done = subprocess.run([sys.executable, "scripts/bench.py", "--models", "vae", "--warmup", "1",
                           "--windows", "1", "--window-steps", "2", "--rounds", "1",
                           "--profile-steps", "1", "--out", str(out)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(out.read_text())["results"][0]
    assert result["model"] == "vae" and result["batch_size"] == 128
    # Forward + backward of a ~1.7 M-parameter conv VAE on 128 MNIST images: a few GFLOP.
    assert 1e9 < result["flops_per_step"] < 1e11
    assert result["fit_images_per_s"]["median"] > 0 and result["plain_images_per_s"]["median"] > 0
    assert 0 < result["fraction_of_peak"] < 1.5 and result["peak_memory_mib"] > 100
    assert "| vae | fp32 | off | 128 |" in done.stdout
    shares = result["op_breakdown"]["share"]
    assert set(shares) >= {"conv/matmul", "conv/matmul backward", "optimizer"}
    assert abs(sum(shares.values()) - 1) < 0.01
    estimate = json.loads(out.read_text())["report_profile_estimate"]
    assert estimate["training_minutes"]["vae"] == result["report_training_minutes"]
    assert not estimate["complete"] and "not measured: acgan" in estimate["line"]
