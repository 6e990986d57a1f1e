"""Figures: every Q1 figure drawn from a run directory, with its provenance in the manifest."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
from PIL import Image

from replication.__main__ import main
from replication.figures import FIGURES, FigureError, draw_experiment, figures_of

Q1_FILES = ["fig01.png", "fig02.png", "fig03.png", "fig03b.png", "fig04.png", "fig05.png",
            "fig06.png", "vae_grid.gif", "vae_latent.gif"]
ROOT = Path(__file__).resolve().parent.parent


def test_q1_figure_ids_follow_spec():
    assert [spec.filename for spec in figures_of("vae")] == Q1_FILES


def test_cli_draws_all_q1_figures_with_manifest(vae_smoke_run, tmp_path):
    out = tmp_path / "fig"
    assert main(["figures", "vae", "--run-dir", str(vae_smoke_run), "--out", str(out)]) == 0
    for name in Q1_FILES:
        assert (out / name).stat().st_size > 1000, name
    manifest = json.loads((out / "manifest.json").read_text())["files"]
    assert list(manifest) == Q1_FILES
    entry = manifest["fig02.png"]
    assert entry["experiment"] == "vae" and entry["profile"] == "smoke"
    assert entry["epochs_run"] == 2 and entry["seed"] == 0
    assert "MNIST" in entry["data"] and entry["device"] and entry["drawn_at"]
    # The manifold is a real picture: mostly dark background with brighter strokes.
    pixels = np.asarray(Image.open(out / "fig02.png").convert("L"))
    assert pixels.std() > 20
    # One GIF frame per epoch of the run.
    assert iio.imread(out / "vae_grid.gif", index=None).shape[0] == 2
    assert iio.imread(out / "vae_latent.gif", index=None).shape[0] == 2


def test_manifest_keeps_entries_of_other_runs(vae_smoke_run, tmp_path):
    out = tmp_path / "fig"
    draw_experiment("vae", vae_smoke_run, out, only=["fig05"])
    draw_experiment("vae", vae_smoke_run, out, only=["fig06"])
    manifest = json.loads((out / "manifest.json").read_text())["files"]
    assert set(manifest) == {"fig05.png", "fig06.png"}


def test_figure_errors_are_clear(tmp_path, vae_smoke_run):
    with pytest.raises(FigureError, match="does not exist"):
        draw_experiment("vae", tmp_path / "missing", tmp_path / "out")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FigureError, match="not a run directory"):
        draw_experiment("vae", tmp_path / "empty", tmp_path / "out")
    with pytest.raises(FigureError, match="has no figure fig99"):
        draw_experiment("vae", vae_smoke_run, tmp_path / "out", only=["fig99"])


def test_unwritable_output_is_one_clear_error_and_leaves_no_partial_file(vae_smoke_run, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert main(["figures", "vae", "--run-dir", str(vae_smoke_run), "--out",
                 str(blocker / "sub")]) == 2


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


def test_every_script_names_a_registered_figure():
    scripts = [s for s in (ROOT / "scripts").glob("*.py") if "script_main(" in s.read_text()]
    assert len(scripts) >= len(Q1_FILES)
    for script in scripts:
        text = script.read_text()
        ids = [fid for fid in FIGURES if f'script_main("{fid}")' in text]
        assert len(ids) == 1, script.name


def test_footer_says_schedule_seed_and_precision():
    from replication.runs import provenance_line

    def line(profile):
        return provenance_line({"experiment": "cgan", "epochs_done": 3, "data": "CIFAR-10",
                                "device": "CPU", "started_at": "2026-11-29T01:00:00",
                                "config": {"profile": profile, "epochs": 15, "seed": 1,
                                           "precision": "bf16"}})

    assert line("report").startswith(
        "cgan | profile report (the report's schedule) | 3/15 epochs | seed 1 | bf16 | 2026-11-29")
    assert "(the paper's schedule)" in line("paper")
    assert "SHORT RUN" in line("quick") and "SHORT RUN" in line("smoke")
