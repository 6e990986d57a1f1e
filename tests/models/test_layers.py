"""replication/models/layers.py: class-conditional BatchNorm uses the row of each class."""

from __future__ import annotations

import keras
import numpy as np

from tests.helpers.builds import TINY
from tests.helpers.builds import design_nets as _nets


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


def _pair(affine=True, channels=6, seed=0):
    """A Keras BatchNorm and a fused one with the same (non-trivial) weights and statistics."""
    from replication.models.layers import batch_norm

    rng = np.random.default_rng(seed)
    plain, fused = batch_norm("bn", affine), batch_norm("bn", affine, fused=True)
    for layer in (plain, fused):
        layer.build((None, 5, 4, channels))
    weights = [rng.uniform(0.5, 2.0, size=w.shape).astype("float32") if "variance" in w.path
               or "gamma" in w.path else rng.normal(size=w.shape).astype("float32")
               for w in plain.weights]
    plain.set_weights(weights)
    fused.set_weights(weights)
    return plain, fused


def test_fused_batchnorm_is_keras_batchnorm_in_training_and_inference():
    import tensorflow as tf

    for affine in (True, False):
        plain, fused = _pair(affine)
        rng = np.random.default_rng(2)
        x = tf.constant(rng.normal(3.0, 2.0, (8, 5, 4, 6)), tf.float32)
        weights = tf.constant(rng.normal(size=(8, 5, 4, 6)), tf.float32)
        grads = []
        for layer in (plain, fused):
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = layer(x, training=True)
                loss = tf.reduce_sum(y * weights)
            grads.append(tape.gradient(loss, [x] + layer.trainable_weights))
            grads[-1].append(y)
        for a, b in zip(*grads):
            np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-4, atol=1e-4)
        # The moving statistics moved the same way (the biased batch variance, momentum 0.9).
        for a, b in zip(plain.non_trainable_weights, fused.non_trainable_weights):
            np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(fused(x, training=False).numpy(),
                                   plain(x, training=False).numpy(), rtol=1e-5, atol=1e-5)


def test_fused_batchnorm_under_bf16_reads_bf16_and_keeps_float32_statistics():
    import tensorflow as tf

    plain, fused = _pair()
    x32 = np.random.default_rng(3).normal(0.5, 1.5, (8, 5, 4, 6)).astype("float32")
    x = tf.cast(x32, tf.bfloat16)
    for layer in (plain, fused):
        layer.dtype_policy = keras.DTypePolicy("mixed_bfloat16")
    y_plain, y_fused = plain(x, training=True), fused(x, training=True)
    assert y_fused.dtype == tf.bfloat16 and fused.moving_mean.dtype == "float32"
    np.testing.assert_allclose(tf.cast(y_fused, tf.float32).numpy(),
                               tf.cast(y_plain, tf.float32).numpy(), rtol=2e-2, atol=2e-2)
    np.testing.assert_allclose(fused.moving_variance.numpy(), plain.moving_variance.numpy(),
                               rtol=1e-3)


def test_a_network_with_fused_batchnorm_saves_as_standard_keras_layers(tmp_path):
    import json
    import zipfile

    from replication.experiments.base import save_keras
    from replication.models import dcgan
    from replication.models.layers import FusedBatchNormalization

    generator = dcgan.build_generator((16, 16, 1), 8, (16, 8), 4, 0.02, num_classes=3,
                                      label_way="cbn", fused_norm=True)
    assert any(isinstance(l, FusedBatchNormalization) for l in generator.layers)
    path = save_keras(generator, tmp_path / "g.keras")
    with zipfile.ZipFile(path) as archive:
        saved = json.loads(archive.read("config.json"))
    names = {l["class_name"] for l in saved["config"]["layers"]}
    assert "BatchNormalization" in names and "FusedBatchNormalization" not in names
    assert "replication" not in json.dumps(saved)
    loaded = keras.saving.load_model(path)
    rng = np.random.default_rng(4)
    noise, labels = rng.normal(size=(5, 8)).astype("float32"), np.array([0, 1, 2, 1, 0])
    np.testing.assert_allclose(loaded([noise, labels], training=False).numpy(),
                               generator([noise, labels], training=False).numpy(),
                               rtol=1e-5, atol=1e-5)
