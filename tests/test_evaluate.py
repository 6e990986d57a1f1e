"""scripts/evaluate.py on GAN runs: the cached classifier, the extractors, the metric rows and
the comparison table (smoke-size runs on MNIST, where a smoke classifier already separates real
digits from an untrained generator's output)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from replication import extractors
from replication.evaluate import main


@pytest.fixture(scope="module")
def classifier_cache(tmp_path_factory):
    """A classifier cache holding a smoke-profile MNIST classifier, trained with the command
    evaluate.py names when it has none."""
    import os

    from replication.train import train

    path = tmp_path_factory.mktemp("classifiers")
    old = os.environ.get("REPLICATION_CLASSIFIER_CACHE")
    os.environ["REPLICATION_CLASSIFIER_CACHE"] = str(path)
    train("classifier", "smoke", run_dir=path / "mnist-smoke", dataset="mnist", verbose=0)
    yield path
    if old is None:
        del os.environ["REPLICATION_CLASSIFIER_CACHE"]
    else:
        os.environ["REPLICATION_CLASSIFIER_CACHE"] = old


@pytest.fixture(scope="module")
def mnist_gan_runs(tmp_path_factory):
    from replication.train import train

    root = tmp_path_factory.mktemp("mnist_gans")
    return {name: train(name, "smoke", run_dir=root / name, dataset="mnist", verbose=0).path
            for name in ("dcgan", "cgan")}


def test_the_cached_classifier_is_measured_once_and_evaluating_never_trains(classifier_cache):
    info = extractors.classifier_info("mnist", "smoke")
    model_file = classifier_cache / "mnist-smoke" / "model" / "classifier.keras"
    stamp = model_file.stat().st_mtime_ns
    assert info["test_accuracy"] > 0.8 and info["test_images"] == 10_000
    assert info["training_seconds"] > 0 and info["epochs"] == 2 and info["profile"] == "smoke"
    assert json.loads((classifier_cache / "mnist-smoke" / "accuracy.json").read_text()) == info
    again = extractors.classifier_info("mnist", "smoke")
    assert again == info and model_file.stat().st_mtime_ns == stamp
    # No classifier: one message with the command that trains it, and nothing trained.
    with pytest.raises(extractors.ExtractorError,
                       match="python -m replication train classifier --profile smoke "
                             "--dataset cifar10 --data bundled --run-dir"):
        extractors.classifier_info("cifar10", "smoke")
    assert not (classifier_cache / "cifar10-smoke").exists()


def test_the_shipped_classifiers_match_their_recorded_accuracy():
    """The committed weights are the ones classifier.json describes: 1,000 test images give
    its recorded test accuracy within sampling noise."""
    from replication import data

    for dataset in ("mnist", "cifar10"):
        model_file, info = extractors.shipped_classifier(dataset)
        assert model_file.stat().st_size < 6_000_000  # weights only, no optimizer state
        assert info["test_images"] == 10_000
        assert {"command", "data", "versions", "trained_at"} <= set(info)
        extractor = extractors.ClassifierExtractor(dataset)
        assert "shipped" in extractor.description
        test = data.load(dataset, verbose=False).test.take(1000)
        _, logits = extractor(test.images)
        accuracy = float((np.argmax(logits, axis=1) == test.labels).mean())
        assert abs(accuracy - info["test_accuracy"]) < 0.04, dataset


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
        else:
            assert "conditional_accuracy" not in model and "conditional_accuracy" not in real
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


def test_the_inception_extractor_resizes_and_returns_imagenet_logits():
    extractor = extractors.InceptionExtractor(weights=None, batch_size=2)
    images = np.random.default_rng(0).integers(0, 256, (3, 28, 28, 1), dtype=np.uint8)
    features, log_probs = extractor(images)
    assert features.shape == (3, 2048) and log_probs.shape == (3, 1000)
    np.testing.assert_allclose(np.exp(log_probs).sum(axis=1), 1.0, rtol=1e-4)
    assert "not the TF inception-2015-12-05 graph" in extractor.description


def test_missing_inception_weights_fail_with_one_clear_message(mnist_gan_runs, monkeypatch,
                                                               capsys, tmp_path):
    import keras

    def offline(**kwargs):
        raise Exception("URL fetch failure on https://storage.googleapis.com/...: "
                        "[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(keras.applications, "InceptionV3", offline)
    assert main([str(mnist_gan_runs["dcgan"]), "--extractor", "inception"]) == 2
    err = capsys.readouterr().err
    assert "InceptionV3 ImageNet weights" in err and "--inception-weights PATH" in err
    assert "--extractor classifier" in err and "Traceback" not in err


def test_unfinished_or_missing_runs_are_refused(mnist_gan_runs, tmp_path, capsys):
    import shutil

    from replication.runs import RunDir

    copy = tmp_path / "running"
    shutil.copytree(mnist_gan_runs["dcgan"], copy)
    RunDir(copy).set_status("running", 1)
    assert main([str(copy)]) == 2
    assert "is not finished" in capsys.readouterr().err
    assert main([str(tmp_path / "missing")]) == 2
    with pytest.raises(SystemExit):
        main([str(copy), "--samples", "1"])
