"""replication/models/__init__.py (``replication.load_model``): a truncated model is named as
damaged, a missing one is still missing."""

from __future__ import annotations

import pytest

from replication import load_model
from replication.__main__ import main
from replication.errors import DamagedFileError
from tests.helpers.files import one_line_error as _one_line_error
from tests.helpers.files import truncate as _truncate


def test_a_truncated_model_is_named_not_reported_missing(vae_copy, capsys):
    model = vae_copy / "model" / "vae.keras"
    _truncate(model, 20_000)
    size = model.stat().st_size
    with pytest.raises(DamagedFileError, match="vae.keras is damaged"):
        load_model(model)
    assert main(["sample", "vae", "--run-dir", str(vae_copy), "--out",
                 str(vae_copy / "x.png")]) == 2
    _one_line_error(capsys, "vae.keras", "damaged", "not a complete .keras archive")
    assert model.stat().st_size == size and not (vae_copy / "x.png").exists()


def test_a_missing_model_is_still_missing(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "nothing.keras")
