"""replication/experiments/effnet_vae.py: the encoder setting is validated; saved configs
without it had EfficientNet-B0."""

from __future__ import annotations

import pytest


def test_the_encoder_setting_is_validated_and_old_configs_are_b0():
    from replication.config import ConfigError

    # The report profile: the EfficientNet whose ImageNet weights can be had offline.
    from replication.experiments import config_from_dict, make_config

    # The report profile: the EfficientNet whose ImageNet weights can be had offline.
    assert make_config("effnet_vae", "report").encoder == "efficientnet-lite0"
    with pytest.raises(ConfigError, match="unknown encoder"):
        make_config("effnet_vae", "smoke", encoder="efficientnet-b7")
    saved = make_config("effnet_vae", "smoke").to_dict()
    del saved["encoder"]
    assert config_from_dict(saved).encoder == "efficientnet-b0"
