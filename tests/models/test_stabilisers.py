"""The field's stabilisers for a GAN's discriminator, each checked so that a wrong wiring fails:
spectral normalisation (replication.models.layers), the hinge loss and the AC-GAN's twin
classifier (TAC-GAN) against hand computations (replication.models.losses), and DiffAugment
(replication.models.augment) in both updates with gradients flowing through it."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from replication.config import ConfigError
from replication.experiments import get as get_experiment
from replication.experiments import make_config
from replication.models import augment
from replication.models.gan import GAN
from replication.models.layers import SpectralNormConv2D, SpectralNormDense, standard_layers
from replication.models.losses import LOSSES, discriminator_objective, generator_objective
from tests.helpers.builds import tiny_gan
from tests.helpers.objectives import (FAKE, FAKE_CLS, FAKE_LABELS, LABELS, REAL, REAL_CLS,
                                      cross_entropy, softplus, value)


def _largest_singular_value(kernel) -> float:
    kernel = np.asarray(kernel, np.float64)
    return float(np.linalg.svd(kernel.reshape(-1, kernel.shape[-1]), compute_uv=False)[0])


@pytest.mark.parametrize("kind", ["conv", "dense"])
def test_spectral_norm_gives_a_unit_largest_singular_value_after_power_iterations(kind):
    keras.utils.set_random_seed(0)
    if kind == "conv":
        layer, x = SpectralNormConv2D(6, 3, padding="same"), tf.ones((2, 5, 5, 4))
    else:
        layer, x = SpectralNormDense(6), tf.ones((2, 12))
    layer(x)
    # A kernel with a known, well separated spectrum: sigma 7, the next 1.
    shape = layer.kernel.shape
    u, _ = np.linalg.qr(np.random.default_rng(0).standard_normal((int(np.prod(shape[:-1])), 6)))
    v, _ = np.linalg.qr(np.random.default_rng(1).standard_normal((6, 6)))
    spectrum = np.array([7.0, 1.0, 0.9, 0.8, 0.5, 0.2])
    layer.kernel.assign(((u * spectrum) @ v.T).reshape(shape).astype("float32"))
    u_before = layer.sn_u.numpy().copy()
    layer(x, training=False)  # inference reads u, does not advance it
    np.testing.assert_array_equal(layer.sn_u.numpy(), u_before)
    for _ in range(20):
        layer(x, training=True)
    assert float(layer.sigma()) == pytest.approx(7.0, rel=1e-4)
    normalised = keras.ops.convert_to_numpy(layer.normalised_kernel())
    assert _largest_singular_value(normalised) == pytest.approx(1.0, rel=1e-4)
    # The gradient flows through sigma: for the normalised kernel W / sigma(W), scaling W does
    # not change the output, so the gradient along W itself is zero.
    with tf.GradientTape() as tape:
        out = tf.reduce_sum(layer(x, training=False) ** 2)
    grad = tape.gradient(out, layer.kernel.value)
    along = float(tf.reduce_sum(grad * layer.kernel.value))
    assert abs(along) < 1e-3 * float(tf.norm(grad)) * float(tf.norm(layer.kernel.value))
    assert float(tf.norm(grad)) > 0


def test_a_spectrally_normalised_network_saves_as_plain_layers_computing_the_same():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((6, 6, 2))
    x = SpectralNormConv2D(4, 3, strides=2, padding="same")(inputs)
    out = SpectralNormDense(3)(keras.layers.Flatten()(x))
    model = keras.Model(inputs, out)
    images = tf.random.normal((5, 6, 6, 2), seed=1)
    for _ in range(5):
        model(images, training=True)
    plain = standard_layers(model)
    assert not any("SpectralNorm" in type(layer).__name__ for layer in plain.layers)
    np.testing.assert_allclose(plain(images).numpy(), model(images).numpy(), rtol=1e-5,
                               atol=1e-6)


def test_the_acgan_discriminator_options_build_what_they_say():
    config = make_config("acgan", "smoke", spectral_norm=True, d_batchnorm=False,
                         class_loss="twin")
    keras.utils.set_random_seed(0)
    _, d = get_experiment("acgan").networks(config, (32, 32, 3), 10)
    kinds = [type(layer).__name__ for layer in d.layers]
    assert kinds.count("SpectralNormConv2D") == 6 and kinds.count("SpectralNormDense") == 1
    assert "BatchNormalization" not in " ".join(kinds)
    assert d.output_shape[-1] == 1 + 2 * 10  # source, classifier, twin classifier
    plain = make_config("acgan", "smoke")
    _, d = get_experiment("acgan").networks(plain, (32, 32, 3), 10)
    assert not any("SpectralNorm" in type(layer).__name__ for layer in d.layers)
    assert d.output_shape[-1] == 11


def test_hinge_loss_matches_a_hand_computation_and_has_no_targets():
    loss = LOSSES["hinge"]
    by_hand = np.mean(np.maximum(0, 1 - REAL)) + np.mean(np.maximum(0, 1 + FAKE))
    assert value(discriminator_objective(loss, REAL, FAKE)) == pytest.approx(by_hand, rel=1e-6)
    assert value(generator_objective(loss, FAKE)) == pytest.approx(-np.mean(FAKE), rel=1e-6)
    with pytest.raises(ConfigError, match="no meaning"):
        make_config("acgan", "smoke", loss="hinge", real_label=0.9)


def _fixed(values):
    """Stand-ins for the random draws: ``uniform`` gives ``values["u"]`` for every image,
    ``randint`` the next of ``values["i"]``."""
    ints = iter(values.get("i", []))

    def uniform(shape):
        return tf.fill(shape, tf.constant(values["u"], tf.float32))

    def randint(shape, low, high):
        value = next(ints)
        assert low <= value < high
        return tf.fill(shape, tf.constant(value, tf.int32))

    return uniform, randint


def test_translation_shifts_whole_pixels_with_zeros_shifted_in():
    x = tf.reshape(tf.range(1, 257, dtype=tf.float32), (1, 16, 16, 1))  # shifts up to 2
    out = augment.translation(x, *_fixed({"u": 0.0, "i": [1, -2]})).numpy()[0, :, :, 0]
    src = x.numpy()[0, :, :, 0]
    np.testing.assert_array_equal(out[1:, :14], src[:15, 2:])  # down 1, left 2
    assert (out[0] == 0).all() and (out[:, 14:] == 0).all()
    with pytest.raises(AssertionError):  # a shift of 3 is out of the range drawn from
        augment.translation(x, *_fixed({"u": 0.0, "i": [3, 0]}))


def test_cutout_zeroes_a_square_of_half_the_side_at_its_centre():
    x = tf.ones((1, 8, 8, 2))
    out = augment.cutout(x, *_fixed({"u": 0.0, "i": [4, 2]})).numpy()[0, :, :, 0]
    expected = np.ones((8, 8))
    expected[2:6, 0:4] = 0.0  # size 4, centred at (4, 2)
    np.testing.assert_array_equal(out, expected)


def test_color_at_the_middle_draw_is_the_identity_and_moves_brightness_otherwise():
    x = tf.random.uniform((2, 4, 4, 3), -1, 1, seed=0)
    same = augment.color(x, *_fixed({"u": 0.5})).numpy()
    np.testing.assert_allclose(same, x.numpy(), atol=1e-6)
    brighter = augment.color(x, *_fixed({"u": 1.0})).numpy()
    assert brighter.mean() > x.numpy().mean() + 0.4


def test_policies_are_checked_and_put_in_one_order():
    assert augment.policy("cutout, translation") == ("translation", "cutout")
    with pytest.raises(ValueError, match="unknown augmentation 'flip'"):
        augment.policy("translation,flip")
    with pytest.raises(ConfigError, match="unknown augmentation 'flip'"):
        make_config("dcgan", "smoke", diff_augment="flip")


def test_diff_augment_reaches_every_input_of_d_in_both_updates_with_gradients(monkeypatch):
    gan = tiny_gan()
    gan.compile(d_optimizer=keras.optimizers.Adam(1e-3), g_optimizer=keras.optimizers.Adam(1e-3),
                augment=("translation", "cutout"))
    real = tf.constant(np.random.default_rng(0).uniform(0.5, 1, (4, 16, 16, 1)), "float32")
    seen, d_inputs = [], []
    original = augment.diff_augment

    def spy(images, names, uniform, randint):
        seen.append(images)
        return original(images, names, uniform, randint)

    monkeypatch.setattr(augment, "diff_augment", spy)
    discriminator = gan.discriminator

    class Spy:
        """D, recording what it is given."""
        trainable_variables = discriminator.trainable_variables

        def __call__(self, x, training=None):
            d_inputs.append(x)
            return discriminator(x, training=training)

    object.__setattr__(gan, "discriminator", Spy())
    gan.train_step(real)  # eager: D's update (real, fake), then G's update (fake)
    assert len(seen) == 3 and len(d_inputs) == 3
    np.testing.assert_array_equal(seen[0].numpy(), real.numpy())
    assert not np.allclose(seen[1].numpy(), real.numpy())  # the generated batch
    # D saw the augmented images: the cut-out square is zero in every real image.
    assert (d_inputs[0].numpy() == 0).reshape(4, -1).sum(axis=1).min() >= 16
    # Gradients reach G through the augmentation.
    object.__setattr__(gan, "discriminator", discriminator)
    noise, _ = gan.sample_inputs(4)
    with tf.GradientTape() as tape:
        loss = gan._generator_loss(gan.generate(noise, training=True), None)
    grads = tape.gradient(loss, gan.generator.trainable_variables)
    assert all(g is not None for g in grads) and any(float(tf.norm(g)) > 0 for g in grads)


def test_the_twin_classifier_terms_match_a_hand_computation():
    loss = LOSSES["non-saturating"]
    twin = FAKE_CLS[:, ::-1].copy()
    source = np.mean(softplus(-REAL)) + np.mean(softplus(FAKE))
    # D: its classifier on the real labels, the twin on the generated images' labels.
    d = discriminator_objective(loss, REAL, FAKE, labels=LABELS, real_cls=REAL_CLS,
                                fake_labels=FAKE_LABELS, fake_cls=FAKE_CLS, fake_twin=twin,
                                class_loss_on="twin", class_weight=2.0)
    by_hand = source + 2.0 * (cross_entropy(LABELS, REAL_CLS) + cross_entropy(FAKE_LABELS, twin))
    assert value(d) == pytest.approx(by_hand, rel=1e-5)
    # G: the classifier's cross-entropy on its samples minus the twin's.
    g = generator_objective(loss, FAKE, fake_labels=FAKE_LABELS, fake_cls=FAKE_CLS,
                            fake_twin=twin)
    assert value(g) == pytest.approx(np.mean(softplus(-FAKE)) + cross_entropy(FAKE_LABELS, FAKE_CLS)
                                     - cross_entropy(FAKE_LABELS, twin), rel=1e-5)


def test_a_twin_acgan_trains_and_a_head_count_mismatch_is_refused():
    config = make_config("acgan", "smoke", class_loss="twin", spectral_norm=True,
                         diff_augment="translation,cutout", gen_linear_maps=8, gen_filters=(8,),
                         disc_filters=(4, 8), disc_strides=(2, 2))
    keras.utils.set_random_seed(0)
    g, d = get_experiment("acgan").networks(config, (8, 8, 3), 4)
    gan = GAN(g, d, noise_dim=config.noise_dim, num_classes=4, conditioning="auxiliary")
    gan.compile(d_optimizer=keras.optimizers.Adam(1e-3), g_optimizer=keras.optimizers.Adam(1e-3),
                class_loss_on="twin", augment=("translation", "cutout"))
    images = tf.random.uniform((6, 8, 8, 3), -1, 1, seed=2)
    labels = tf.constant([0, 1, 2, 3, 0, 1])
    u_before = [layer.sn_u.numpy().copy() for layer in d.layers if hasattr(layer, "sn_u")]
    logs = gan.train_step((images, labels))
    assert all(np.isfinite(float(v)) for v in logs.values())
    u_after = [layer.sn_u.numpy() for layer in d.layers if hasattr(layer, "sn_u")]
    assert len(u_after) == 3 and all(not np.allclose(a, b) for a, b in zip(u_before, u_after))
    other = GAN(g, d, noise_dim=config.noise_dim, num_classes=4, conditioning="auxiliary")
    with pytest.raises(ValueError, match="needs a discriminator with 5 outputs"):
        other.compile(d_optimizer=keras.optimizers.Adam(), g_optimizer=keras.optimizers.Adam())
