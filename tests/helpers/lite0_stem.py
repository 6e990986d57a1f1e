"""A NumPy reference of EfficientNet-Lite0's stem, computed from the PyTorch tensors: what the
Keras port's first layers must equal (tests/models/test_efficientnet_lite.py)."""

from __future__ import annotations

import math

import numpy as np

from replication.models.efficientnet_lite import BN_EPSILON


def stem_reference(image: np.ndarray, state_dict: dict[str, np.ndarray]) -> np.ndarray:
    """The stem (conv 3x3/2, BatchNorm, ReLU6) of one HxWx3 image computed with NumPy from the
    PyTorch tensors, padding as ``efficientnet_pytorch``'s ``Conv2dStaticSamePadding``."""
    weight = state_dict["_conv_stem.weight"].astype(np.float64)  # (out, in, kh, kw)
    _, _, kh, kw = weight.shape
    stride = 2
    height, width, _ = image.shape
    padded_shape = []
    pads = []
    for size, k in ((height, kh), (width, kw)):
        out = math.ceil(size / stride)
        total = max((out - 1) * stride + k - size, 0)
        pads.append((total // 2, total - total // 2))
        padded_shape.append(out)
    x = np.pad(image.astype(np.float64), (pads[0], pads[1], (0, 0)))
    oh, ow = padded_shape
    out = np.zeros((oh, ow, weight.shape[0]))
    for i in range(kh):
        for j in range(kw):
            patch = x[i:i + stride * oh:stride, j:j + stride * ow:stride, :]  # (oh, ow, in)
            out += np.einsum("hwc,oc->hwo", patch, weight[:, :, i, j])
    gamma, beta = state_dict["_bn0.weight"], state_dict["_bn0.bias"]
    mean, var = state_dict["_bn0.running_mean"], state_dict["_bn0.running_var"]
    out = (out - mean) / np.sqrt(var + BN_EPSILON) * gamma + beta
    return np.clip(out, 0.0, 6.0)
