"""The GAN stabilisers (one-sided label smoothing, the AC-GAN's real-only class loss, the
matching-aware conditional discriminator, TTUR) and the averaged generator (EMA): each loss
term or target checked against a hand computation, and each option's wiring from the config
into the model checked."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from replication import experiments
from replication.checkpoint import build_optimizers
from replication.config import ConfigError
from replication.experiments import make_config
from replication.data import Dataset, Split
from replication.models.gan import (discriminator_objective, ema_beta, generator_objective)
from replication.models.losses import LOSSES

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


# --- one-sided label smoothing ------------------------------------------------------------

def test_label_smoothing_changes_only_the_real_target_bce():
    loss = LOSSES["non-saturating"]
    t = 0.9
    by_hand = np.mean(t * softplus(-REAL) + (1 - t) * softplus(REAL)) + np.mean(softplus(FAKE))
    assert value(discriminator_objective(loss, REAL, FAKE, real_label=t)) == \
        pytest.approx(by_hand, rel=1e-5)
    # Without smoothing: the plain real term; the fake term is the same in both.
    plain = np.mean(softplus(-REAL)) + np.mean(softplus(FAKE))
    assert value(discriminator_objective(loss, REAL, FAKE)) == pytest.approx(plain, rel=1e-5)
    # G's loss does not change with D's targets.
    assert value(generator_objective(loss, FAKE)) == pytest.approx(np.mean(softplus(-FAKE)),
                                                                   rel=1e-5)


def test_label_smoothing_least_squares_targets_t_for_real_and_0_for_fake():
    loss = LOSSES["least-squares"]
    by_hand = 0.5 * np.mean((REAL - 0.9) ** 2) + 0.5 * np.mean(FAKE ** 2)
    assert value(discriminator_objective(loss, REAL, FAKE, real_label=0.9)) == \
        pytest.approx(by_hand, rel=1e-5)


def test_label_smoothing_is_refused_for_the_wasserstein_critic():
    with pytest.raises(ConfigError, match="wasserstein"):
        make_config("dcgan", "smoke", loss="wasserstein", real_label=0.9)
    with pytest.raises(ConfigError, match="real-label"):
        make_config("dcgan", "smoke", real_label=0.0)


# --- the AC-GAN's class loss ---------------------------------------------------------------

@pytest.mark.parametrize("on", ["all", "real"])
def test_acgan_class_loss_on_real_only_drops_exactly_the_fake_class_term(on):
    loss = LOSSES["non-saturating"]
    source = np.mean(softplus(-REAL)) + np.mean(softplus(FAKE))
    by_hand = source + cross_entropy(LABELS, REAL_CLS)
    if on == "all":
        by_hand += cross_entropy(FAKE_LABELS, FAKE_CLS)
    got = discriminator_objective(loss, REAL, FAKE, labels=LABELS, real_cls=REAL_CLS,
                                  fake_labels=FAKE_LABELS, fake_cls=FAKE_CLS, class_loss_on=on)
    assert value(got) == pytest.approx(by_hand, rel=1e-5)
    # G keeps its class term on its own samples either way.
    g = generator_objective(loss, FAKE, fake_labels=FAKE_LABELS, fake_cls=FAKE_CLS)
    assert value(g) == pytest.approx(np.mean(softplus(-FAKE)) + cross_entropy(FAKE_LABELS, FAKE_CLS),
                                     rel=1e-5)


# --- the matching-aware conditional discriminator -----------------------------------------

def test_mismatched_pairs_count_as_half_of_the_fake_term():
    loss = LOSSES["non-saturating"]
    by_hand = np.mean(softplus(-REAL)) + 0.5 * (np.mean(softplus(FAKE)) + np.mean(softplus(WRONG)))
    assert value(discriminator_objective(loss, REAL, FAKE, wrong_src=WRONG)) == \
        pytest.approx(by_hand, rel=1e-5)


def _tiny_dataset(classes=10, shape=(32, 32, 3)):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (64, *shape), dtype=np.uint8)
    labels = (np.arange(64) % classes).astype(np.int32)
    return Dataset("cifar10", "test", "random images", Split(images, labels), None,
                   tuple(str(c) for c in range(classes)))


def _built(experiment, **overrides):
    config = make_config(experiment, "smoke", **overrides)
    keras.utils.set_random_seed(0)
    built = experiments.get(experiment).build(config, _tiny_dataset())
    build_optimizers(built.model, built.optimizers, built.optimizer_variables)
    return config, built.model


def test_wrong_labels_are_never_the_true_label_and_cover_every_other_class():
    _, gan = _built("cgan", mismatched_labels=True)
    labels = keras.ops.convert_to_tensor(np.repeat(np.arange(10, dtype=np.int32), 300))
    wrong = keras.ops.convert_to_numpy(gan.wrong_labels(labels))
    labels = keras.ops.convert_to_numpy(labels)
    assert not np.any(wrong == labels)
    assert wrong.min() == 0 and wrong.max() == 9
    for c in range(10):  # each of the other nine classes, about evenly (300 draws each)
        counts = np.bincount(wrong[labels == c], minlength=10)
        others = np.delete(counts, c)
        assert counts[c] == 0 and others.min() >= 10 and others.max() <= 60


@pytest.mark.parametrize("experiment, overrides, expected", [
    ("dcgan", dict(real_label=0.9), dict(real_label=0.9, class_loss_on="all",
                                          mismatched_labels=False)),
    ("cgan", dict(mismatched_labels=True), dict(real_label=1.0, mismatched_labels=True)),
    ("acgan", dict(class_loss="real"), dict(class_loss_on="real", mismatched_labels=False)),
])
def test_config_options_reach_the_model(experiment, overrides, expected):
    config, gan = _built(experiment, **overrides)
    for name, wanted in expected.items():
        assert getattr(gan, name) == wanted, name
    # The model's own D objective is the hand-checked function with the config's options.
    if experiment == "dcgan":
        t = 0.9
        by_hand = np.mean(t * softplus(-REAL) + (1 - t) * softplus(REAL)) + np.mean(softplus(FAKE))
        assert value(gan.d_objective(REAL, FAKE)) == pytest.approx(by_hand, rel=1e-5)
    if experiment == "acgan":
        got = gan.d_objective(REAL, FAKE, labels=LABELS, real_cls=REAL_CLS,
                              fake_labels=FAKE_LABELS, fake_cls=FAKE_CLS)
        by_hand = np.mean(softplus(-REAL)) + np.mean(softplus(FAKE)) + \
            cross_entropy(LABELS, REAL_CLS)
        assert value(got) == pytest.approx(by_hand, rel=1e-5)


def test_mismatched_labels_train_and_change_the_discriminator_update():
    data = _tiny_dataset()
    x = data.train.images[:32].astype("float32") / 127.5 - 1.0
    y = data.train.labels[:32]
    losses = {}
    for mismatched in (False, True):
        _, gan = _built("cgan", mismatched_labels=mismatched)
        gan.fit(x, y, batch_size=32, epochs=1, verbose=0, shuffle=False)
        losses[mismatched] = float(gan.trackers["d_loss"].result())
        assert np.isfinite(losses[mismatched])
    assert losses[True] != pytest.approx(losses[False], rel=1e-4)


def test_ttur_sets_each_optimizer_rate_and_the_acgan_keeps_to_the_papers_rates():
    _, gan = _built("dcgan", d_learning_rate=4e-4, g_learning_rate=1e-4)
    assert float(gan.d_optimizer.learning_rate) == pytest.approx(4e-4)
    assert float(gan.g_optimizer.learning_rate) == pytest.approx(1e-4)
    _, gan = _built("dcgan")
    assert float(gan.d_optimizer.learning_rate) == float(gan.g_optimizer.learning_rate) == \
        pytest.approx(2e-4)
    _, gan = _built("acgan", d_learning_rate=3e-4)
    assert float(gan.d_optimizer.learning_rate) == pytest.approx(3e-4)
    assert float(gan.g_optimizer.learning_rate) == pytest.approx(2e-4)
    with pytest.raises(ConfigError, match="AC-GAN table"):
        make_config("acgan", "smoke", d_learning_rate=4e-4)


def test_options_of_another_experiment_are_refused():
    with pytest.raises(ConfigError, match="class_loss"):
        make_config("dcgan", "smoke", class_loss="real")
    with pytest.raises(ConfigError, match="mismatched_labels"):
        make_config("acgan", "smoke", mismatched_labels=True)


# --- the averaged generator ----------------------------------------------------------------

def test_ema_beta_follows_the_half_life_and_its_ramp():
    # ramp: h = min(1000, 0.05 * 640) = 32 images, so beta = 0.5 ** (64 / 32)
    assert value(ema_beta(64, 640, 1000, 0.05)) == pytest.approx(0.25, rel=1e-6)
    # past the ramp: h = 1000
    assert value(ema_beta(64, 10 ** 6, 1000, 0.05)) == pytest.approx(0.5 ** (64 / 1000), rel=1e-6)
    assert value(ema_beta(64, 64, 1000, 0.0)) == pytest.approx(0.5 ** (64 / 1000), rel=1e-6)


def test_ema_follows_the_recursion_over_weights_and_batchnorm_statistics():
    half_life = 200
    _, gan = _built("dcgan", ema_half_life=half_life, ema_ramp=0.0, batch_size=16)
    data = _tiny_dataset()
    float_vars = [v for v in gan.generator.variables if "float" in str(v.dtype)]
    assert len(gan.ema_variables) == len(float_vars)
    assert any("moving_mean" in v.path for v in float_vars)  # BatchNorm statistics included
    expected = [v.numpy().copy() for v in float_vars]
    beta = 0.5 ** (16 / half_life)
    for step in range(3):
        x = data.train.images[16 * step:16 * (step + 1)].astype("float32") / 127.5 - 1.0
        gan.train_on_batch(x)
        expected = [w.numpy() + beta * (e - w.numpy()) for w, e in zip(float_vars, expected)]
    for got, want, variable in zip(gan.ema_variables, expected, float_vars):
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-5, atol=1e-7, err_msg=variable.path)
    # The averaged copy holds the averaged values and is not part of the model's state.
    count = len(gan.variables)
    averaged = gan.averaged_generator()
    assert len(gan.variables) == count
    for got, want in zip([v for v in averaged.variables if "float" in str(v.dtype)], expected):
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-6, atol=1e-7)
    assert not np.allclose(averaged.variables[0].numpy(), gan.generator.variables[0].numpy())


def test_ema_off_adds_no_state():
    _, on = _built("dcgan")
    _, off = _built("dcgan", ema_half_life=0)
    assert off.averaged_generator() is None and not off.ema_variables
    assert len(on.variables) == len(off.variables) + len(on.ema_variables)
