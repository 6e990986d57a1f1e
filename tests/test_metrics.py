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


def test_fid_from_fewer_samples_than_dimensions_equals_the_covariance_route():
    # Fewer images than feature dimensions (a class's samples in Lite0's 1,280-d space): the
    # samples' route (singular values of A Bᵀ) gives the covariances' value, for unequal sizes
    # and correlated, shifted features; with the set itself it is zero.
    rng = np.random.default_rng(3)
    mixing = rng.standard_normal((40, 64))
    a = rng.standard_normal((30, 40)) @ mixing
    b = 0.7 * rng.standard_normal((45, 40)) @ mixing + 0.3
    mu_a, cov_a = a.mean(0), np.cov(a, rowvar=False)
    mu_b, cov_b = b.mean(0), np.cov(b, rowvar=False)
    by_moments = metrics.frechet_distance_from_moments(mu_a, cov_a, mu_b, cov_b)
    assert metrics.frechet_distance(a, b) == pytest.approx(by_moments, rel=1e-6)
    assert metrics.frechet_distance(b, a) == pytest.approx(by_moments, rel=1e-6)
    assert metrics.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)


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


# Precision, recall, density, coverage; intra-class FID and within-class spread: known answers.

def test_prdc_of_a_set_with_itself_is_perfect():
    from replication.metrics import precision_recall_density_coverage as prdc

    x = np.random.default_rng(0).standard_normal((300, 8))
    result = prdc(x, x)
    assert (result["precision"], result["recall"], result["coverage"]) == (1.0, 1.0, 1.0)
    # each point lies in its own ball and, on average, in the k balls it is a neighbour of
    assert result["density"] == pytest.approx(1.2)


def test_prdc_of_disjoint_clusters_is_zero():
    from replication.metrics import precision_recall_density_coverage as prdc

    x = np.random.default_rng(1).standard_normal((200, 8))
    result = prdc(x, x + 50.0)
    assert result == {"precision": 0.0, "recall": 0.0, "density": 0.0, "coverage": 0.0, "k": 5}


def test_a_subset_has_full_precision_and_partial_recall():
    """A generator that draws only some of the real images: every sample is real-looking
    (precision 1) but part of the real manifold is missed (recall and coverage below 1)."""
    from replication.metrics import precision_recall_density_coverage as prdc

    x = np.random.default_rng(2).standard_normal((600, 8))
    result = prdc(x, x[:150])
    assert result["precision"] == 1.0
    assert result["recall"] < 0.99 and result["coverage"] < 0.9


def test_prdc_is_the_same_computed_in_blocks(monkeypatch):
    """The block-wise distances give what one full matrix gives."""
    from replication import metrics

    rng = np.random.default_rng(3)
    real, fake = rng.standard_normal((130, 6)), rng.standard_normal((110, 6)) * 1.3
    whole = metrics.precision_recall_density_coverage(real, fake)
    monkeypatch.setattr(metrics, "_CHUNK", 17)
    assert metrics.precision_recall_density_coverage(real, fake) == whole
    d = np.linalg.norm(real[:, None] - real[None], axis=-1)
    np.fill_diagonal(d, np.inf)
    radii = np.sort(d, axis=1)[:, 4]
    inside = np.linalg.norm(fake[:, None] - real[None], axis=-1) <= radii[None]
    assert whole["precision"] == pytest.approx(inside.any(axis=1).mean())
    assert whole["density"] == pytest.approx(inside.sum() / (5 * len(fake)))
    assert whole["coverage"] == pytest.approx(inside.any(axis=0).mean())


def test_prdc_needs_more_samples_than_k():
    from replication.metrics import precision_recall_density_coverage as prdc

    with pytest.raises(ValueError, match="more than 5"):
        prdc(np.zeros((5, 2)), np.zeros((50, 2)))


def test_intra_class_fid_grows_when_the_labels_are_shuffled():
    """Samples whose label matches their class sit on that class's real images; the same
    samples with shuffled labels do not."""
    from replication.metrics import intra_class_fid, within_class_spread

    rng = np.random.default_rng(4)
    centres = rng.standard_normal((4, 6)) * 5
    labels = np.repeat(np.arange(4), 200)
    real = centres[labels] + rng.standard_normal((800, 6))
    fake = centres[labels] + rng.standard_normal((800, 6))
    matched = intra_class_fid(fake, labels, real, labels, 4)
    shuffled = intra_class_fid(fake, rng.permutation(labels), real, labels, 4)
    assert np.mean(shuffled) > 10 * np.mean(matched)
    assert intra_class_fid(fake, labels, real, labels, 5)[4] is None  # no such class
    # the spread within a class: tight clusters < the same points mixed across classes
    tight = within_class_spread(fake, labels, 4)
    mixed = within_class_spread(fake, rng.permutation(labels), 4)
    assert np.mean(tight) < 0.5 * np.mean(mixed)
    # two points at distance 2 in one class: their mean pairwise distance is 2
    assert within_class_spread(np.array([[0.0, 0], [2, 0]]), np.array([0, 0]), 1) == \
        [pytest.approx(2.0)]
