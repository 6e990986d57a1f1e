"""EfficientNet-Lite0: the PyTorch state-dict reader, the Keras model, the name-by-name weight
mapping, the real ImageNet file and the Lite0 encoder of the EfficientNet-VAE."""

from __future__ import annotations

import collections
import io
import pickle
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest

from replication.models import efficientnet_lite as el
from replication.models.torch_state import (LEGACY_MAGIC, LEGACY_PROTOCOL, STORAGE_DTYPES,
                                            TorchStateError, read_state_dict)

# ---------------------------------------------------------------------------------------------
# A writer of the same formats, for the tests only: the pure-Python pickler with a dispatch entry
# that writes a global by name (``torch._utils._rebuild_tensor_v2``, ``torch.FloatStorage``)
# without importing it, and storages as persistent ids.


class _Name:
    """A module-level name the pickle refers to, written as a GLOBAL opcode."""

    def __init__(self, module: str, name: str):
        self.module, self.name = module, name

    def __call__(self, *args):  # pickle insists that a reduce function be callable
        raise NotImplementedError


class _StorageRef:
    def __init__(self, key: str, array: np.ndarray):
        self.key, self.array = key, array


class _TensorView:
    """A tensor as PyTorch pickles it: a storage, an offset, a shape and strides (elements)."""

    def __init__(self, storage: _StorageRef, offset: int, shape, strides):
        self.storage, self.offset = storage, offset
        self.shape, self.strides = tuple(shape), tuple(strides)


_REBUILD = _Name("torch._utils", "_rebuild_tensor_v2")
_STORAGE_NAMES = {np.dtype(v): k for k, v in STORAGE_DTYPES.items()}
_TYPES = {name: _Name("torch", name) for name in STORAGE_DTYPES}


class _Writer(pickle._Pickler):
    dispatch = pickle._Pickler.dispatch.copy()

    def _save_name(self, obj):
        self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode())
        self.memoize(obj)

    dispatch[_Name] = _save_name

    def _save_tensor(self, obj):
        self.save_reduce(_REBUILD, (obj.storage, obj.offset, obj.shape, obj.strides, False,
                                    collections.OrderedDict()), obj=obj)

    dispatch[_TensorView] = _save_tensor

    def persistent_id(self, obj):
        if isinstance(obj, _StorageRef):
            return ("storage", _TYPES[_STORAGE_NAMES[obj.array.dtype]], obj.key, "cpu",
                    obj.array.size, None)
        return None


def contiguous(state: dict[str, np.ndarray]):
    """Each array in its own storage, C-ordered, as ``torch.save`` writes a fresh tensor."""
    entries = {}
    for i, (name, array) in enumerate(state.items()):
        array = np.array(array, order="C")  # (ascontiguousarray would make 0-d 1-d)
        strides = tuple(s // array.itemsize for s in array.strides) if array.ndim else ()
        entries[name] = _TensorView(_StorageRef(str(1000 + i), array.reshape(-1)), 0,
                                    array.shape, strides)
    return entries


def _pickled(entries) -> bytes:
    buffer = io.BytesIO()
    _Writer(buffer, protocol=2).dump(collections.OrderedDict(entries))
    return buffer.getvalue()


def _storages(entries) -> dict[str, np.ndarray]:
    out = {}
    for view in entries.values():
        out[view.storage.key] = view.storage.array
    return out


def write_legacy(path: Path, entries) -> Path:
    """``entries``: {name: _TensorView} -> the pre-1.6 ``torch.save`` layout."""
    storages = _storages(entries)
    with open(path, "wb") as f:
        for header in (LEGACY_MAGIC, LEGACY_PROTOCOL,
                       {"protocol_version": LEGACY_PROTOCOL, "little_endian": True,
                        "type_sizes": {"short": 2, "int": 4, "long": 8}}):
            pickle.dump(header, f, protocol=2)
        f.write(_pickled(entries))
        pickle.dump(list(storages), f, protocol=2)
        for array in storages.values():
            f.write(struct.pack("<q", array.size))
            f.write(array.astype(array.dtype.newbyteorder("<")).tobytes())
    return path


def write_zip(path: Path, entries) -> Path:
    """The same tensors in the zip layout of PyTorch 1.6+."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", _pickled(entries))
        archive.writestr("archive/byteorder", "little")
        for key, array in _storages(entries).items():
            archive.writestr(f"archive/data/{key}", array.tobytes())
        archive.writestr("archive/version", "3\n")
    return path


def _synthetic():
    """Tensors of several dtypes, a 0-d counter, a transposed (non-contiguous) view and two
    tensors sharing one storage, with what each must read back as."""
    rng = np.random.default_rng(0)
    conv = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    shared = _StorageRef("shared", np.arange(20, dtype=np.float32))
    base = rng.standard_normal((3, 5)).astype(np.float64)
    transposed = _StorageRef("t", base.reshape(-1))
    entries = {
        **contiguous({"conv.weight": conv,
                      "bn.num_batches_tracked": np.array(7, np.int64),
                      "half": rng.standard_normal(6).astype(np.float16),
                      "mask": np.array([True, False, True]),
                      "bytes": np.array([[0, 255], [7, 9]], np.uint8),
                      "ints": np.array([-3, 4], np.int32)}),
        "shared.first": _TensorView(shared, 2, (2, 3), (3, 1)),
        "shared.second": _TensorView(shared, 10, (5,), (2,)),
        "transposed": _TensorView(transposed, 0, (5, 3), (1, 5)),  # base.T
    }
    expected = {"conv.weight": conv, "bn.num_batches_tracked": np.array(7, np.int64),
                "half": entries["half"].storage.array.reshape(6),
                "mask": np.array([True, False, True]),
                "bytes": np.array([[0, 255], [7, 9]], np.uint8),
                "ints": np.array([-3, 4], np.int32),
                "shared.first": np.arange(2, 8, dtype=np.float32).reshape(2, 3),
                "shared.second": np.arange(10, 20, 2, dtype=np.float32),
                "transposed": base.T}
    return entries, expected


def _assert_same(got, expected):
    assert list(got) == list(expected)
    for name, want in expected.items():
        assert got[name].dtype == want.dtype, name
        assert got[name].shape == want.shape, name
        np.testing.assert_array_equal(got[name], want, err_msg=name)
        assert got[name].flags.c_contiguous


@pytest.mark.parametrize("writer", [write_legacy, write_zip], ids=["legacy", "zip"])
def test_a_synthetic_state_dict_reads_back_exactly(tmp_path, writer):
    entries, expected = _synthetic()
    got = read_state_dict(writer(tmp_path / "state.pth", entries))
    _assert_same(got, expected)
    got["shared.first"][0, 0] = -1.0  # copies: one tensor's change is not another's
    assert got["shared.second"][0] == 10.0


def test_truncated_files_give_one_clear_error(tmp_path):
    entries, _ = _synthetic()
    data = write_legacy(tmp_path / "whole.pth", entries).read_bytes()
    for cut in (0, 5, 40, len(data) // 3, len(data) - 200, len(data) - 1):
        path = tmp_path / f"cut{cut}.pth"
        path.write_bytes(data[:cut])
        with pytest.raises(TorchStateError) as info:
            read_state_dict(path)
        text = str(info.value)
        assert str(path) in text and "\n" not in text, text
    with pytest.raises(TorchStateError, match="no such file"):
        read_state_dict(tmp_path / "absent.pth")


def test_corrupt_or_foreign_files_are_refused(tmp_path):
    entries, _ = _synthetic()
    good = write_legacy(tmp_path / "good.pth", entries).read_bytes()
    cases = {
        "garbage": b"\x00\x01 not a pickle at all" * 10,
        "wrong magic": pickle.dumps(12345, protocol=2) + good[len(pickle.dumps(LEGACY_MAGIC,
                                                                                protocol=2)):],
        "trailing bytes": good + b"\x00",
        # a pickle that would run code: refused, not executed
        "foreign global": b"".join(pickle.dumps(h, protocol=2) for h in
                                   (LEGACY_MAGIC, LEGACY_PROTOCOL, {})) +
        b"cos\nsystem\n(S'echo pwned'\ntR.",
        "not a dict": b"".join(pickle.dumps(h, protocol=2) for h in
                               (LEGACY_MAGIC, LEGACY_PROTOCOL, {}, [1, 2], [])),
    }
    # a storage whose element count disagrees with its tensors
    count_at = good.rindex(struct.pack("<q", 20))  # the shared storage of 20 floats
    cases["wrong count"] = good[:count_at] + struct.pack("<q", 21) + good[count_at + 8:]
    for what, data in cases.items():
        path = tmp_path / f"{what.replace(' ', '_')}.pth"
        path.write_bytes(data)
        with pytest.raises(TorchStateError) as info:
            read_state_dict(path)
        text = str(info.value)
        assert str(path) in text and "\n" not in text, (what, text)
    assert "os.system" in str(pytest.raises(TorchStateError, read_state_dict,
                                            tmp_path / "foreign_global.pth").value)
    out_of_range = dict(entries, bad=_TensorView(entries["shared.first"].storage, 18, (3,), (1,)))
    with pytest.raises(TorchStateError, match="reaches past its storage"):
        read_state_dict(write_legacy(tmp_path / "range.pth", out_of_range))


# ---------------------------------------------------------------------------------------------
# The mapping, on a random model exported to PyTorch naming (no weights file needed).


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


# ---------------------------------------------------------------------------------------------
# The real ImageNet file of the declared dependency.


@pytest.fixture(scope="module")
def imagenet_state():
    # A declared dependency: its absence is a failure, not a skip.
    return read_state_dict(el.package_weights_path())


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
    reference = el.stem_reference(image, imagenet_state)
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


# ---------------------------------------------------------------------------------------------
# The EfficientNet-VAE with the Lite0 encoder.


def test_the_lite0_vae_encoder_carries_the_imagenet_weights(imagenet_state):
    from replication.experiments import make_config
    from replication.models import efficientnet_vae as ev

    config = make_config("effnet_vae", "smoke", encoder="efficientnet-lite0",
                         encoder_weights="imagenet")
    vae = ev.build_effnet_vae(config, (28, 28, 1))
    backbone = ev.backbone_of(vae)
    assert backbone.name == "efficientnet_lite0"
    assert backbone.output_shape == (None, 1280)
    for prefix, layer_name, kind in el.weight_mapping(backbone):
        layer = backbone.get_layer(layer_name)
        if kind == "bn":
            np.testing.assert_array_equal(np.asarray(layer.moving_variance),
                                          imagenet_state[f"{prefix}.running_var"])
        else:
            order = (2, 3, 1, 0) if kind == "conv" else (2, 3, 0, 1)
            np.testing.assert_array_equal(np.asarray(layer.kernel),
                                          imagenet_state[f"{prefix}.weight"].transpose(order))
    norm = vae.encoder.get_layer("imagenet_normalisation")
    np.testing.assert_allclose(np.ravel(norm.mean), el.INPUT_MEAN, rtol=1e-6)
    np.testing.assert_allclose(np.sqrt(np.ravel(norm.variance)), el.INPUT_STD, rtol=1e-6)
    z_mean, _ = vae.encoder(np.zeros((2, 28, 28, 1), "float32"))
    assert z_mean.shape == (2, 2)


def test_lite0_weights_from_a_path_and_clear_errors(tmp_path, imagenet_state):
    from replication.models import efficientnet_vae as ev

    path = write_legacy(tmp_path / "lite0.pth", contiguous(imagenet_state))
    backbone = ev.build_backbone(32, str(path), "efficientnet-lite0")
    np.testing.assert_array_equal(np.asarray(backbone.get_layer("stem_conv").kernel),
                                  imagenet_state["_conv_stem.weight"].transpose(2, 3, 1, 0))
    broken = tmp_path / "broken.pth"
    broken.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(ev.EncoderWeightsError, match="broken.pth"):
        ev.build_backbone(32, str(broken), "efficientnet-lite0")
    with pytest.raises(ev.EncoderWeightsError, match="no such file"):
        ev.build_backbone(32, str(tmp_path / "absent.pth"), "efficientnet-lite0")


def test_the_encoder_setting_is_validated_and_old_configs_are_b0():
    from replication.config import ConfigError

    # The report profile: the EfficientNet whose ImageNet weights can be had offline.
    from replication.experiments import config_from_dict, make_config

    # The report profile: the EfficientNet whose ImageNet weights can be had offline.
    assert make_config("effnet_vae", "report").encoder == "efficientnet-lite0"
    with pytest.raises(ConfigError, match="unknown encoder"):
        make_config("effnet_vae", "smoke", encoder="efficientnet-b7")
    saved = make_config("effnet_vae", "smoke").to_dict()
    del saved["encoder"]
    assert config_from_dict(saved).encoder == "efficientnet-b0"


def test_the_train_command_takes_encoder():
    from replication.__main__ import build_parser

    args = build_parser().parse_args(["train", "effnet_vae", "--encoder", "efficientnet-lite0"])
    assert args.encoder == "efficientnet-lite0"
    assert build_parser().parse_args(["train", "effnet_vae"]).encoder is None


def test_lite0_judges_a_conditional_runs_samples(cgan_smoke_run):
    """The independent judge of the conditional GANs: class-balanced samples of the run's
    generators, each put in a CIFAR-10 class by ImageNet Lite0 zero-shot."""
    from replication.zero_shot import CIFAR10_CLASSES, zero_shot_generated

    for generator in ("trained", "averaged"):
        result = zero_shot_generated(cgan_smoke_run, n=20, generator=generator, input_size=64,
                                     batch_size=10)
        assert result["n"] == 20 and result["generator"] == generator
        assert 0.0 <= result["agreement"] <= 1.0 and 0.0 <= result["agreement_max_rule"] <= 1.0
        assert list(result["per_class_agreement"]) == list(CIFAR10_CLASSES)
