"""Quantitative evaluation: the formulas, over features and logits from any extractor.

* :func:`frechet_distance` – FID (Heusel et al. 2017) between two feature sets.
* :func:`kernel_inception_distance` – KID (Bińkowski et al. 2018): the unbiased MMD² with the
  cubic polynomial kernel ``k(x, y) = (x·y / d + 1)³``, averaged over random subsets.
* :func:`inception_score` – IS (Salimans et al. 2016): ``exp(E_x KL(p(y|x) || p(y)))``.
* :func:`conditional_accuracy`, :func:`class_coverage` – from a classifier's predictions.
* :func:`precision_recall_density_coverage` – fidelity and diversity separately, on k-nearest-
  neighbour manifolds of the features: precision and recall (Kynkäänniemi et al. 2019),
  density and coverage (Naeem et al. 2020), k = 5 as both papers.
* :func:`intra_class_fid` – FID class by class against that class's real images, and its mean
  (as StudioGAN reports for conditional models); :func:`within_class_spread` – the mean
  pairwise feature distance within each class, the diversity a class's samples have.
* :func:`ridge_classifier` – a linear (ridge-regression) classifier fitted on features, for
  the linear probes of a pretrained network's features.
* :func:`vae_bounds` – the VAE's single-sample negative ELBO and the importance-weighted bound
  (IWAE, Burda et al. 2016) in nats per image.

Feature extractors (an ImageNet InceptionV3, a classifier trained by the project) plug in
around these; the numbers depend on the extractor, the sample count and the image resizing,
so every reported value must carry them.
"""

from __future__ import annotations

import numpy as np

from replication.batching import in_batches, inference

# The evaluation's KID: the mean over KID_SUBSETS random subsets of KID_SUBSET_SIZE images of
# each set (the defaults of torchmetrics' KernelInceptionDistance, so the numbers read alike).
KID_SUBSETS = 100
KID_SUBSET_SIZE = 1000


def _moments(features: np.ndarray):
    x = np.asarray(features, dtype=np.float64)
    return x.mean(axis=0), np.cov(x, rowvar=False)


def frechet_distance(features_a: np.ndarray, features_b: np.ndarray) -> float:
    """``|mu_a - mu_b|² + Tr(S_a + S_b - 2 (S_a S_b)^½)`` between two (N, d) feature sets.

    Two exact routes to ``Tr (S_a S_b)^½``, chosen by cost: with at least ``d`` images in each
    set, from the covariances (:func:`frechet_distance_from_moments`); with fewer (a class's
    samples in a 1,280-d space), from the centred samples themselves: with ``S_a = AᵀA/(n-1)``
    and ``S_b = BᵀB/(m-1)``, the non-zero eigenvalues of ``S_a S_b`` are those of
    ``(AB^T)(AB^T)ᵀ / ((n-1)(m-1))``, so the trace is the sum of ``AB^T``'s singular values
    over ``√((n-1)(m-1))`` (no d×d matrix, no square root of one).
    """
    a = np.asarray(features_a, dtype=np.float64)
    b = np.asarray(features_b, dtype=np.float64)
    if min(len(a), len(b)) >= a.shape[1]:
        mu_a, cov_a = _moments(a)
        mu_b, cov_b = _moments(b)
        return frechet_distance_from_moments(mu_a, cov_a, mu_b, cov_b)
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    a, b = a - mu_a, b - mu_b
    n, m = len(a) - 1, len(b) - 1
    trace_sqrt = np.linalg.svd(a @ b.T, compute_uv=False).sum() / np.sqrt(n * m)
    diff = mu_a - mu_b
    value = diff @ diff + np.sum(a * a) / n + np.sum(b * b) / m - 2.0 * trace_sqrt
    return float(max(value, 0.0))


def _sqrt_psd(matrix: np.ndarray) -> np.ndarray:
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2.0)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def frechet_distance_from_moments(mu_a, cov_a, mu_b, cov_b) -> float:
    root_a = _sqrt_psd(np.atleast_2d(cov_a))
    middle = root_a @ np.atleast_2d(cov_b) @ root_a
    trace_sqrt = np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2.0), 0.0, None)).sum()
    diff = np.asarray(mu_a, np.float64) - np.asarray(mu_b, np.float64)
    value = diff @ diff + np.trace(cov_a) + np.trace(cov_b) - 2.0 * trace_sqrt
    return float(max(value, 0.0))


def _polynomial_mmd2_unbiased(x: np.ndarray, y: np.ndarray) -> float:
    d = x.shape[1]
    k_xx = (x @ x.T / d + 1.0) ** 3
    k_yy = (y @ y.T / d + 1.0) ** 3
    k_xy = (x @ y.T / d + 1.0) ** 3
    m, n = len(x), len(y)
    return float((k_xx.sum() - np.trace(k_xx)) / (m * (m - 1))
                 + (k_yy.sum() - np.trace(k_yy)) / (n * (n - 1))
                 - 2.0 * k_xy.mean())


def kernel_inception_distance(features_a, features_b, subsets: int = 10,
                              subset_size: int = KID_SUBSET_SIZE,
                              seed: int = 0) -> tuple[float, float]:
    """KID: mean and standard deviation of the unbiased polynomial-kernel MMD² over subsets."""
    a = np.asarray(features_a, np.float64)
    b = np.asarray(features_b, np.float64)
    size = min(subset_size, len(a), len(b))
    if size < 2:
        raise ValueError("KID needs at least two samples in each set")
    rng = np.random.default_rng(seed)
    values = [_polynomial_mmd2_unbiased(a[rng.choice(len(a), size, replace=False)],
                                        b[rng.choice(len(b), size, replace=False)])
              for _ in range(subsets)]
    return float(np.mean(values)), float(np.std(values))


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    z = np.asarray(logits, np.float64)
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def inception_score(logits: np.ndarray, splits: int = 10) -> tuple[float, float]:
    """IS from class logits: mean and standard deviation over ``splits`` equal parts."""
    log_p = _log_softmax(logits)
    scores = []
    for part in np.array_split(log_p, splits):
        log_marginal = np.log(np.exp(part).mean(axis=0))
        kl = (np.exp(part) * (part - log_marginal)).sum(axis=1).mean()
        scores.append(np.exp(kl))
    return float(np.mean(scores)), float(np.std(scores))


def conditional_accuracy(predicted, intended) -> float:
    """Share of the samples generated for class c that a classifier assigns to c."""
    predicted, intended = np.asarray(predicted), np.asarray(intended)
    if predicted.shape != intended.shape or predicted.size == 0:
        raise ValueError("conditional accuracy needs one prediction per intended label")
    return float((predicted == intended).mean())


def per_class_accuracy(predicted, intended, num_classes: int) -> list[float | None]:
    """:func:`conditional_accuracy` class by class: for each class c, the share of the samples
    generated for c that the classifier assigns to c (None for a class with no samples)."""
    predicted, intended = np.asarray(predicted), np.asarray(intended)
    if predicted.shape != intended.shape or predicted.size == 0:
        raise ValueError("per-class accuracy needs one prediction per intended label")
    return [float((predicted[intended == c] == c).mean()) if (intended == c).any() else None
            for c in range(num_classes)]


def confusion_counts(predicted, intended, num_classes: int) -> list[list[int]]:
    """How many samples generated for class r (row) the classifier puts in class c (column):
    where :func:`per_class_accuracy`'s misses go."""
    predicted, intended = np.asarray(predicted, np.int64), np.asarray(intended, np.int64)
    if predicted.shape != intended.shape or predicted.size == 0:
        raise ValueError("confusion counts need one prediction per intended label")
    counts = np.zeros((num_classes, num_classes), np.int64)
    np.add.at(counts, (intended, predicted), 1)
    return counts.tolist()


def class_coverage(predicted, num_classes: int) -> int:
    """Number of classes predicted for at least half their fair share (N / 2K) of N samples:
    K for a generator that covers every class about evenly, low for a collapsed one."""
    counts = np.bincount(np.asarray(predicted, np.int64), minlength=num_classes)
    return int((counts >= len(predicted) / (2.0 * num_classes)).sum())


# The nearest-neighbour count of precision, recall, density and coverage (both papers' k).
PRDC_K = 5
_CHUNK = 1024  # rows of a distance matrix computed at once (float64: 1024 x N x 8 bytes)


def _squared_norms(x: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", x, x)


def _distances(a: np.ndarray, b: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Euclidean distances of rows ``a[start:stop]`` to every row of ``b`` (float64)."""
    rows = a[start:stop]
    squared = _squared_norms(rows)[:, None] + _squared_norms(b)[None, :] - 2.0 * rows @ b.T
    return np.sqrt(np.clip(squared, 0.0, None))


_EDGE = 1e-9  # relative widening of each k-NN ball (rounding, not a choice of metric)


def _knn_radii(x: np.ndarray, k: int) -> np.ndarray:
    """Each row's distance to its k-th nearest other row (itself excluded)."""
    radii = np.empty(len(x))
    for start in range(0, len(x), _CHUNK):
        d = _distances(x, x, start, start + _CHUNK)
        d[np.arange(len(d)), np.arange(start, start + len(d))] = np.inf  # not its own neighbour
        radii[start:start + len(d)] = np.partition(d, k - 1, axis=1)[:, k - 1]
    return radii


def precision_recall_density_coverage(real_features, fake_features,
                                      k: int = PRDC_K) -> dict[str, float]:
    """Precision, recall, density and coverage of ``fake_features`` against ``real_features``.

    Each real point's ball reaches its k-th nearest real neighbour (the real manifold); each
    fake point's ball its k-th nearest fake neighbour.  *Precision*: the share of fakes inside
    some real ball (fidelity); *recall*: the share of reals inside some fake ball (diversity);
    *density*: how many real balls hold a fake, on average, divided by k (about 1 for a fake
    set distributed like the real one, above 1 where fakes crowd dense regions); *coverage*: the
    share of real balls that hold at least one fake.  Computed in float64, a block of rows at a
    time, so two sets of 10,000 need no 10,000 x 10,000 matrix at once.
    """
    real = np.asarray(real_features, np.float64)
    fake = np.asarray(fake_features, np.float64)
    if min(len(real), len(fake)) <= k:
        raise ValueError(f"precision and recall with k = {k} need more than {k} samples in "
                         "each set")
    # A point's k-th neighbour lies on its ball's edge; the same pair's distance computed from
    # the other side of a matrix product can differ in the last bits (the BLAS kernel's order
    # of summation depends on the CPU), so the edge is widened by a relative 1e-9.
    real_radii = _knn_radii(real, k) * (1 + _EDGE)
    fake_radii = _knn_radii(fake, k) * (1 + _EDGE)
    inside_real = np.zeros(len(fake), bool)  # a fake in some real ball
    balls_holding = np.zeros(len(fake))  # how many real balls hold each fake
    covered = np.zeros(len(real), bool)  # a real ball holding some fake
    for start in range(0, len(fake), _CHUNK):
        d = _distances(fake, real, start, start + _CHUNK)  # fakes x reals
        within = d <= real_radii[None, :]
        inside_real[start:start + len(d)] = within.any(axis=1)
        balls_holding[start:start + len(d)] = within.sum(axis=1)
        covered |= within.any(axis=0)
    reached = np.zeros(len(real), bool)  # a real in some fake ball
    for start in range(0, len(real), _CHUNK):
        d = _distances(real, fake, start, start + _CHUNK)  # reals x fakes
        reached[start:start + len(d)] = (d <= fake_radii[None, :]).any(axis=1)
    return {"precision": float(inside_real.mean()), "recall": float(reached.mean()),
            "density": float(balls_holding.sum() / (k * len(fake))),
            "coverage": float(covered.mean()), "k": k}


def intra_class_fid(features, labels, real_features, real_labels,
                    num_classes: int) -> list[float | None]:
    """FID of each class's samples against the real images of that class (None for a class
    without at least two of each)."""
    features, labels = np.asarray(features), np.asarray(labels)
    real_features, real_labels = np.asarray(real_features), np.asarray(real_labels)
    out = []
    for c in range(num_classes):
        mine, theirs = features[labels == c], real_features[real_labels == c]
        out.append(frechet_distance(mine, theirs) if min(len(mine), len(theirs)) >= 2
                   else None)
    return out


def within_class_spread(features, labels, num_classes: int,
                        per_class: int = 1000, seed: int = 0) -> list[float | None]:
    """The mean Euclidean distance between two samples of the same class, class by class (up to
    ``per_class`` samples of each, drawn with ``seed``): how varied a class's samples are in the
    feature space (None for a class with fewer than two)."""
    features, labels = np.asarray(features, np.float64), np.asarray(labels)
    rng = np.random.default_rng(seed)
    out = []
    for c in range(num_classes):
        mine = features[labels == c]
        if len(mine) < 2:
            out.append(None)
            continue
        mine = mine[rng.permutation(len(mine))[:per_class]]
        total = sum(_distances(mine, mine, start, start + _CHUNK).sum()
                    for start in range(0, len(mine), _CHUNK))
        out.append(float(total / (len(mine) * (len(mine) - 1))))
    return out


RIDGE = 1e-2  # the ridge classifier's penalty, relative to the mean squared feature


def ridge_classifier(train_x, train_y, classes: int, ridge: float = RIDGE):
    """A ridge-regression classifier (one-hot targets, a bias) fitted on standardised
    ``train_x``: returns ``predict(x) -> class per row``.  Scale-free: features of any size
    (a random network's are tiny) are standardised first."""
    train_x = np.asarray(train_x, np.float64)
    mean, std = train_x.mean(0), train_x.std(0)
    std = std + 1e-6 * std.max() + 1e-30

    def design(x):
        x = (np.asarray(x, np.float64) - mean) / std
        return np.hstack([x, np.ones((len(x), 1))])

    a = design(train_x)
    gram = a.T @ a
    gram += ridge * np.trace(gram) / len(gram) * np.eye(len(gram))
    w = np.linalg.solve(gram, a.T @ np.eye(classes)[np.asarray(train_y)])
    return lambda x: np.argmax(design(x) @ w, axis=1)


DECODE_ROWS = 5000  # latent points decoded at once by vae_bounds


def vae_bounds(vae, images: np.ndarray, samples: int = 1000, batch_size: int = 50,
               seed: int = 0) -> dict[str, float]:
    """Test-set bounds of a :class:`replication.models.vae.VAE`, in nats per image.

    ``neg_elbo``: one reparameterised sample per image (as the training loss);
    ``neg_iwae``: ``-log mean_k p(x|z_k) p(z_k) / q(z_k|x)`` with ``samples`` importance samples
    (a tighter bound, so ``neg_iwae <= neg_elbo`` in expectation); ``reconstruction``: the
    Bernoulli negative log-likelihood of the decoded encoder mean.  ``images`` are in [0, 1].
    """
    from replication.models.vae import bernoulli_nll, gaussian_kl

    rng = np.random.default_rng(seed)
    log_2pi = np.log(2.0 * np.pi)
    encode, decode = inference(vae.encoder), inference(vae.decoder)  # traced, not eager

    def per_image(x):
        """The three bounds of each image of the batch ``x``."""
        mean, log_var = (np.asarray(t, np.float64) for t in encode(x))
        std = np.exp(0.5 * log_var)
        eps = rng.standard_normal((samples, *mean.shape))
        z = mean[None] + std[None] * eps                              # (k, B, d)
        flat = z.reshape(-1, z.shape[-1]).astype(np.float32)
        repeated = np.broadcast_to(x[None], (samples, *x.shape)).reshape(-1, *x.shape[1:])
        # Decoded in slices of DECODE_ROWS latent points: k x B of them at once (1,000 x 50)
        # would need gigabytes of activations.
        log_px = -np.concatenate([
            np.asarray(bernoulli_nll(repeated[i:i + DECODE_ROWS],
                                     decode(flat[i:i + DECODE_ROWS])),
                       np.float64)
            for i in range(0, len(flat), DECODE_ROWS)]).reshape(samples, -1)
        log_pz = -0.5 * (z ** 2 + log_2pi).sum(-1)
        log_qz = -0.5 * (eps ** 2 + log_2pi + log_var[None]).sum(-1)
        log_w = log_px + log_pz - log_qz                               # (k, B)
        top = log_w.max(axis=0)
        log_mean_w = top + np.log(np.exp(log_w - top).mean(axis=0))
        kl = np.asarray(gaussian_kl(mean, log_var), np.float64)
        rec_logits = decode(mean.astype(np.float32))
        return (-log_px[0] + kl, -log_mean_w,
                np.asarray(bernoulli_nll(x, rec_logits), np.float64))

    values = in_batches(per_image, np.asarray(images, np.float32), batch_size=batch_size)
    return {name: float(np.mean(v))
            for name, v in zip(("neg_elbo", "neg_iwae", "reconstruction"), values)}


__all__ = ["frechet_distance", "frechet_distance_from_moments", "kernel_inception_distance",
           "inception_score", "conditional_accuracy", "class_coverage", "vae_bounds"]
