"""replication/figures/schedule.py: the paper-schedule run's section is drawn, recorded and in
the gallery; a report run is not drawn as one."""

from __future__ import annotations

import json

import pytest

from replication import gallery
from replication.figures import Context, FigureError, schedule
from replication.runs import RunDir


def test_the_section_is_drawn_recorded_and_in_the_gallery(paper_run, acgan_smoke_run, tmp_path):
    written = schedule.draw_schedule_figures(Context(RunDir(paper_run)),
                                             Context(RunDir(acgan_smoke_run)), tmp_path)
    assert sorted(p.name for p in written) == sorted(schedule.FILES)
    manifest = json.loads((tmp_path / "manifest.json").read_text())["files"]
    entry = manifest["acgan_paper/same_noise.png"]
    assert (entry["profile"], entry["epochs_run"], entry["experiment"]) == ("paper", 3, "acgan")
    text = gallery.build(tmp_path).read_text()
    assert "## AC-GAN at the paper's 6 iterations" in text  # 3 epochs of 50 / 25
    assert "![same_noise.png](acgan_paper/same_noise.png)" in text


def test_a_report_run_is_not_drawn_as_a_paper_run(acgan_smoke_run, tmp_path):
    with pytest.raises(FigureError, match="not one at the paper's schedule"):
        schedule.draw_schedule_figures(Context(RunDir(acgan_smoke_run)), None, tmp_path)
