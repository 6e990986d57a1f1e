"""The conditional GAN's label designs (replication.models.dcgan): each wires the label where
it says, computed by hand on tiny networks, and survives saving."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from replication.config import ConfigError
from replication.experiments import make_config
from replication.experiments.cgan import LABEL_CONDITIONING as CGAN_LABEL_CONDITIONING
from replication.experiments import get as get_experiment
from replication.models import dcgan
from replication.models.gan import GAN

SHAPE, CLASSES = (8, 8, 3), 4  # one stride-2 stage: 8 = 4 * 2
TINY = dict(noise_dim=6, gen_filters=(8, 4), disc_filters=(4, 8))


def _nets(design, **overrides):
    config = make_config("cgan", "smoke", label_conditioning=design, **{**TINY, **overrides})
    keras.utils.set_random_seed(0)
    return get_experiment("cgan").networks(config, SHAPE, CLASSES)


def test_every_config_design_has_a_builder():
    assert set(CGAN_LABEL_CONDITIONING) == set(dcgan.LABEL_DESIGNS)
    assert make_config("cgan", "smoke").label_conditioning in CGAN_LABEL_CONDITIONING
    with pytest.raises(ConfigError, match="label design"):
        make_config("cgan", "smoke", label_conditioning="sideways")


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


def test_conditional_batchnorm_uses_the_row_of_each_class():
    generator, _ = _nets("projection")
    rng = np.random.default_rng(1)
    gamma = generator.get_layer("label_project_bn_gamma")
    beta = generator.get_layer("label_project_bn_beta")
    gamma.set_weights([rng.uniform(0.5, 2.0, size=gamma.get_weights()[0].shape).astype("float32")])
    beta.set_weights([rng.normal(size=beta.get_weights()[0].shape).astype("float32")])
    noise = rng.normal(size=(3, TINY["noise_dim"])).astype("float32")
    labels = np.array([2, 0, 3], dtype="int32")
    before = keras.Model(generator.inputs, generator.get_layer("reshape").output)
    after = keras.Model(generator.inputs, generator.get_layer("project_bn_class_shift").output)
    x = before([noise, labels], training=False).numpy()
    bn = generator.get_layer("project_bn")
    mean, var = bn.moving_mean.numpy(), bn.moving_variance.numpy()
    normalised = (x - mean) / np.sqrt(var + bn.epsilon)
    g_rows, b_rows = gamma.get_weights()[0][labels], beta.get_weights()[0][labels]
    by_hand = normalised * g_rows[:, None, None, :] + b_rows[:, None, None, :]
    np.testing.assert_allclose(after([noise, labels], training=False).numpy(), by_hand,
                               rtol=1e-5, atol=1e-5)
    # Plain BatchNorm underneath: no learned scale or shift of its own.
    assert bn.scale is False and bn.center is False
    # Every BatchNorm of G is conditional.
    norms = [l for l in generator.layers if isinstance(l, keras.layers.BatchNormalization)]
    assert norms and all(not l.scale for l in norms)
    assert len([l for l in generator.layers if l.name.endswith("_gamma")]) == len(norms)


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


def test_the_structure_diagram_shows_where_the_label_enters():
    """fig13 is drawn from the run's networks: its blocks name each design's label path."""
    from replication.plots import model_blocks

    def ops(model):
        return " ".join(op for block in model_blocks(model) for op in block["ops"])

    generator, discriminator = _nets("projection")
    assert "× γ[y]" in ops(generator) and "join one-hot label" not in ops(generator)
    assert "⟨embed(y), φ(x)⟩" in ops(discriminator)
    generator, discriminator = _nets("input-concat")
    assert "join one-hot label" in ops(generator) and "γ[y]" not in ops(generator)
    assert "join one-hot label" in ops(discriminator) and "embed(y)" not in ops(discriminator)
    _, discriminator = _nets("late-concat")
    blocks = model_blocks(discriminator)
    joined = next(i for i, b in enumerate(blocks) if "join one-hot label" in " ".join(b["ops"]))
    assert blocks[joined]["shape"][:2] == (4, 4)  # the label meets the 4x4 features


def test_a_run_saved_before_the_setting_resumes_with_its_own_design():
    """Runs saved before label_conditioning existed joined the label at both inputs; the
    report defaults changed since, but such a run keeps its design (and batch, pairs)."""
    from replication.experiments import config_from_dict

    saved = make_config("cgan", "report").to_dict()
    saved.update(batch_size=128, mismatched_labels=False)
    del saved["label_conditioning"]
    config = config_from_dict(saved)
    assert (config.label_conditioning, config.batch_size, config.mismatched_labels) == \
        ("input-concat", 128, False)
    report = make_config("cgan", "report")
    assert (report.label_conditioning, report.mismatched_labels, report.batch_size) == \
        ("projection", True, 64)
