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
