"""Hand-computed loss terms of the GAN objectives: fixed logits of real, fake and mismatched
batches, labels, class logits, and the functions the expected values are computed with."""

from __future__ import annotations

import keras
import numpy as np

REAL = np.array([1.5, -0.3, 0.2, 2.0], np.float32)
FAKE = np.array([-1.0, 0.4, -2.2, 0.1], np.float32)
WRONG = np.array([0.7, -0.9, 1.1, -0.2], np.float32)
LABELS = np.array([0, 2, 1, 2], np.int32)
FAKE_LABELS = np.array([1, 1, 0, 2], np.int32)
REAL_CLS = np.array([[2.0, 0.1, -1.0], [0.3, 0.2, 1.5], [0.0, 1.0, 0.0], [-0.5, 0.5, 2.5]],
                    np.float32)
FAKE_CLS = np.array([[0.2, 1.2, -0.4], [1.0, 0.0, 0.0], [0.1, -0.3, 0.9], [0.0, 0.0, 3.0]],
                    np.float32)


def softplus(x):
    return np.log1p(np.exp(-np.abs(x))) + np.maximum(x, 0)


def cross_entropy(labels, logits):
    z = logits - logits.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(-log_p[np.arange(len(labels)), labels].mean())


def value(x):
    return float(keras.ops.convert_to_numpy(x))
