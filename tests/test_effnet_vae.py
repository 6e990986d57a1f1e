"""Q1 bonus: the EfficientNet-B0 encoder VAE: weights sources, freezing, a smoke run, figures."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from replication.__main__ import main
from replication.experiments import make_config
from replication.models import efficientnet_vae as ev
from replication.runs import RunDir
from replication.train import train


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


def test_smoke_run_with_a_frozen_first_epoch_then_figures(tmp_path):
    seen = []

    class Record(keras.callbacks.Callback):
        def _record(self):
            kernels = [v for v in ev.backbone_of(self.model).weights if "kernel" in v.path][:5]
            seen.append([np.array(v.numpy()) for v in kernels])

        def on_train_begin(self, logs=None):
            self._record()

        def on_epoch_end(self, epoch, logs=None):
            self._record()

    run = train("effnet_vae", "smoke", run_dir=tmp_path / "run", verbose=0,
                encoder_weights="none", freeze_encoder_epochs=1, epochs=2, train_examples=256,
                eval_examples=256, batch_size=64, callbacks=[Record()])
    info = json.loads(run.config_file.read_text())
    assert info["config"]["encoder_weights"] == "none"
    assert info["config"]["freeze_encoder_epochs"] == 1
    start, after_frozen, after_trained = seen
    assert all(np.array_equal(a, b) for a, b in zip(start, after_frozen))  # epoch 1: frozen
    assert any(not np.array_equal(a, b) for a, b in zip(after_frozen, after_trained))
    history = RunDir(run.path).history()
    assert len(history) == 2 and all(np.isfinite(r["val_loss"]) for r in history)
    out = tmp_path / "fig"
    assert main(["figures", "effnet_vae", "--run-dir", str(run.path), "--out", str(out)]) == 0
    assert (out / "fig07.png").exists() and (out / "fig08.png").exists()
