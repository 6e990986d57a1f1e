"""replication/experiments/cgan.py: every label design of the config has a builder."""

from __future__ import annotations

import pytest

from replication.config import ConfigError
from replication.experiments import make_config
from replication.experiments.cgan import LABEL_CONDITIONING as CGAN_LABEL_CONDITIONING
from replication.models import dcgan


def test_every_config_design_has_a_builder():
    assert set(CGAN_LABEL_CONDITIONING) == set(dcgan.LABEL_DESIGNS)
    assert make_config("cgan", "smoke").label_conditioning in CGAN_LABEL_CONDITIONING
    with pytest.raises(ConfigError, match="label design"):
        make_config("cgan", "smoke", label_conditioning="sideways")
