"""replication/config.py: the checks every configuration makes of its shared settings."""

from __future__ import annotations

import pytest

from replication.config import ConfigError
from replication.experiments import make_config


def test_bad_lever_settings_are_config_errors():
    with pytest.raises(ConfigError, match="unknown precision 'fp8'"):
        make_config("dcgan", "smoke", precision="fp8")
    with pytest.raises(ConfigError, match="unknown xla setting"):
        make_config("vae", "smoke", xla="maybe")


def test_label_smoothing_is_refused_for_the_wasserstein_critic():
    with pytest.raises(ConfigError, match="wasserstein"):
        make_config("dcgan", "smoke", loss="wasserstein", real_label=0.9)
    with pytest.raises(ConfigError, match="real-label"):
        make_config("dcgan", "smoke", real_label=0.0)
