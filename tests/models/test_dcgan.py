"""replication/models/dcgan.py: the DCGAN paper's rules, and the conditional GAN's label designs
(each wires the label where it says, computed by hand on tiny networks, and survives saving)."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from replication.experiments import get as get_experiment
from replication.experiments import make_config
from replication.vocabulary import LABEL_DESIGNS as CGAN_LABEL_CONDITIONING
from tests.helpers.builds import CLASSES, SHAPE, TINY
from tests.helpers.builds import design_nets as _nets
from tests.helpers.builds import report_networks as _networks
from tests.helpers.builds import tiny_gan as _tiny_gan


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


@pytest.mark.parametrize("experiment", ["cgan", "acgan"])
def test_conditioning_really_conditions(experiment):
    _, generator, _ = _networks(experiment)
    # Class-conditional BatchNorm starts as plain BatchNorm (gamma 1, beta 0 for every class),
    # so an untrained conditional-BN generator ignores the label: give the per-class tables
    # distinct rows, as training does.
    rng = np.random.default_rng(1)
    for layer in generator.layers:
        if isinstance(layer, keras.layers.Embedding):
            shape = layer.get_weights()[0].shape
            layer.set_weights([rng.normal(1.0, 0.3, size=shape).astype("float32")])
    noise = np.random.default_rng(0).standard_normal((1, 100)).astype("float32")
    outputs = [np.asarray(generator([noise, np.array([c], "int32")], training=False))
               for c in (3, 3, 7)]
    np.testing.assert_array_equal(outputs[0], outputs[1])  # same label and noise: same image
    assert np.abs(outputs[0] - outputs[2]).mean() > 1e-4     # only the label changed


def test_cgan_discriminator_sees_the_label():
    _, _, discriminator = _networks("cgan")
    image = np.random.default_rng(0).uniform(-1, 1, (1, 32, 32, 3)).astype("float32")
    a = discriminator([image, np.array([1], "int32")], training=False)
    b = discriminator([image, np.array([8], "int32")], training=False)
    assert float(np.abs(np.asarray(a) - np.asarray(b)).max()) > 1e-6


def test_projection_logit_is_psi_plus_embedding_row_dot_features():
    _, discriminator = _nets("projection")
    rng = np.random.default_rng(0)
    # Non-trivial embedding rows, so that a wrong row or a missing term would show.
    table = discriminator.get_layer("label_embedding")
    table.set_weights([rng.normal(size=table.get_weights()[0].shape).astype("float32")])
    images = rng.uniform(-1, 1, size=(5, *SHAPE)).astype("float32")
    labels = np.array([0, 1, 2, 3, 1], dtype="int32")
    features = keras.Model(discriminator.inputs, discriminator.get_layer("flatten").output)
    phi = features([images, labels], training=False).numpy()
    w, b = discriminator.get_layer("logit").get_weights()
    rows = table.get_weights()[0][labels]
    by_hand = phi @ w[:, 0] + b[0] + np.sum(rows * phi, axis=1)
    got = discriminator([images, labels], training=False).numpy()[:, 0]
    np.testing.assert_allclose(got, by_hand, rtol=1e-5, atol=1e-5)
    # Only the projection term depends on the label: with the same image, two labels differ
    # by exactly <e_a - e_b, phi>.
    same = np.repeat(images[:1], 2, axis=0)
    pair = discriminator([same, np.array([0, 3], "int32")], training=False).numpy()[:, 0]
    table_rows = table.get_weights()[0]
    np.testing.assert_allclose(pair[0] - pair[1], (table_rows[0] - table_rows[3]) @ phi[0],
                               rtol=1e-4, atol=1e-5)
    # The features themselves do not see the label (the label enters only at the end).
    np.testing.assert_allclose(features([same, np.array([0, 3], "int32")]).numpy()[0],
                               features([same, np.array([0, 3], "int32")]).numpy()[1], atol=1e-6)


@pytest.mark.parametrize("design", CGAN_LABEL_CONDITIONING)
def test_generator_output_changes_with_the_label_for_fixed_noise(design):
    generator, discriminator = _nets(design)
    rng = np.random.default_rng(2)
    for layer in generator.layers + discriminator.layers:  # move off the identity init
        if isinstance(layer, keras.layers.Embedding):
            shape = layer.get_weights()[0].shape
            layer.set_weights([rng.normal(1.0, 0.5, size=shape).astype("float32")])
    noise = np.repeat(rng.normal(size=(1, TINY["noise_dim"])).astype("float32"), CLASSES, 0)
    labels = np.arange(CLASSES, dtype="int32")
    images = generator([noise, labels], training=False).numpy()
    for a in range(CLASSES):
        for b in range(a + 1, CLASSES):
            assert np.abs(images[a] - images[b]).max() > 1e-4, (design, a, b)
    # D's logit depends on the label too, for the same image.
    same = np.repeat(images[:1], CLASSES, axis=0)
    logits = discriminator([same, labels], training=False).numpy()[:, 0]
    assert np.ptp(logits) > 1e-5, design


def test_designs_wire_the_label_where_they_say():
    names = {d: ({l.name for l in g.layers}, {l.name for l in d_.layers})
             for d, (g, d_) in ((d, _nets(d)) for d in CGAN_LABEL_CONDITIONING)}
    g, d = names["input-concat"]
    assert "noise_and_label" in g and "image_and_label" in d and "label_embedding" not in d
    g, d = names["projection"]
    assert "noise_and_label" not in g and "label_project_bn_gamma" in g
    assert "image_and_label" not in d and "projection" in d
    g, d = names["projection-d"]
    assert "noise_and_label" in g and "projection" in d
    g, d = names["late-concat"]
    assert "features_and_label" in d and "image_and_label" not in d and "joint_conv" in d


@pytest.mark.parametrize("design", CGAN_LABEL_CONDITIONING)
def test_saved_conditional_models_reload_without_custom_objects(design, tmp_path):
    generator, discriminator = _nets(design)
    noise = np.random.default_rng(3).normal(size=(4, TINY["noise_dim"])).astype("float32")
    labels = np.array([0, 1, 2, 3], dtype="int32")
    for model, inputs in ((generator, [noise, labels]),):
        path = tmp_path / f"{model.name}.keras"
        model.save(path)
        again = keras.saving.load_model(path)
        np.testing.assert_allclose(again(inputs).numpy(), model(inputs).numpy(), atol=1e-6)
    images = generator([noise, labels]).numpy()
    path = tmp_path / "d.keras"
    discriminator.save(path)
    again = keras.saving.load_model(path)
    np.testing.assert_allclose(again([images, labels]).numpy(),
                               discriminator([images, labels]).numpy(), atol=1e-6)
