"""replication/models/efficientnet_lite.py: the Keras EfficientNet-Lite0, the name-by-name
mapping of the PyTorch weights, and the real ImageNet file of the declared dependency."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from replication.models import efficientnet_lite as el
from tests.helpers.lite0_stem import stem_reference


def _to_torch(model) -> dict[str, np.ndarray]:
    """The inverse of load_imagenet_weights: a model's weights in efficientnet_pytorch naming."""
    state = {}
    for prefix, layer_name, kind in el.weight_mapping(model):
        layer = model.get_layer(layer_name)
        if kind == "bn":
            for torch_field, var in (("weight", layer.gamma), ("bias", layer.beta),
                                     ("running_mean", layer.moving_mean),
                                     ("running_var", layer.moving_variance)):
                state[f"{prefix}.{torch_field}"] = np.asarray(var)
            state[f"{prefix}.num_batches_tracked"] = np.array(0, np.int64)
        elif kind == "dense":
            state[f"{prefix}.weight"] = np.asarray(layer.kernel).T
            state[f"{prefix}.bias"] = np.asarray(layer.bias)
        else:
            kernel = np.asarray(layer.kernel)
            order = (3, 2, 0, 1) if kind == "conv" else (2, 3, 0, 1)
            state[f"{prefix}.weight"] = kernel.transpose(order)
    return state


def _randomise_bn(model, rng):
    for layer in model.layers:
        if layer.__class__.__name__ == "BatchNormalization":
            for var in (layer.gamma, layer.beta, layer.moving_mean):
                var.assign(rng.normal(0.0, 0.5, var.shape).astype("float32"))
            layer.moving_variance.assign(rng.uniform(0.5, 2.0, layer.moving_variance.shape)
                                         .astype("float32"))


@pytest.fixture(scope="module")
def tiny_pair():
    import keras

    keras.utils.set_random_seed(0)
    source = el.build_lite0((32, 32, 3), include_top=True)
    _randomise_bn(source, np.random.default_rng(1))
    keras.utils.set_random_seed(1)
    target = el.build_lite0((32, 32, 3), include_top=True)
    return source, target


def test_the_mapping_carries_every_weight_and_refuses_what_does_not_fit(tiny_pair, tmp_path):
    source, target = tiny_pair
    state = _to_torch(source)
    assert len(state) == 296  # 247 weights + 49 BatchNorm counters, as in the real file
    x = np.random.default_rng(2).standard_normal((2, 32, 32, 3)).astype("float32")
    before = [np.array(w) for w in target.get_weights()]

    broken = {
        "missing": ({k: v for k, v in state.items() if k != "_blocks.3._bn1.running_var"},
                    "missing tensors: _blocks.3._bn1.running_var"),
        "extra": (dict(state, **{"_blocks.3._se_reduce.weight": np.zeros((4, 96, 1, 1))}),
                  "unused tensors: _blocks.3._se_reduce.weight"),
        "shape": (dict(state, **{"_blocks.5._depthwise_conv.weight": np.zeros((144, 1, 3, 3))}),
                  "_blocks.5._depthwise_conv.weight has shape (144, 1, 3, 3)"),
    }
    for what, (bad, message) in broken.items():
        with pytest.raises(el.LiteWeightsError, match=message.replace("(", r"\(")
                           .replace(")", r"\)")):
            el.load_imagenet_weights(target, bad)
        for now, was in zip(target.get_weights(), before):  # nothing set by a refused load
            np.testing.assert_array_equal(now, was, err_msg=what)

    used = el.load_imagenet_weights(target, state)
    assert set(used) == set(state)
    np.testing.assert_allclose(np.asarray(target(x)), np.asarray(source(x)), atol=1e-6)

    # A headless model accounts for the classifier without loading it.
    headless = el.build_lite0((32, 32, 3), include_top=False)
    used = el.load_imagenet_weights(headless, state)
    assert set(used) == set(state) and "without its top" in used["_fc.weight"]


def test_the_keras_file_reloads_without_custom_objects(tiny_pair, tmp_path):
    import keras

    source, _ = tiny_pair
    path = tmp_path / "lite0.keras"
    source.save(path)
    again = keras.saving.load_model(path, compile=False)
    x = np.random.default_rng(3).standard_normal((1, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(np.asarray(again(x)), np.asarray(source(x)), atol=1e-6)
    assert round(source.count_params() / 1e6, 1) == 4.7  # EfficientNet-Lite0, as published


@pytest.fixture(scope="module")
def imagenet_lite0(imagenet_state):
    model = el.build_lite0((224, 224, 3), include_top=True)
    used = el.load_imagenet_weights(model, imagenet_state)
    return model, used


def test_the_real_file_fits_with_every_tensor_used(imagenet_state, imagenet_lite0):
    _, used = imagenet_lite0
    assert len(imagenet_state) == 296
    assert set(used) == set(imagenet_state)
    assert imagenet_state["_conv_stem.weight"].shape == (32, 3, 3, 3)
    assert imagenet_state["_blocks.15._project_conv.weight"].shape == (320, 1152, 1, 1)
    assert imagenet_state["_fc.weight"].shape == (1000, 1280)


def test_the_stem_equals_a_numpy_convolution_of_the_pytorch_tensors(imagenet_state):
    import keras

    # Odd and even sides: TF-"same" pads 3x3/2 by (1, 1) on 37 and by (0, 1) on 30.
    model = el.build_lite0((37, 30, 3), include_top=False, pooling=None)
    el.load_imagenet_weights(model, imagenet_state)
    stem = keras.Model(model.input, model.get_layer("stem_activation").output)
    image = np.random.default_rng(4).standard_normal((37, 30, 3)).astype("float32")
    reference = stem_reference(image, imagenet_state)
    got = np.asarray(stem(image[None]))[0]
    assert got.shape == reference.shape == (19, 15, 32)
    np.testing.assert_allclose(got, reference, atol=1e-4)
    assert np.abs(reference).max() > 1.0  # not a trivially saturated comparison


def _orange_disc_on_green():
    yy, xx = np.mgrid[0:224, 0:224] / 223.0
    inside = ((xx - 0.5) ** 2 + (yy - 0.5) ** 2 < 0.09)[..., None]
    return np.where(inside, [1.0, 0.6, 0.0], [0.1, 0.4, 0.1]).astype("float32")


def test_the_imagenet_top1_of_a_synthetic_image_is_stable(imagenet_lite0):
    model, _ = imagenet_lite0
    probs = np.asarray(model(el.normalise(_orange_disc_on_green()[None])))[0]
    assert abs(probs.sum() - 1.0) < 1e-4
    top = np.argsort(probs)[::-1]
    assert top[0] == 722  # ping-pong ball (measured: 0.275, next balloon 0.110)
    assert probs[722] == pytest.approx(0.275, abs=0.01)


def test_a_photograph_is_recognised(imagenet_lite0):
    from PIL import Image
    import matplotlib

    path = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"
    assert path.is_file(), "matplotlib ships this sample photograph"
    model, _ = imagenet_lite0
    image = Image.open(path).convert("RGB")
    w, h = image.size
    s = min(w, h)
    image = image.crop(((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s))
    x = np.asarray(image.resize((224, 224), Image.BILINEAR))[None]
    probs = np.asarray(model(el.normalise(x)))[0]
    assert int(np.argmax(probs)) == 652  # military uniform (Grace Hopper in uniform)
