"""replication/evaluate/gan.py (with the table and the reuse rule): the metric rows of GAN runs
move the right way (smoke-size runs on MNIST, where a smoke classifier already separates real
digits from an untrained generator's output)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from replication.evaluate import main


def test_gan_rows_move_the_right_way(classifier_cache, mnist_gan_runs, tmp_path, capsys):
    args = ["--classifier-profile", "smoke", "--samples", "500", "--limit", "1000",
            "--kid-subsets", "5", "--kid-subset-size", "200", "--table", str(tmp_path)]
    runs = [str(mnist_gan_runs["dcgan"]), str(mnist_gan_runs["cgan"])]
    assert main(runs + args) == 0
    for name, run in mnist_gan_runs.items():
        result = json.loads((run / "metrics.json").read_text())
        assert result["experiment"] == name and result["profile"] == "smoke"
        gan = result["gan"]["classifier"]
        assert gan["samples"] == 500 and "test accuracy" in gan["extractor_description"]
        real, untrained, model = gan["real_train"], gan["untrained_generator"], gan["model"]
        averaged = gan["averaged"]  # the averaged generator (EMA) has a row of its own
        for row in (real, untrained, model, averaged):
            assert all(math.isfinite(row[k]) for k in ("FID", "KID", "IS"))
            assert sum(row["predicted_class_counts"]) == 500
        # Real digits: low FID, every class covered, a classifier score well above 1.
        assert real["FID"] < untrained["FID"] and real["KID"] < untrained["KID"]
        assert real["class_coverage"] == 10 > untrained["class_coverage"]
        # (Label smoothing caps the classifier score of even perfect predictions, ~4.2 at 0.2.)
        assert real["IS"] > untrained["IS"] + 0.2
        if name == "cgan":
            assert real["conditional_accuracy"] > 0.8 > untrained["conditional_accuracy"]
            # evaluated after the DCGAN in one invocation: its floor row is its own, per class
            assert real["intra_class_FID"] < untrained["intra_class_FID"]
            assert gan["real_within_class_spread"] > 0
            assert "conditional_accuracy" in model
            assert len(model["per_class_accuracy"]) == 10
            # class-balanced samples: the per-class shares average to the overall one
            assert np.mean(model["per_class_accuracy"]) == pytest.approx(
                model["conditional_accuracy"], abs=1e-3)
            assert len(real["per_class_accuracy"]) == 10  # the classifier's own, the ceiling
            confusion = np.array(model["confusion"])  # rows: generated for; columns: read as
            assert confusion.shape == (10, 10) and confusion.sum() == 500
            np.testing.assert_array_equal(confusion.sum(axis=0), model["predicted_class_counts"])
            assert np.diag(confusion).sum() / 500 == pytest.approx(model["conditional_accuracy"],
                                                                   abs=1e-3)
        else:
            assert "conditional_accuracy" not in model and "conditional_accuracy" not in real
            assert "per_class_accuracy" not in model and "confusion" not in model
    table = (tmp_path / "metrics.md").read_text()
    assert "7.33" in table and "48.29" in table and "untrained G (ceiling)" in table
    assert "averaged G (EMA)" in table
    assert table.count("| Conditional GAN |") == 4 and table.count("| DCGAN |") == 5
    rows = json.loads((tmp_path / "metrics.json").read_text())["rows"]
    assert len(rows) == 8
    assert "FID" in capsys.readouterr().out
    # A second invocation reuses the results; --force recomputes the same numbers (fixed seeds)
    # and replaces the run's rows in the table instead of adding to them.
    before = json.loads((mnist_gan_runs["dcgan"] / "metrics.json").read_text())
    assert main(runs[:1] + args) == 0
    assert "reusing metrics.json" in capsys.readouterr().out
    assert main(runs[:1] + args + ["--force"]) == 0
    after = json.loads((mnist_gan_runs["dcgan"] / "metrics.json").read_text())
    assert after["gan"]["classifier"]["model"] == before["gan"]["classifier"]["model"]
    assert len(json.loads((tmp_path / "metrics.json").read_text())["rows"]) == 8


def test_the_lite0_space_gives_distances_and_manifolds_but_no_classifier_numbers(
        classifier_cache, mnist_gan_runs, tmp_path, capsys):
    """--extractor lite0 (ImageNet features, offline; 32 pixels here to stay fast): FID, KID,
    precision/recall/density/coverage and, for a conditional run, intra-class FID and the
    within-class spread beside the real images'; no IS, accuracy or class coverage, which need
    a classifier. It sits beside the classifier-space block in metrics.json and the table."""
    run = mnist_gan_runs["cgan"]
    args = ["--extractor", "lite0", "--lite0-size", "32", "--samples", "60", "--limit", "200",
            "--kid-subsets", "2", "--kid-subset-size", "50", "--table", str(tmp_path)]
    assert main([str(run)] + args) == 0
    result = json.loads((run / "metrics.json").read_text())["gan"]
    lite0 = result["lite0"]
    assert "Lite0" in lite0["extractor_description"] and lite0["settings"]["lite0_size"] == 32
    for row in (lite0["model"], lite0["real_train"], lite0["untrained_generator"]):
        assert {"FID", "KID", "precision", "recall", "density", "coverage"} <= set(row)
        assert 0 <= row["precision"] <= 1 and 0 <= row["recall"] <= 1
        assert "IS" not in row and "conditional_accuracy" not in row
        assert len(row["intra_class_FID_per_class"]) == 10
    assert lite0["real_within_class_spread"] > 0
    # real digits sit on the real manifold far more than an untrained generator's output does
    assert lite0["real_train"]["precision"] > lite0["untrained_generator"]["precision"]
    assert lite0["real_train"]["intra_class_FID"] < lite0["untrained_generator"]["intra_class_FID"]
    table = (tmp_path / "metrics.md").read_text()
    assert "| lite0, 60 |" in table and "precision / recall" in table
    assert "precision" in capsys.readouterr().out


def test_evaluate_help_names_the_feature_spaces_and_refuses_bad_sizes(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    assert "lite0" in text and "precision" in text and "intra-class FID" in text
    for bad in (["--samples", "5"], ["--lite0-size", "16"]):
        with pytest.raises(SystemExit) as exit_:
            main(["somewhere"] + bad)
        assert exit_.value.code == 2
    assert "--lite0-size must be at least 32" in capsys.readouterr().err
