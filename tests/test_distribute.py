"""replication/distribute.py: clear strategy errors; only the chief writes (the two-process
runs are in tests/e2e/test_distribute.py)."""

from __future__ import annotations

import json

import pytest

from replication.__main__ import main
from replication.distribute import StrategyError, is_chief, make_strategy


def test_strategy_errors_are_clear(monkeypatch, capsys, tmp_path):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    import tensorflow as tf

    if not tf.config.list_logical_devices("GPU"):
        with pytest.raises(StrategyError, match="no GPU"):
            make_strategy("mirrored")
    with pytest.raises(StrategyError, match="TF_CONFIG"):
        make_strategy("multiworker")
    code = main(["train", "vae", "--profile", "smoke", "--strategy", "multiworker",
                 "--run-dir", str(tmp_path / "r")])
    assert code == 2 and "TF_CONFIG" in capsys.readouterr().err


@pytest.mark.parametrize("config, chief", [
    (None, True),
    ({"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 0}}, True),
    ({"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 1}}, False),
    ({"cluster": {"chief": ["c:0"], "worker": ["a:1"]}, "task": {"type": "worker", "index": 0}}, False),
    ({"cluster": {"chief": ["c:0"], "worker": ["a:1"]}, "task": {"type": "chief", "index": 0}}, True),
])
def test_only_the_chief_writes(monkeypatch, config, chief):
    if config is None:
        monkeypatch.delenv("TF_CONFIG", raising=False)
    else:
        monkeypatch.setenv("TF_CONFIG", json.dumps(config))
    assert is_chief() is chief
