"""replication/extractors.py: the cached classifier (measured once, never trained by an
evaluation), the shipped classifiers, the InceptionV3 extractor and its missing weights."""

from __future__ import annotations

import json

import numpy as np
import pytest

from replication import extractors
from replication.evaluate import main


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
