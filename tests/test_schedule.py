"""The paper-schedule run beside the report's: shipped to ``pretrained/<experiment>_paper``,
found by ``--run paper``, drawn into its own folder and given its own gallery section."""

from __future__ import annotations

import json

import pytest

from replication import gallery
from replication.figures import Context, FigureError, schedule
from replication.runs import RunDir, ShippingError, shipped_name, shipped_run
from replication.shipping import ship_run


@pytest.fixture(scope="module")
def paper_run(tmp_path_factory):
    """The AC-GAN's paper profile in miniature: 3 epochs of 10 iterations."""
    from replication.train import train

    run_dir = tmp_path_factory.mktemp("runs") / "acgan_paper"
    train("acgan", "paper", run_dir=run_dir, verbose=0, epochs=3, batch_size=25,
          train_examples=250, eval_examples=250, track_samples=200)
    return run_dir


def test_a_paper_run_ships_beside_the_report_run(paper_run, acgan_smoke_run, tmp_path):
    assert shipped_name("acgan", "paper") == "acgan_paper"
    assert shipped_name("acgan", "report") == shipped_name("acgan", "smoke") == "acgan"
    shipped = ship_run(paper_run, root=tmp_path)
    assert shipped == tmp_path / "acgan_paper"
    ship_run(acgan_smoke_run, root=tmp_path)
    assert shipped_run("acgan", tmp_path, "paper").path.name == "acgan_paper"
    assert shipped_run("acgan", tmp_path).path.name == "acgan"
    # the shipped paper run keeps what its gallery section reads: the last two epochs' grids
    last = RunDir(shipped).load_snapshot(3)
    assert "samples" in last and "ema_samples" in last
    with pytest.raises(ShippingError, match="at the paper's schedule.*--profile paper"):
        shipped_run("cgan", tmp_path, "paper")
    with pytest.raises(ShippingError, match="no such schedule"):
        shipped_run("acgan", tmp_path, "longer")


def test_the_section_is_drawn_recorded_and_in_the_gallery(paper_run, acgan_smoke_run, tmp_path):
    written = schedule.draw_schedule_figures(Context(RunDir(paper_run)),
                                             Context(RunDir(acgan_smoke_run)), tmp_path)
    assert sorted(p.name for p in written) == sorted(schedule.FILES)
    manifest = json.loads((tmp_path / "manifest.json").read_text())["files"]
    entry = manifest["acgan_paper/same_noise.png"]
    assert (entry["profile"], entry["epochs_run"], entry["experiment"]) == ("paper", 3, "acgan")
    text = gallery.build(tmp_path).read_text()
    assert "## AC-GAN at the paper's 30 iterations" in text  # 3 epochs of 250 / 25
    assert "![same_noise.png](acgan_paper/same_noise.png)" in text


def test_a_report_run_is_not_drawn_as_a_paper_run(acgan_smoke_run, tmp_path):
    with pytest.raises(FigureError, match="not one at the paper's schedule"):
        schedule.draw_schedule_figures(Context(RunDir(acgan_smoke_run)), None, tmp_path)


def test_sample_picks_the_paper_run(paper_run, tmp_path):
    from replication.sample import sample

    out = sample("acgan", run_dir=paper_run, klass="cat", n=4, out=tmp_path / "cat.png")
    assert out.stat().st_size > 1000
