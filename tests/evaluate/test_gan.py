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
