"""replication/models/acgan.py: the AC-GAN's networks read back as the paper's table; the
activation-noise option."""

from __future__ import annotations

import keras

from replication.models.acgan import TABLE_HEADER, architecture_rows
from tests.helpers.builds import report_networks as _networks
from tests.helpers.expected import SPEC_TABLE


def test_table1_matches_spec_row_by_row():
    _, generator, discriminator = _networks("acgan")
    assert TABLE_HEADER == ["operation", "kernel", "strides", "feature maps", "BN?", "dropout",
                            "nonlinearity"]
    rows = architecture_rows(generator, discriminator)
    assert len(rows) == len(SPEC_TABLE)
    for got, want in zip(rows, SPEC_TABLE):
        assert got == want


def test_activation_noise_option_adds_gaussian_noise_layers():
    _, _, plain = _networks("acgan")
    _, _, noisy = _networks("acgan", activation_noise=0.1)
    assert not any(isinstance(l, keras.layers.GaussianNoise) for l in plain.layers)
    noise = [l for l in noisy.layers if isinstance(l, keras.layers.GaussianNoise)]
    assert len(noise) == 7 and all(l.stddev == 0.1 for l in noise)
