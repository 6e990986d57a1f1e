"""replication/figures/vae.py: every Q1 figure drawn from a run directory, with its provenance
in the manifest."""

from __future__ import annotations

import json

import imageio.v3 as iio
import numpy as np
from PIL import Image

from replication.__main__ import main
from replication.figures import figures_of
from tests.helpers.expected import Q1_FILES


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
