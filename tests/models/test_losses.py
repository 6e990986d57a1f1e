"""replication/models/losses.py: each GAN loss against a hand computation."""

from __future__ import annotations

import numpy as np
import pytest

from replication.models.losses import LOSSES


REAL = np.array([2.0, -1.0, 0.5, 30.0], dtype="float32")
FAKE = np.array([-3.0, 0.2, 1.0, -25.0], dtype="float32")


def _log_sigmoid(x):
    return -np.log1p(np.exp(-x.astype("float64")))


def test_gan_losses_match_hand_computations():
    d_real, d_fake = _log_sigmoid(REAL), _log_sigmoid(FAKE)          # log D(x), log D(G(z))
    not_fake = -np.log1p(np.exp(FAKE.astype("float64")))              # log(1 - D(G(z)))
    expected = {
        "minimax": (-(d_real.mean() + not_fake.mean()), not_fake.mean()),
        "non-saturating": (-(d_real.mean() + not_fake.mean()), -d_fake.mean()),
        "least-squares": (0.5 * ((REAL - 1) ** 2).mean() + 0.5 * (FAKE ** 2).mean(),
                          0.5 * ((FAKE - 1) ** 2).mean()),
        "wasserstein": (FAKE.mean() - REAL.mean(), -FAKE.mean()),
        "hinge": (np.maximum(0, 1 - REAL).mean() + np.maximum(0, 1 + FAKE).mean(),
                  -FAKE.mean()),
    }
    assert set(expected) == set(LOSSES)
    for name, (d_loss, g_loss) in expected.items():
        loss = LOSSES[name]
        assert float(loss.d(REAL, FAKE)) == pytest.approx(d_loss, rel=1e-5), name
        assert float(loss.g(FAKE)) == pytest.approx(g_loss, rel=1e-5), name
