"""replication/models/vae.py, the Q1 VAE: loss terms against hand computations, learning on real MNIST, save/load."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from replication.experiments import make_config
from replication.models.vae import VAE, bernoulli_nll, build_vae, gaussian_kl


def test_bernoulli_nll_matches_hand_computation():
    x = np.array([[0.0, 1.0, 0.25], [1.0, 0.0, 0.5]], dtype="float32")
    logits = np.array([[0.3, -2.0, 40.0], [-35.0, 1.5, 0.0]], dtype="float32")
    l64 = logits.astype("float64")
    log_p, log_not_p = -np.log1p(np.exp(-l64)), -np.log1p(np.exp(l64))  # log σ(l), log(1 − σ(l))
    expected = -(x * log_p + (1 - x) * log_not_p).sum(axis=1)
    # The extreme logits (+40, -35) overflow the naive formula in float32; the stable form
    # must still agree with the float64 hand computation.
    got = np.asarray(bernoulli_nll(x, logits))
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_gaussian_kl_matches_closed_form():
    mean = np.array([[0.0, 0.0], [1.0, -2.0]], dtype="float32")
    log_var = np.array([[0.0, 0.0], [np.log(4.0), np.log(0.25)]], dtype="float32")
    var = np.exp(log_var)
    expected = 0.5 * (var + mean ** 2 - 1.0 - log_var).sum(axis=1)
    got = np.asarray(gaussian_kl(mean, log_var))
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    assert got[0] == pytest.approx(0.0)  # q = prior


def test_architecture_follows_the_config():
    config = make_config("vae", "smoke")
    vae = build_vae(config, (28, 28, 1))
    z_mean, z_log_var = vae.encoder(np.zeros((3, 28, 28, 1), "float32"))
    assert z_mean.shape == (3, config.latent_dim) == z_log_var.shape
    assert vae.decoder.output_shape == (None, 28, 28, 1)
    strided = [layer for layer in vae.encoder.layers if isinstance(layer, keras.layers.Conv2D)]
    assert [layer.filters for layer in strided] == list(config.conv_filters)
    assert all(layer.strides == (2, 2) for layer in strided)


def test_train_and_test_steps_track_the_three_losses_and_learn(mnist):
    config = make_config("vae", "smoke")
    keras.utils.set_random_seed(0)
    vae = build_vae(config, (28, 28, 1))
    vae.compile(optimizer=keras.optimizers.Adam(config.learning_rate))
    x = mnist.train.images[:1024].astype("float32") / 255.0
    x_test = mnist.test.images[:512].astype("float32") / 255.0
    before = vae.evaluate(x_test, batch_size=128, verbose=0, return_dict=True)
    assert set(before) == {"loss", "reconstruction_loss", "kl_loss"}
    assert before["loss"] == pytest.approx(before["reconstruction_loss"] + before["kl_loss"], rel=1e-4)
    history = vae.fit(x, epochs=3, batch_size=64, verbose=0, shuffle=False)
    assert history.history["loss"][-1] < history.history["loss"][0]
    after = vae.evaluate(x_test, batch_size=128, verbose=0, return_dict=True)
    # An untrained decoder costs ~540 nats per image (784 * log 2); a few hundred steps on real
    # digits must bring the held-out negative ELBO far below that.
    assert after["loss"] < 0.6 * before["loss"]
    assert after["kl_loss"] > 0.0


def test_saved_model_loads_back_and_decodes_the_same_images(tmp_path):
    config = make_config("vae", "smoke")
    vae = build_vae(config, (28, 28, 1))
    path = tmp_path / "vae.keras"
    vae.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded, VAE)
    z = np.random.default_rng(0).standard_normal((5, 2)).astype("float32")
    np.testing.assert_allclose(np.asarray(loaded.decode(z)), np.asarray(vae.decode(z)), atol=1e-6)
    x = np.random.default_rng(1).random((4, 28, 28, 1)).astype("float32")
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(vae(x)), atol=1e-6)
