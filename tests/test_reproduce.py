"""replication/reproduce.py in-process: a run started at other settings is refused, not reused;
redrawing from the shipped runs trains nothing (the killed-and-resumed reproduce_all runs in
tests/e2e/test_reproduce_all.py)."""

from __future__ import annotations

import json

import pytest


def test_a_run_started_at_other_settings_is_refused_not_reused(dcgan_smoke_run, tmp_path, capsys):
    """After a profile default changes, an old finished (or half-done) run in runs/ would be
    drawn as if it showed the new choice: reproduce stops with one line naming the setting."""
    import shutil

    from replication.reproduce import main

    run = tmp_path / "runs" / "dcgan" / "smoke"
    shutil.copytree(dcgan_smoke_run, run)
    saved = json.loads((run / "config.json").read_text())
    saved["config"]["real_label"] = 0.9
    (run / "config.json").write_text(json.dumps(saved))
    code = main(["--profile", "smoke", "--only", "dcgan", "--quiet", "--runs",
                 str(tmp_path / "runs"), "--out", str(tmp_path / "figures")])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "real_label 0.9 (now 1.0)" in err[0] and "move that folder" in err[0]
    assert not (tmp_path / "figures" / "fig11.png").exists()
    saved["config"]["real_label"] = 1.0  # back at the profile's settings: reused, drawn only
    (run / "config.json").write_text(json.dumps(saved))
    assert main(["--profile", "smoke", "--only", "dcgan", "--quiet", "--runs",
                 str(tmp_path / "runs"), "--out", str(tmp_path / "figures")]) == 0
    assert "reusing the finished run" in capsys.readouterr().out


def test_redraw_from_shipped_runs_trains_nothing(shipped, tmp_path, monkeypatch, capsys):
    from replication import reproduce, runs

    monkeypatch.setattr(runs, "PRETRAINED_DIR", shipped)
    monkeypatch.setattr("replication.train.train", lambda *a, **k: pytest.fail("trained"))
    out = tmp_path / "out"
    assert reproduce.main(["--pretrained", "--only", "vae,cgan", "--out", str(out)]) == 0
    manifest = json.loads((out / "manifest.json").read_text())["files"]
    assert {"fig02.png", "vae_grid.gif", "fig20.png", "cgan.gif"} <= set(manifest)
    assert {e["run"] for e in manifest.values()} == {str(shipped / "vae"), str(shipped / "cgan")}
    assert "overview.png" not in manifest  # not every panel's run was redrawn
    assert (out / "README.md").exists()
    assert "redrawn from the shipped runs" in capsys.readouterr().out
    # a shipped run that is missing: one line, exit 2
    assert reproduce.main(["--pretrained", "--only", "dcgan", "--out", str(out)]) == 2


def test_redraw_adds_the_paper_schedule_section_with_its_study_records(
        acgan_smoke_run, paper_run, tmp_path, monkeypatch):
    """A shipped AC-GAN at the paper's schedule beside the report's: ``--pretrained`` draws its
    section (the curves and the table with the study runs recorded at that schedule, records
    without snapshots) into the gallery; the report's own figures stay the report run's."""
    import shutil

    from replication import reproduce, runs, study
    from replication.shipping import ship_run

    root = tmp_path / "pretrained"
    ship_run(acgan_smoke_run, root=root)
    ship_run(paper_run, root=root)
    records = tmp_path / "records"
    record = records / "acgan" / "study-paper" / "real-cls-s0"
    record.mkdir(parents=True)
    for name in ("config.json", "status.json", "history.csv"):
        shutil.copy(paper_run / name, record / name)
    info = json.loads((record / "config.json").read_text())
    info["started_at"] = "2026-01-01T00:00:00+00:00"  # another training than the shipped one
    (record / "config.json").write_text(json.dumps(info))
    monkeypatch.setattr(runs, "PRETRAINED_DIR", root)
    monkeypatch.setattr(study, "RECORDS", records)
    out = tmp_path / "out"
    assert reproduce.main(["--pretrained", "--only", "acgan", "--out", str(out)]) == 0
    manifest = json.loads((out / "manifest.json").read_text())["files"]
    assert manifest["fig27.png"]["run"] == str(root / "acgan")
    assert manifest["acgan_paper/curves.png"]["run"] == str(root / "acgan_paper")
    gallery = (out / "README.md").read_text()
    assert "## AC-GAN at the paper's" in gallery
    # the record by its folder and its departures from the profile (the miniature's batch)
    assert "| paper schedule, real-cls-s0 (train_examples=200" in gallery
