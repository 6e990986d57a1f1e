"""replication/experiments/cgan.py: the label designs come from the vocabulary, each with both
networks' ways, and a design the vocabulary lacks is one clear error."""

from __future__ import annotations

import pytest

from replication.config import ConfigError
from replication.experiments import make_config
from replication.models import dcgan
from replication.vocabulary import LABEL_DESIGNS


def test_every_design_names_a_way_for_each_network():
    assert make_config("cgan", "smoke").label_conditioning in LABEL_DESIGNS
    for name, design in LABEL_DESIGNS.items():
        assert dcgan.label_ways(name) == (design.generator, design.discriminator)
        assert design.generator in ("concat", "cbn")
        assert design.discriminator in ("planes", "projection", "late")
    with pytest.raises(ConfigError, match="unknown label design 'sideways'"):
        make_config("cgan", "smoke", label_conditioning="sideways")
    with pytest.raises(ValueError, match="unknown label design"):
        dcgan.label_ways("sideways")
