"""replication/figures/core.py: the registry holds every SPEC figure id in order, and each
per-figure script names one registered figure."""

from __future__ import annotations

from pathlib import Path

from replication.figures import FIGURES
from tests.helpers.expected import Q1_FILES, SPEC_IDS

ROOT = Path(__file__).resolve().parent.parent.parent


def test_registry_covers_every_spec_id_in_order():
    assert list(FIGURES) == SPEC_IDS


def test_every_script_names_a_registered_figure():
    scripts = [s for s in (ROOT / "scripts").glob("*.py") if "script_main(" in s.read_text()]
    assert len(scripts) >= len(Q1_FILES)
    for script in scripts:
        text = script.read_text()
        ids = [fid for fid in FIGURES if f'script_main("{fid}")' in text]
        assert len(ids) == 1, script.name
