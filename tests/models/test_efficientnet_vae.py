"""replication/models/efficientnet_vae.py: the EfficientNet encoder VAE: weights sources (none,
a local file, ImageNet for B0 and Lite0), clear errors, the encoder's input path, saving."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from replication.__main__ import main
from replication.experiments import make_config
from replication.models import efficientnet_lite as el
from replication.models import efficientnet_vae as ev
from tests.helpers.builds import built as _built
from tests.helpers.builds import tiny_dataset as _tiny
from tests.helpers.torch_writer import contiguous, write_legacy


def test_backbone_from_none_and_from_a_local_weights_file(tmp_path):
    keras.utils.set_random_seed(0)
    random_backbone = ev.build_backbone(32, "none")
    assert random_backbone.output_shape == (None, 1280)
    path = tmp_path / "b0.weights.h5"
    random_backbone.save_weights(path)
    keras.utils.set_random_seed(1)  # a different init, overwritten by the file
    loaded = ev.build_backbone(32, str(path))
    x = np.random.default_rng(0).standard_normal((2, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(random_backbone(x)), atol=1e-5)


def test_unavailable_imagenet_weights_stop_with_one_clear_message(monkeypatch):
    import keras_applications  # noqa: F401  (efficientnet downloads through keras.utils.get_file)

    def offline(*args, **kwargs):
        raise Exception("URL fetch failure on https://example.invalid/b0.h5: None -- no network")

    monkeypatch.setattr(keras.utils, "get_file", offline)
    with pytest.raises(ev.EncoderWeightsError) as info:
        ev.build_backbone(32, "imagenet")
    text = str(info.value)
    assert "--encoder-weights PATH" in text and "--encoder-weights none" in text
    assert "\n" not in text


def test_missing_weights_file_is_a_usage_error(tmp_path, capsys):
    code = main(["train", "effnet_vae", "--profile", "smoke", "--encoder-weights",
                 str(tmp_path / "nope.h5"), "--run-dir", str(tmp_path / "r")])
    assert code == 2
    assert "no such file" in capsys.readouterr().err


def test_encoder_pads_normalises_and_feeds_the_latent_head():
    config = make_config("effnet_vae", "smoke", encoder_weights="none")
    vae = ev.build_effnet_vae(config, (28, 28, 1))
    names = [layer.name for layer in vae.encoder.layers]
    assert names[:4] == ["image", "pad", "to_rgb", "imagenet_normalisation"]
    assert vae.encoder.get_layer("pad").output.shape[1:] == (32, 32, 1)
    z_mean, z_log_var = vae.encoder(np.zeros((2, 28, 28, 1), "float32"))
    assert z_mean.shape == (2, 2) == z_log_var.shape
    assert vae.decoder.output_shape == (None, 28, 28, 1)  # same pixels (and nats) as the Q1 VAE


def test_effnet_vae_saves_and_reloads_as_keras(tmp_path):
    import replication  # noqa: F401  (registers the project's classes: what a user does)

    mnist = _tiny(shape=(28, 28, 1))
    built = _built("effnet_vae", dataset=mnist, encoder_weights="none")
    path = tmp_path / "effnet_vae.keras"
    built.model.save(path)
    loaded = keras.saving.load_model(path)
    x = np.random.default_rng(0).uniform(0, 1, (2, 28, 28, 1)).astype(np.float32)
    mean, log_var = built.model.encoder(x, training=False)
    mean2, log_var2 = loaded.encoder(x, training=False)
    np.testing.assert_allclose(mean2, mean, atol=1e-5)
    z = np.zeros((2, built.model.encoder.outputs[0].shape[-1]), np.float32)
    np.testing.assert_allclose(loaded.decode(z), built.model.decode(z), atol=1e-5)


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


def test_the_encoder_can_see_the_digit_upsampled():
    config = make_config("effnet_vae", "smoke", encoder="efficientnet-lite0",
                         encoder_weights="none", encoder_upsample=2)
    vae = ev.build_effnet_vae(config, (28, 28, 1))
    assert ev.backbone_of(vae).input_shape == (None, 64, 64, 3)
    assert vae.encoder.get_layer("upsample").output.shape == (None, 64, 64, 3)
    assert vae.decoder.output.shape == (None, 28, 28, 1)  # the decoder stays at 32x32, cropped
    from replication.config import ConfigError

    with pytest.raises(ConfigError, match="encoder-upsample must be at least 1"):
        make_config("effnet_vae", "smoke", encoder_upsample=0)
