"""Adding an experiment touches nothing in the package: a toy experiment, kept in the tests'
helpers (tests/helpers/toy_experiment.py: its settings, networks and one figure), is registered
and goes through every command a user runs on an experiment: train (smoke), figures, sample,
evaluate and the gallery."""

from __future__ import annotations

import json

import pytest

from replication import experiments
from replication.__main__ import main
from replication.figures import FIGURES, figure
from tests.helpers import toy_experiment as toy


@pytest.fixture
def registered():
    """The toy experiment and its figure in the registries for one test, then taken out."""
    figure(*toy.FIGURE)(toy.draw_toy01)
    experiments.register(toy.EXPERIMENT)
    try:
        yield toy.EXPERIMENT
    finally:
        experiments.EXPERIMENTS.pop(toy.EXPERIMENT.name, None)
        FIGURES.pop(toy.FIGURE[0], None)


def test_an_added_toy_experiment_runs_through_every_command(registered, tmp_path, capsys):
    run, figures = tmp_path / "runs" / "toygan", tmp_path / "figures"
    assert main(["train", "toygan", "--profile", "smoke", "--run-dir", str(run), "--quiet"]) == 0
    status = json.loads((run / "status.json").read_text())
    assert (status["state"], status["epochs_done"]) == ("finished", 2)
    assert sorted(p.name for p in (run / "model").glob("*.keras")) == [
        "discriminator.keras", "generator.keras", "generator_ema.keras"]

    assert main(["figures", "toygan", "--run-dir", str(run), "--out", str(figures)]) == 0
    entry = json.loads((figures / "manifest.json").read_text())["files"]["toy01.png"]
    assert (entry["experiment"], entry["epochs_shown"]) == ("toygan", [2])
    assert (figures / "toy01.png").stat().st_size > 1_000

    grid, arrays = tmp_path / "grid.png", tmp_path / "samples.npz"
    assert main(["sample", "toygan", "--run-dir", str(run), "--n", "16", "--out", str(grid),
                 "--npz", str(arrays), "--generator", "averaged"]) == 0
    import numpy as np

    with np.load(arrays) as npz:
        assert npz["images"].shape == (16, 28, 28, 1) and npz["images"].dtype == np.uint8

    assert main(["evaluate", str(run), "--samples", "200", "--limit", "200",
                 "--table", str(figures)]) == 0
    metrics = json.loads((run / "metrics.json").read_text())
    block = metrics["gan"]["classifier"]
    assert metrics["experiment"] == "toygan" and block["samples"] == 200
    assert block["model"]["FID"] > 0 and "averaged" in block

    assert main(["gallery", "--out", str(figures)]) == 0
    gallery = (figures / "README.md").read_text()
    assert "## Extra — a toy MLP GAN (MNIST)" in gallery
    assert "### toy01" in gallery and "(not in the report: the toy GAN's last samples)" in gallery
    assert "| Toy GAN | this project" in (figures / "metrics.md").read_text()
    capsys.readouterr()


def test_a_second_experiment_of_the_same_name_is_refused(registered):
    with pytest.raises(ValueError, match="registered already"):
        experiments.register(toy.EXPERIMENT)
