"""replication/errors.py: the error policy (exit code 2 for bad input, 1 for a run that
stopped, bugs not hidden) and every error class of the package following it."""

from __future__ import annotations

import pytest

from replication.config import ConfigError
from replication.errors import ReplicationError, RunError, run_command


def test_run_command_maps_errors_to_exit_codes_and_lets_bugs_through(capsys):
    def bad_input():
        raise ConfigError("a bad value")

    def stopped():
        raise RunError("stopped; kept epoch 3")

    assert run_command(bad_input) == 2
    assert run_command(stopped, hint="rerun to continue") == 1
    err = capsys.readouterr().err.splitlines()
    assert err == ["error: a bad value", "error: stopped; kept epoch 3; rerun to continue"]
    assert issubclass(ConfigError, ReplicationError)
    with pytest.raises(ZeroDivisionError):  # a bug is not a user error: it is not hidden
        run_command(lambda: 1 / 0)


def test_every_error_class_of_the_package_follows_the_policy():
    from replication.checkpoint import CheckpointError
    from replication.data import DataError
    from replication.distribute import StrategyError
    from replication.extractors import ExtractorError
    from replication.figures import FigureError
    from replication.models.efficientnet_vae import EncoderWeightsError
    from replication.train import TrainingError

    for cls in (ConfigError, DataError, StrategyError, ExtractorError, FigureError,
                EncoderWeightsError):
        assert issubclass(cls, ReplicationError) and cls.exit_code == 2, cls
    for cls in (TrainingError, CheckpointError):
        assert issubclass(cls, RunError) and cls.exit_code == 1, cls
