"""replication/models/gan.py, the adversarial core: the train step, shared fakes, the gradient
penalty, conditioning, the objectives with their stabilisers (one-sided label smoothing, the
AC-GAN's real-only class loss, the matching-aware discriminator) checked against hand
computations, and the averaged generator (EMA)."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from replication.models.gan import GAN, ema_beta
from replication.models.losses import (LOSSES, discriminator_objective, generator_objective,
                                       real_decision_threshold)
from tests.helpers.builds import CLASSES, TINY
from tests.helpers.builds import built as _smoke_built
from tests.helpers.builds import config_and_model as _built
from tests.helpers.builds import design_nets as _nets
from tests.helpers.builds import tiny_dataset as _tiny_dataset
from tests.helpers.builds import tiny_gan as _tiny_gan
from tests.helpers.objectives import (FAKE, FAKE_CLS, FAKE_LABELS, LABELS, REAL, REAL_CLS, WRONG,
                                      cross_entropy, softplus, value)


@pytest.mark.parametrize("share", [False, True])
def test_shared_fakes_save_one_generator_pass_and_train_both_networks(share):
    gan = _tiny_gan(share_fakes=share)
    calls = []
    generate = gan.generate
    gan.generate = lambda *a, **k: calls.append(1) or generate(*a, **k)
    real = tf.constant(np.random.default_rng(0).uniform(-1, 1, (16, 16, 16, 1)), "float32")
    g_before = [w.copy() for w in gan.generator.get_weights()]
    d_before = [w.copy() for w in gan.discriminator.get_weights()]
    logs = gan.train_step(real)  # eager: every generator call is seen
    assert len(calls) == (1 if share else 2)
    assert all(np.isfinite(float(v)) for v in logs.values())
    assert any(not np.allclose(a, b) for a, b in zip(g_before, gan.generator.get_weights()))
    assert any(not np.allclose(a, b) for a, b in zip(d_before, gan.discriminator.get_weights()))


def test_shared_fakes_g_loss_comes_from_the_updated_discriminator():
    # With the same noise, the shared step's g_loss equals G's loss against D after D's update.
    gan = _tiny_gan(share_fakes=True)
    real = tf.constant(np.random.default_rng(1).uniform(-1, 1, (16, 16, 16, 1)), "float32")
    state = gan.seed_generator.state.numpy().copy()
    noise, _ = gan.sample_inputs(16)
    gan.seed_generator.state.assign(state)
    g_weights = [w.copy() for w in gan.generator.get_weights()]
    g_loss = float(gan._shared_step(real, None))
    gan.generator.set_weights(g_weights)  # G as it was when the fakes were made
    fake = gan.generate(noise, training=True)
    src, _ = gan.discriminate(fake, training=True)
    assert g_loss == pytest.approx(float(gan.gan_loss.g(src)), rel=1e-4)


def test_gradient_penalty_of_a_linear_critic():
    # D(x) = w . x has gradient w everywhere: the penalty is (||w|| - 1)^2.
    w = np.full((4 * 4 * 1, 1), 0.5, "float32")  # ||w|| = 2
    inputs = keras.Input((4, 4, 1))
    critic = keras.Model(inputs, keras.layers.Dense(1, use_bias=False)(keras.layers.Flatten()(inputs)))
    critic.layers[-1].set_weights([w])
    gan = GAN(keras.Sequential([keras.Input((2,)), keras.layers.Dense(16), keras.layers.Reshape((4, 4, 1))]),
              critic, noise_dim=2)
    real = tf.random.normal((5, 4, 4, 1))
    fake = tf.random.normal((5, 4, 4, 1))
    assert float(gan.gradient_penalty(real, fake, None)) == pytest.approx(1.0, rel=1e-4)


def test_train_step_updates_both_networks_in_training_mode():
    gan = _tiny_gan()
    real = np.random.default_rng(0).uniform(-1, 1, (16, 16, 16, 1)).astype("float32")
    g_before = [w.copy() for w in gan.generator.get_weights()]
    d_bn = gan.discriminator.get_layer("conv2_bn")
    g_bn = gan.generator.get_layer("project_bn")
    d_mean, g_mean = d_bn.moving_mean.numpy().copy(), g_bn.moving_mean.numpy().copy()
    seed_state = gan.seed_generator.state.numpy().copy()
    logs = gan.train_on_batch(real, return_dict=True)
    assert set(logs) == {"d_loss", "g_loss", "d_acc_real", "d_acc_fake"}
    assert 0.0 <= logs["d_acc_real"] <= 1.0 and 0.0 <= logs["d_acc_fake"] <= 1.0
    # training=True: BatchNorm moving statistics moved in both networks.
    assert not np.allclose(d_bn.moving_mean.numpy(), d_mean)
    assert not np.allclose(g_bn.moving_mean.numpy(), g_mean)
    assert any(not np.allclose(a, b) for a, b in zip(g_before, gan.generator.get_weights()))
    assert int(gan.d_optimizer.iterations) == 1 and int(gan.g_optimizer.iterations) == 1
    # Noise comes from the model's SeedGenerator, whose state advances with every draw.
    assert not np.array_equal(gan.seed_generator.state.numpy(), seed_state)


def test_wasserstein_makes_several_critic_updates_per_generator_update():
    gan = _tiny_gan("wasserstein", critic_steps=3)
    real = np.random.default_rng(0).uniform(-1, 1, (8, 16, 16, 1)).astype("float32")
    ds = tf.data.Dataset.from_tensor_slices(real).batch(4).repeat(3)  # 6 steps
    history = gan.fit(ds, epochs=1, verbose=0)
    assert int(gan.d_optimizer.iterations) == 6
    assert int(gan.g_optimizer.iterations) == 2
    assert np.isfinite(history.history["g_loss"][0])


def test_dcgan_learns_the_data_distribution_on_real_mnist(mnist):
    """After ~100 steps on real digits the samples have the data's dark background."""
    gan = _tiny_gan(image_shape=(28, 28, 1))
    real = mnist.train.images[:3200].astype("float32") / 127.5 - 1.0
    noise = np.random.default_rng(1).standard_normal((256, 8)).astype("float32")

    def gap():
        fake = np.asarray(gan.generator(noise, training=True))
        return abs(float(fake.mean()) - float(real.mean()))

    before = gap()
    gan.fit(real, batch_size=32, epochs=1, verbose=0)
    after = gap()
    assert before > 0.5 and after < 0.5 * before


@pytest.mark.parametrize("loss, real_accuracy", [("least-squares", 0.0), ("non-saturating", 1.0)])
def test_least_squares_accuracy_threshold_is_one_half(loss, real_accuracy):
    """A D whose output is always 0.4 calls every image fake under least squares (targets
    0 and 1: threshold 0.5) and real under the sigmoid losses (threshold 0 on the logit)."""
    assert real_decision_threshold(LOSSES["least-squares"]) == 0.5
    assert real_decision_threshold(LOSSES["non-saturating"]) == 0.0
    generator = keras.Sequential([keras.Input((2,)), keras.layers.Dense(16),
                                  keras.layers.Reshape((4, 4, 1))])
    discriminator = keras.Sequential([
        keras.Input((4, 4, 1)), keras.layers.Flatten(),
        keras.layers.Dense(1, kernel_initializer="zeros",
                           bias_initializer=keras.initializers.Constant(0.4))])
    gan = GAN(generator, discriminator, noise_dim=2)
    gan.compile(d_optimizer=keras.optimizers.SGD(0.0), g_optimizer=keras.optimizers.SGD(0.0),
                loss=loss)
    logs = gan.train_on_batch(np.zeros((8, 4, 4, 1), np.float32), return_dict=True)
    assert float(np.ravel(logs["d_acc_real"])[0]) == real_accuracy
    assert float(np.ravel(logs["d_acc_fake"])[0]) == 1.0 - real_accuracy


def test_a_conditional_gan_needs_labelled_batches():
    gan = _smoke_built("cgan").model
    images = np.zeros((32, 32, 32, 3), np.float32)
    with pytest.raises(ValueError, match=r"\(image, label\) batches"):
        gan.train_on_batch(images)


def test_a_conditional_gan_needs_at_least_two_classes():
    with pytest.raises(ValueError, match="num_classes >= 2"):
        GAN(keras.Sequential([keras.layers.Identity()]), keras.Sequential([keras.layers.Identity()]),
            noise_dim=2, num_classes=0, conditioning="input")


def test_share_fakes_falls_back_to_separate_passes_with_several_critic_steps():
    gan = _smoke_built("dcgan", loss="wasserstein", critic_steps=3).model
    assert gan.share_fakes and gan.critic_steps == 3
    calls = []
    shared, separate = gan._shared_step, gan._discriminator_step
    gan._shared_step = lambda *a: calls.append("shared") or shared(*a)
    gan._discriminator_step = lambda *a: calls.append("separate") or separate(*a)
    gan.run_eagerly = True
    x = np.random.default_rng(0).uniform(-1, 1, (32, 32, 32, 3)).astype(np.float32)
    for _ in range(3):
        gan.train_on_batch(x)
    assert calls == ["separate"] * 3
    assert int(gan.d_optimizer.iterations) == 3 and int(gan.g_optimizer.iterations) == 1


def test_acgan_loss_terms_match_a_hand_computation():
    """D minimises -(L_S + L_C), G minimises -(L_C - L_S) (non-saturating source term)."""
    real_out = np.array([[1.5, 2.0, 0.0, -1.0], [-0.5, 0.1, 0.3, 0.2]], "float32")
    fake_out = np.array([[0.3, 0.0, 1.0, 0.5], [-2.0, 1.0, -1.0, 0.0]], "float32")
    labels, fake_labels = np.array([0, 2]), np.array([1, 0])

    class Fixed(keras.layers.Layer):
        """A 'discriminator' that returns given outputs, one batch per call."""

        def __init__(self, outputs):
            super().__init__()
            self.outputs = [tf.constant(o) for o in outputs]
            self.calls = 0

        def call(self, x, training=None):
            out = self.outputs[self.calls % len(self.outputs)]
            self.calls += 1
            return out

    def log_softmax(z):
        z = z.astype("float64")
        return z - np.log(np.exp(z).sum(axis=1, keepdims=True))

    def softplus(z):
        return np.log1p(np.exp(z.astype("float64")))

    ce = lambda out, y: -log_softmax(out[:, 1:])[np.arange(len(y)), y].mean()
    expected_d = (softplus(-real_out[:, 0]).mean() + softplus(fake_out[:, 0]).mean()
                  + ce(real_out, labels) + ce(fake_out, fake_labels))
    expected_g = softplus(-fake_out[:, 0]).mean() + ce(fake_out, fake_labels)

    gan = GAN(keras.Sequential([keras.layers.Identity()]), Fixed([real_out, fake_out]),
              noise_dim=2, num_classes=3, conditioning="auxiliary")
    gan.compile(d_optimizer=keras.optimizers.SGD(), g_optimizer=keras.optimizers.SGD())
    real_src, real_cls = gan.discriminate(tf.zeros((2, 1)))
    fake_src, fake_cls = gan.discriminate(tf.zeros((2, 1)))
    # The model's own objectives (what train_step differentiates), not a recomputation.
    terms = dict(labels=labels, real_cls=real_cls, fake_labels=fake_labels, fake_cls=fake_cls)
    d_loss = gan.d_objective(real_src, fake_src, **terms)
    g_loss = gan.g_objective(fake_src, fake_labels=fake_labels, fake_cls=fake_cls)
    assert float(d_loss) == pytest.approx(expected_d, rel=1e-5)
    assert float(g_loss) == pytest.approx(expected_g, rel=1e-5)
    # Swapping the real and the fake labels changes D's loss: each label set meets its logits.
    swapped = gan.d_objective(real_src, fake_src, **{**terms, "labels": fake_labels,
                                                      "fake_labels": labels})
    assert float(swapped) != pytest.approx(expected_d, rel=1e-3)


def test_acgan_train_step_reports_class_accuracies(acgan_smoke_run):
    from replication.runs import RunDir

    row = RunDir(acgan_smoke_run).history()[-1]
    for key in ("d_loss", "g_loss", "d_acc_real", "d_acc_fake", "cls_acc_real", "cls_acc_fake"):
        assert np.isfinite(row[key])
    assert 0.0 <= row["cls_acc_real"] <= 1.0


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


@pytest.mark.parametrize("on", ["all", "real"])
@pytest.mark.parametrize("weight", [1.0, 2.0])
def test_acgan_class_loss_on_real_only_drops_exactly_the_fake_class_term(on, weight):
    loss = LOSSES["non-saturating"]
    source = np.mean(softplus(-REAL)) + np.mean(softplus(FAKE))
    classes = cross_entropy(LABELS, REAL_CLS)
    if on == "all":
        classes += cross_entropy(FAKE_LABELS, FAKE_CLS)
    by_hand = source + weight * classes  # the weight scales D's class term alone
    got = discriminator_objective(loss, REAL, FAKE, labels=LABELS, real_cls=REAL_CLS,
                                  fake_labels=FAKE_LABELS, fake_cls=FAKE_CLS, class_loss_on=on,
                                  class_weight=weight)
    assert value(got) == pytest.approx(by_hand, rel=1e-5)
    # G keeps its class term on its own samples either way.
    g = generator_objective(loss, FAKE, fake_labels=FAKE_LABELS, fake_cls=FAKE_CLS)
    assert value(g) == pytest.approx(np.mean(softplus(-FAKE)) + cross_entropy(FAKE_LABELS, FAKE_CLS),
                                     rel=1e-5)


def test_mismatched_pairs_count_as_half_of_the_fake_term():
    loss = LOSSES["non-saturating"]
    by_hand = np.mean(softplus(-REAL)) + 0.5 * (np.mean(softplus(FAKE)) + np.mean(softplus(WRONG)))
    assert value(discriminator_objective(loss, REAL, FAKE, wrong_src=WRONG)) == \
        pytest.approx(by_hand, rel=1e-5)


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


def test_ema_beta_follows_the_half_life_and_its_ramp():
    # ramp: h = min(1000, 0.05 * 640) = 32 images, so beta = 0.5 ** (64 / 32)
    assert value(ema_beta(64, 640, 1000, 0.05)) == pytest.approx(0.25, rel=1e-6)
    # past the ramp: h = 1000
    assert value(ema_beta(64, 10 ** 6, 1000, 0.05)) == pytest.approx(0.5 ** (64 / 1000), rel=1e-6)
    assert value(ema_beta(64, 64, 1000, 0.0)) == pytest.approx(0.5 ** (64 / 1000), rel=1e-6)


def _ema_variables(gan) -> list:
    """The averaged generator's variables, one per float variable of G, in G's order."""
    return [ema for _, ema in gan._ema_pairs]


def test_ema_follows_the_recursion_over_weights_and_batchnorm_statistics():
    half_life = 200
    _, gan = _built("dcgan", ema_half_life=half_life, ema_ramp=0.0, batch_size=16)
    data = _tiny_dataset()
    float_vars = [v for v in gan.generator.variables if "float" in str(v.dtype)]
    assert len(_ema_variables(gan)) == len(float_vars)
    assert any("moving_mean" in v.path for v in float_vars)  # BatchNorm statistics included
    expected = [v.numpy().copy() for v in float_vars]
    beta = 0.5 ** (16 / half_life)
    for step in range(3):
        x = data.train.images[16 * step:16 * (step + 1)].astype("float32") / 127.5 - 1.0
        gan.train_on_batch(x)
        expected = [w.numpy() + beta * (e - w.numpy()) for w, e in zip(float_vars, expected)]
    for got, want, variable in zip(_ema_variables(gan), expected, float_vars):
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
    assert off.averaged_generator() is None and not _ema_variables(off)
    assert len(on.variables) == len(off.variables) + len(_ema_variables(on))


def test_averaged_generator_covers_the_per_class_tables():
    generator, discriminator = _nets("projection")
    gan = GAN(generator, discriminator, TINY["noise_dim"], num_classes=CLASSES,
              conditioning="input", ema_half_life=1000)
    tables = [v for v in generator.variables if "gamma" in v.path or "beta" in v.path]
    assert tables
    averaged_ids = {id(v) for v, _ in gan._ema_pairs}
    assert all(id(v) in averaged_ids for v in tables)
    # The averaged copy carries the average, not the live value, of a per-class table.
    live, ema = next((v, e) for v, e in gan._ema_pairs if "gamma" in v.path)
    ema.assign(np.full(ema.shape, 3.0, "float32"))
    copy = gan.averaged_generator()
    np.testing.assert_allclose(copy.get_layer(live.path.split("/")[0]).get_weights()[0], 3.0)
    assert not np.allclose(live.numpy(), 3.0)
