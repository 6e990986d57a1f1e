"""replication/experiments/acgan.py: the AC-GAN's settings and weights follow the paper's table."""

from __future__ import annotations

import keras
import pytest

from replication.config import ConfigError
from replication.experiments import make_config
from tests.helpers.builds import report_networks as _networks


def test_acgan_weights_and_hyperparameters_follow_the_paper():
    config, generator, discriminator = _networks("acgan")
    assert (config.batch_size, config.beta_1, config.beta_2, config.leaky_slope) == (100, 0.5, 0.999, 0.2)
    assert config.learning_rate in (1e-4, 2e-4, 3e-4)
    for layer in generator.layers + discriminator.layers:
        if hasattr(layer, "kernel_initializer"):
            init = layer.kernel_initializer
            assert isinstance(init, keras.initializers.RandomNormal) and init.stddev == 0.02
            assert isinstance(layer.bias_initializer, keras.initializers.Zeros)
    assert make_config("acgan", "paper").epochs * 50_000 // 100 == 50_000
    with pytest.raises(ConfigError, match="1e-4, 2e-4 or 3e-4"):
        make_config("acgan", "report", learning_rate=5e-4)
