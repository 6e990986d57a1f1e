"""The linear probe of Lite0's features (replication.encoder_probe)."""

from __future__ import annotations

import numpy as np

from replication.encoder_probe import features, ridge_accuracy


def test_ridge_classifier_separates_what_is_separable_and_not_noise():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, 600)
    centres = rng.normal(size=(10, 20))
    x = centres[labels] + 0.05 * rng.normal(size=(600, 20))
    assert ridge_accuracy(x[:400], labels[:400], x[400:], labels[400:]) == 1.0
    noise = rng.normal(size=(600, 20))
    assert ridge_accuracy(noise[:400], labels[:400], noise[400:], labels[400:]) < 0.3
    # scale-free: features a million million times smaller classify the same
    assert ridge_accuracy(1e-12 * x[:400], labels[:400], 1e-12 * x[400:], labels[400:]) == 1.0


def test_features_enter_as_the_vae_encoder_input(mnist):
    digits = mnist.train.images[:4].astype(np.float32)[..., :1] / 255.0
    small, large = features(digits, "imagenet", 32), features(digits, "imagenet", 64)
    assert small.shape == large.shape == (4, 1280)
    assert np.isfinite(small).all() and not np.allclose(small, large)
    assert small.std(axis=0).max() > 0  # different digits, different features
