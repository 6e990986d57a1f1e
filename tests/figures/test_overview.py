"""replication/figures/overview.py: the final grids side by side."""

from __future__ import annotations

import json

from tests.helpers.images import read_image as _images


def test_overview_puts_the_final_grids_side_by_side(tmp_path, vae_smoke_run, cgan_smoke_run):
    from replication.figures.overview import draw_overview

    path = draw_overview({"vae": vae_smoke_run, "cgan": cgan_smoke_run}, tmp_path)
    assert path == tmp_path / "overview.png" and _images(path).shape[1] > 600
    entry = json.loads((tmp_path / "manifest.json").read_text())["files"]["overview.png"]
    assert entry["runs"] == {"vae": str(vae_smoke_run), "cgan": str(cgan_smoke_run)}
    assert entry["epochs_run"] == {"vae": 2, "cgan": 2}
    assert draw_overview({}, tmp_path / "none") is None


def test_a_short_runs_overview_has_the_shipped_report_runs_beside_it(vae_smoke_run,
                                                                     cgan_smoke_run, tmp_path):
    """After a short profile, a second row: the shipped report run under each panel (a missing
    one leaves its place empty), named in the manifest; twice the height of one row."""
    from replication.figures.overview import draw_overview

    one = draw_overview({"vae": vae_smoke_run, "cgan": cgan_smoke_run}, tmp_path / "one")
    two = draw_overview({"vae": vae_smoke_run, "cgan": cgan_smoke_run}, tmp_path / "two",
                        beside={"cgan": cgan_smoke_run})
    assert _images(two).shape[0] > 1.7 * _images(one).shape[0]
    entry = json.loads((tmp_path / "two" / "manifest.json").read_text())["files"]["overview.png"]
    assert entry["beside"] == {"cgan": str(cgan_smoke_run)}
    assert "beside the shipped report runs" in entry["caption"]
