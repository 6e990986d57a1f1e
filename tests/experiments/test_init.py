"""replication/experiments/__init__.py, the registry: per-dataset overrides, unknown settings,
and saved configs rebuilt with the defaults of the time they were saved."""

from __future__ import annotations

import pytest

from replication.config import ConfigError
from replication.experiments import make_config


def test_per_dataset_overrides_and_the_unknown_setting_error():
    assert make_config("classifier", "report", dataset="mnist").widths == (32, 64, 128)
    assert make_config("classifier", "report", dataset="mnist").flip is False
    assert make_config("classifier", "report").widths == (64, 128, 256)
    assert make_config("dcgan", "quick", dataset="mnist").epochs == 2
    assert make_config("dcgan", "quick").epochs == 4
    assert make_config("dcgan", "quick").precision == "auto"
    # An explicit value beats the dataset override.
    assert make_config("dcgan", "quick", dataset="mnist", epochs=7).epochs == 7
    with pytest.raises(ConfigError, match="vae has no setting noise_dim"):
        make_config("vae", "smoke", noise_dim=3)
    with pytest.raises(ConfigError, match="unknown profile"):
        make_config("vae", "long")


def test_options_of_another_experiment_are_refused():
    with pytest.raises(ConfigError, match="class_loss"):
        make_config("dcgan", "smoke", class_loss="real")
    with pytest.raises(ConfigError, match="mismatched_labels"):
        make_config("acgan", "smoke", mismatched_labels=True)
    with pytest.raises(ConfigError, match="class_weight"):
        make_config("cgan", "smoke", class_weight=2.0)
    with pytest.raises(ConfigError, match="class-loss weight must be positive"):
        make_config("acgan", "smoke", class_weight=0.0)


def test_runs_saved_before_share_fakes_existed_keep_the_old_step():
    from replication.experiments import config_from_dict, make_config

    saved = make_config("dcgan", "report").to_dict()
    assert saved.pop("share_fakes") is True
    assert config_from_dict(saved).share_fakes is False


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
        ("projection", False, 64)
