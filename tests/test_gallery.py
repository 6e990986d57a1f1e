"""replication/gallery.py: the committed gallery lists every SPEC figure id with its file; a
run's hand-written note survives rebuilds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from replication import experiments
from replication.figures import FIGURES
from tests.helpers.expected import SPEC_IDS

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("folder", [ROOT / "figures"])
def test_committed_gallery_has_every_spec_id_and_its_file(folder):
    gallery = (folder / "README.md").read_text()
    manifest = json.loads((folder / "manifest.json").read_text())["files"]
    for fid in SPEC_IDS:
        spec = FIGURES[fid]
        assert f"### {fid}" in gallery, fid
        assert (folder / spec.filename).exists(), spec.filename
        assert spec.filename in manifest, spec.filename


def test_gallery_shows_a_run_note_and_keeps_it_across_rebuilds(tmp_path):
    from replication import gallery

    (tmp_path / "notes").mkdir()
    note = "**This run collapsed in its last two epochs** (written by hand)."
    (tmp_path / "notes" / "dcgan.md").write_text(note + "\n")
    for _ in range(2):  # rebuilding never drops the note
        text = gallery.build(tmp_path).read_text()
        section = text.split(f"## {experiments.get('dcgan').section}")[1].split("\n## ")[0]
        assert note in section
        assert text.count(note) == 1
    # An experiment without a note gets none.
    vae = text.split(f"## {experiments.get('vae').section}")[1].split("\n## ")[0]
    assert "written by hand" not in vae


def test_the_reports_remark_is_answered_from_the_runs_metrics(tmp_path):
    """The gallery's answer to the report's remark (the AC-GAN's samples more alike within a
    class) is computed from each conditional run's metrics.json, space by space."""
    import json

    from replication.gallery import remark_section

    def run(name, experiment, spread):
        path = tmp_path / name
        path.mkdir()
        row = {"within_class_spread": spread, "intra_class_FID": 2 * spread, "recall": 0.5}
        (path / "metrics.json").write_text(json.dumps({"experiment": experiment, "gan": {
            "lite0": {"real_within_class_spread": 10.0, "model": row, "averaged": row}}}))
        return str(path)

    manifest = {"fig20.png": {"run": run("c", "cgan", 9.0)},
                "fig27.png": {"run": run("a", "acgan", 7.0)},
                "fig11.png": {"run": str(tmp_path / "missing")}}
    text = "\n".join(remark_section(manifest))
    assert "(seed ?) | lite0 | 90 % / 90 % | 18.0 / 18.0 | 0.500 / 0.500 |" in text
    assert "the lite0 space, `" + str(tmp_path / "a") + "`'s samples are more alike" in text
    assert "70 % against 90 %" in text
    assert remark_section({"fig11.png": {"run": str(tmp_path / "missing")}}) == []
