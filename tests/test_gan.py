"""The adversarial core: loss formulas, the train step, conditioning hooks, the DCGAN rules."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from replication.experiments import make_config
from replication.experiments import get as get_experiment
from replication.models import dcgan
from replication.models.gan import GAN
from replication.models.losses import LOSSES

REAL = np.array([2.0, -1.0, 0.5, 30.0], dtype="float32")
FAKE = np.array([-3.0, 0.2, 1.0, -25.0], dtype="float32")


def _log_sigmoid(x):
    return -np.log1p(np.exp(-x.astype("float64")))


def test_gan_losses_match_hand_computations():
    d_real, d_fake = _log_sigmoid(REAL), _log_sigmoid(FAKE)          # log D(x), log D(G(z))
    not_fake = -np.log1p(np.exp(FAKE.astype("float64")))              # log(1 - D(G(z)))
    expected = {
        "minimax": (-(d_real.mean() + not_fake.mean()), not_fake.mean()),
        "non-saturating": (-(d_real.mean() + not_fake.mean()), -d_fake.mean()),
        "least-squares": (0.5 * ((REAL - 1) ** 2).mean() + 0.5 * (FAKE ** 2).mean(),
                          0.5 * ((FAKE - 1) ** 2).mean()),
        "wasserstein": (FAKE.mean() - REAL.mean(), -FAKE.mean()),
    }
    assert set(expected) == set(LOSSES)
    for name, (d_loss, g_loss) in expected.items():
        loss = LOSSES[name]
        assert float(loss.d(REAL, FAKE)) == pytest.approx(d_loss, rel=1e-5), name
        assert float(loss.g(FAKE)) == pytest.approx(g_loss, rel=1e-5), name


def _tiny_gan(loss="non-saturating", critic_steps=1, image_shape=(16, 16, 1), seed=0,
              share_fakes=False):
    keras.utils.set_random_seed(seed)
    generator = dcgan.build_generator(image_shape, 8, (16, 8), 4, 0.02)
    discriminator = dcgan.build_discriminator(image_shape, (8, 16), 4, 0.02, 0.2,
                                              norm="layer" if loss == "wasserstein" else "batch")
    gan = GAN(generator, discriminator, noise_dim=8, seed=seed)
    gan.compile(d_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5),
                g_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5), loss=loss,
                critic_steps=critic_steps, share_fakes=share_fakes)
    return gan


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


def test_runs_saved_before_share_fakes_existed_keep_the_old_step():
    from replication.experiments import config_from_dict, make_config

    saved = make_config("dcgan", "report").to_dict()
    assert saved.pop("share_fakes") is True
    assert config_from_dict(saved).share_fakes is False


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


def test_dcgan_follows_the_papers_rules():
    config = make_config("dcgan", "report")

    for shape in ((32, 32, 3), (28, 28, 1)):
        g, d = get_experiment("dcgan").networks(config, shape, 10)
        assert g.output_shape == (None, *shape) and d.output_shape == (None, 1)
        all_layers = g.layers + d.layers
        assert not any("Pooling" in type(layer).__name__ for layer in all_layers)
        for layer in all_layers:
            init = getattr(layer, "kernel_initializer", None)
            if init is not None:
                assert isinstance(init, keras.initializers.RandomNormal)
                assert init.mean == 0.0 and init.stddev == config.init_stddev == 0.02
        convs = [layer for layer in d.layers if isinstance(layer, keras.layers.Conv2D)]
        assert all(layer.strides == (2, 2) for layer in convs)
        # BatchNorm everywhere except D's input layer and G's output layer.
        d_names = [layer.name for layer in d.layers]
        assert "conv1_bn" not in d_names and all(f"{c.name}_bn" in d_names for c in convs[1:])
        assert all(isinstance(layer, keras.layers.LeakyReLU) and layer.negative_slope == 0.2
                   for layer in d.layers if "lrelu" in layer.name)
        deconvs = [layer for layer in g.layers if isinstance(layer, keras.layers.Conv2DTranspose)]
        g_names = [layer.name for layer in g.layers]
        assert f"{deconvs[-1].name}_bn" not in g_names
        assert all(f"{c.name}_bn" in g_names for c in deconvs[:-1])
        assert g.layers[-1].name == "tanh"
        assert all(isinstance(layer, keras.layers.ReLU) for layer in g.layers if "relu" in layer.name)


def test_generator_saves_and_loads_to_identical_images(tmp_path):
    gan = _tiny_gan()
    noise = np.random.default_rng(3).standard_normal((4, 8)).astype("float32")
    path = tmp_path / "generator.keras"
    gan.generator.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_array_equal(np.asarray(loaded(noise, training=False)),
                                  np.asarray(gan.generator(noise, training=False)))


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
