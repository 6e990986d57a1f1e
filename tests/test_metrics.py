"""replication/metrics.py: the evaluation formulas against known values (no network, no
extractor)."""

from __future__ import annotations

import itertools

import keras
import numpy as np
import pytest

from replication import metrics
from replication.experiments import make_config
from replication.models.vae import build_vae


def test_fid_of_a_set_with_itself_is_zero():
    x = np.random.default_rng(0).standard_normal((500, 8))
    assert metrics.frechet_distance(x, x) == pytest.approx(0.0, abs=1e-8)


def test_fid_between_gaussians_matches_the_closed_form():
    # Commuting (diagonal) covariances: FID = |mu1 - mu2|^2 + sum (s1 - s2)^2.
    mu1, mu2 = np.array([0.0, 1.0, -2.0]), np.array([1.0, 1.0, 0.5])
    s1, s2 = np.array([1.0, 2.0, 0.5]), np.array([0.5, 2.0, 1.5])
    closed = ((mu1 - mu2) ** 2).sum() + ((s1 - s2) ** 2).sum()
    got = metrics.frechet_distance_from_moments(mu1, np.diag(s1 ** 2), mu2, np.diag(s2 ** 2))
    assert got == pytest.approx(closed, rel=1e-10)
    # A rotated pair (non-diagonal, still commuting in the rotated basis) gives the same value.
    q, _ = np.linalg.qr(np.random.default_rng(1).standard_normal((3, 3)))
    got = metrics.frechet_distance_from_moments(q @ mu1, q @ np.diag(s1 ** 2) @ q.T,
                                                q @ mu2, q @ np.diag(s2 ** 2) @ q.T)
    assert got == pytest.approx(closed, rel=1e-8)
    # And from samples, within sampling error.
    rng = np.random.default_rng(2)
    a = mu1 + s1 * rng.standard_normal((200_000, 3))
    b = mu2 + s2 * rng.standard_normal((200_000, 3))
    assert metrics.frechet_distance(a, b) == pytest.approx(closed, rel=0.02)


def test_kid_is_the_unbiased_polynomial_mmd():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((6, 3)), rng.standard_normal((5, 3)) + 0.5
    k = lambda a, b: (a @ b / 3 + 1.0) ** 3
    brute = (sum(k(x[i], x[j]) for i, j in itertools.permutations(range(6), 2)) / 30
             + sum(k(y[i], y[j]) for i, j in itertools.permutations(range(5), 2)) / 20
             - 2 * np.mean([k(a, b) for a in x for b in y]))
    # With subsets as large as both sets, every subset is the whole set: KID = that MMD^2.
    mean, _ = metrics.kernel_inception_distance(x[:5], y, subsets=3, subset_size=5)
    exact = metrics._polynomial_mmd2_unbiased(x[:5], y)
    assert mean == pytest.approx(exact, rel=1e-10)
    assert metrics._polynomial_mmd2_unbiased(x, y) == pytest.approx(brute, rel=1e-10)
    # Unbiased: samples of one distribution average to ~0 (negative values allowed).
    same = [metrics.kernel_inception_distance(rng.standard_normal((200, 4)),
                                              rng.standard_normal((200, 4)), subsets=1,
                                              subset_size=200, seed=s)[0] for s in range(20)]
    assert abs(np.mean(same)) < 0.01 and min(same) < 0


def test_inception_score_extremes():
    assert metrics.inception_score(np.zeros((100, 10)), splits=4)[0] == pytest.approx(1.0)
    confident = np.full((100, 10), -50.0)
    confident[np.arange(100), np.arange(100) % 10] = 50.0
    assert metrics.inception_score(confident, splits=2)[0] == pytest.approx(10.0, rel=1e-6)


def test_conditional_accuracy_and_class_coverage():
    intended = np.arange(100) % 10
    assert metrics.conditional_accuracy(intended, intended) == 1.0
    assert metrics.conditional_accuracy((intended + 1) % 10, intended) == 0.0
    assert metrics.class_coverage(intended, 10) == 10
    assert metrics.class_coverage(np.zeros(100, int), 10) == 1
    # Class 9 gets 4 of 100 samples, under half its fair share of 10: not covered.
    skewed = np.concatenate([np.arange(96) % 9, np.full(4, 9)])
    assert metrics.class_coverage(skewed, 10) == 9
    with pytest.raises(ValueError):
        metrics.conditional_accuracy(intended[:5], intended)


def test_per_class_accuracy_splits_the_conditional_accuracy_by_intended_class():
    intended = np.arange(100) % 10
    predicted = intended.copy()
    predicted[intended == 3] = 5  # every "3" read as a 5
    predicted[np.flatnonzero(intended == 7)[:4]] = 0  # 4 of the 10 "7"s read as a 0
    accuracy = metrics.per_class_accuracy(predicted, intended, 11)
    assert accuracy[:10] == [1.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0, 0.6, 1.0, 1.0]
    assert accuracy[10] is None  # no sample generated for an 11th class
    assert np.mean(accuracy[:10]) == pytest.approx(metrics.conditional_accuracy(predicted,
                                                                                intended))
    with pytest.raises(ValueError):
        metrics.per_class_accuracy(predicted[:5], intended, 10)
    # where the misses go: row = the class generated for, column = the class read
    confusion = np.array(metrics.confusion_counts(predicted, intended, 11))
    assert confusion.shape == (11, 11) and confusion.sum() == 100
    assert confusion[3, 5] == 10 and confusion[3, 3] == 0
    assert confusion[7, 0] == 4 and confusion[7, 7] == 6
    np.testing.assert_array_equal(confusion.sum(axis=0)[:10],
                                  np.bincount(predicted, minlength=10))
    with pytest.raises(ValueError):
        metrics.confusion_counts(predicted[:5], intended, 10)


def test_iwae_bound_is_tighter_than_the_elbo(mnist):
    keras.utils.set_random_seed(0)
    vae = build_vae(make_config("vae", "smoke"), (28, 28, 1))
    vae.compile(optimizer=keras.optimizers.Adam(1e-3))
    x = mnist.train.images[:1024].astype("float32") / 255.0
    vae.fit(x, batch_size=64, epochs=1, verbose=0)
    test = mnist.test.images[:100].astype("float32") / 255.0
    bounds = metrics.vae_bounds(vae, test, samples=200, batch_size=50)
    assert bounds["neg_iwae"] <= bounds["neg_elbo"]
    assert 0 < bounds["neg_iwae"] < 600
    # The single-sample bound agrees with the model's own test_step on the same images.
    evaluated = vae.evaluate(test, batch_size=50, verbose=0, return_dict=True)["loss"]
    assert bounds["neg_elbo"] == pytest.approx(evaluated, rel=0.05)


def test_vae_bounds_are_the_same_however_the_samples_are_sliced(monkeypatch):
    config = make_config("vae", "smoke")
    vae = build_vae(config, (28, 28, 1))
    images = np.random.default_rng(0).random((6, 28, 28, 1)).astype("float32")
    whole = metrics.vae_bounds(vae, images, samples=7, batch_size=3)
    monkeypatch.setattr(metrics, "DECODE_ROWS", 5)  # 21 latent points per batch, in 5 slices
    sliced = metrics.vae_bounds(vae, images, samples=7, batch_size=3)
    assert sliced == pytest.approx(whole, rel=1e-6)
