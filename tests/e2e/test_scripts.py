"""End to end, the per-figure scripts in subprocesses: one figure per script, and no TensorFlow
start-up lines on the terminal."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent.parent


def test_per_figure_script_draws_one_figure(vae_smoke_run, tmp_path):
    script = ROOT / "scripts" / "fig05_vae_losses.py"
    subprocess.run([sys.executable, str(script), "--run-dir", str(vae_smoke_run), "--out",
                    str(tmp_path)], check=True, capture_output=True)
    assert (tmp_path / "fig05.png").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fig05.png", "manifest.json"]


def test_a_figure_that_builds_networks_prints_no_tensorflow_lines(acgan_smoke_run, tmp_path):
    """table1 rebuilds both AC-GAN networks, so TensorFlow loads; its start-up lines (absl,
    oneDNN, CUDA notices) must not reach the user's terminal."""
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "table1_acgan_architecture.py"),
                          "--run-dir", str(acgan_smoke_run), "--out", str(tmp_path)],
                         capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr[-500:]
    assert (tmp_path / "table1.md").exists()
    assert out.stderr == ""
