"""replication/figures/schedule.py: the paper-schedule run's section is drawn, recorded and in
the gallery; a report run is not drawn as one."""

from __future__ import annotations

import json
import shutil

import pytest

from replication import gallery, study
from replication.config import ConfigError
from replication.figures import Context, FigureError, schedule
from replication.runs import RunDir


def test_the_section_is_drawn_recorded_and_in_the_gallery(paper_run, acgan_smoke_run, tmp_path):
    written = schedule.draw_schedule_figures(Context(RunDir(paper_run)),
                                             RunDir(acgan_smoke_run), tmp_path / "figures")
    tmp_path = tmp_path / "figures"
    assert sorted(p.name for p in written) == sorted(schedule.FILES)
    manifest = json.loads((tmp_path / "manifest.json").read_text())["files"]
    entry = manifest["acgan_paper/same_noise.png"]
    assert (entry["profile"], entry["epochs_run"], entry["experiment"]) == ("paper", 3, "acgan")
    text = gallery.build(tmp_path).read_text()
    assert "## AC-GAN at the paper's 6 iterations" in text  # 3 epochs of 50 / 25
    assert "![same_noise.png](acgan_paper/same_noise.png)" in text
    assert "| run | iteration (epoch) | numbers from |" in text  # the table, inline
    # the miniature run departs from the paper profile (batch, examples): the section says so
    assert "at the paper profile's settings but `" in text


def _metrics(run_dir, epochs, fid, accuracy):
    """An ``evaluate.py``-shaped metrics.json (the numbers are the test's own)."""
    result = {"samples": 10000, "extractor": "classifier",
              "model": {"FID": fid, "conditional_accuracy": accuracy, "class_coverage": 7},
              "averaged": {"FID": fid + 1, "conditional_accuracy": accuracy - 0.01,
                           "class_coverage": 6}}
    (run_dir / "metrics.json").write_text(json.dumps(
        {"experiment": "acgan", "epochs": epochs, "gan": {"classifier": result}}))


def test_the_table_has_the_tracked_means_and_the_evaluation_of_each_run(paper_run, tmp_path):
    run = tmp_path / "paper"
    shutil.copytree(paper_run, run)
    tracked = schedule.Tracked(RunDir(run), "paper schedule")
    history = RunDir(run).history()
    # a schedule of 3 epochs: its quarters are epochs 1, 2, 2 and 3, the report's end is 3
    lines = schedule.schedule_table([tracked], report_epoch=3)
    assert len(lines) == 5, lines  # header, rule, three tracked rows: not evaluated yet
    mean_fid = sum(r["fid"] for r in history) / 3
    assert lines[2].startswith("| paper schedule | 2 (1) | tracked, 200 samples, mean of "
                               "epochs 1-1 | ")
    assert f"| paper schedule | 6 (3) | tracked, 200 samples, mean of epochs 1-3 | " \
           f"{mean_fid:.1f} / " in lines[4]
    _metrics(run, epochs=2, fid=55.5, accuracy=0.714)  # made before the last epoch: stale
    assert len(schedule.schedule_table([tracked], 3)) == 5
    _metrics(run, epochs=3, fid=55.5, accuracy=0.714)
    evaluation = schedule.schedule_table([tracked], 3)[-1]
    assert evaluation == ("| paper schedule | 6 (3) | `evaluate`, 10,000 samples | 55.5 / 56.5 "
                          "| 71.4 % / 70.4 % | 7 / 6 |")


def test_a_study_record_without_snapshots_draws_its_curves(paper_run, acgan_smoke_run,
                                                           tmp_path):
    record = tmp_path / "records" / "acgan" / "study-paper" / "real-cls-s0"
    record.mkdir(parents=True)
    for name in study.RECORD_FILES:
        if (paper_run / name).exists():
            shutil.copy(paper_run / name, record / name)
    started = json.loads((paper_run / "config.json").read_text())["started_at"]
    _set_start(record, "2026-01-01T00:00:00+00:00")  # another training than the drawn one
    info = json.loads((record / "config.json").read_text())
    info["config"]["class_loss"] = "real"
    (record / "config.json").write_text(json.dumps(info))
    others = tuple(schedule.schedule_runs("acgan", tmp_path / "records"))
    assert [o.path for o in others] == [record]
    schedule.draw_schedule_figures(Context(RunDir(paper_run)), RunDir(acgan_smoke_run),
                                   tmp_path / "figures", others)
    table = (tmp_path / "figures" / "acgan_paper" / schedule.TABLE_FILE).read_text()
    # the record's row is labelled by its folder and by how it departs from the profile
    row = next(line for line in table.splitlines()
               if line.startswith("| paper schedule, real-cls-s0 (") and "| 6 (3) |" in line)
    assert "--class-loss real" in row and "--track-samples 200" in row
    # a record of the drawn run itself (the same training) is not drawn twice
    _set_start(record, started)
    schedule.draw_schedule_figures(Context(RunDir(paper_run)), RunDir(acgan_smoke_run),
                                   tmp_path / "figures", others)
    table = (tmp_path / "figures" / "acgan_paper" / schedule.TABLE_FILE).read_text()
    assert "real-cls-s0" not in table


def test_a_report_run_is_not_drawn_as_a_paper_run(acgan_smoke_run, tmp_path):
    with pytest.raises(FigureError, match="not one at the paper's schedule"):
        schedule.draw_schedule_figures(Context(RunDir(acgan_smoke_run)), None, tmp_path)


def _set_start(run_dir, started_at):
    info = json.loads((run_dir / "config.json").read_text())
    info["started_at"] = started_at
    (run_dir / "config.json").write_text(json.dumps(info))


def test_study_schedule_prints_the_table_of_the_report_run_and_the_paper_runs(
        paper_run, acgan_smoke_run, tmp_path, monkeypatch, capsys):
    from replication import runs

    pretrained = tmp_path / "pretrained" / "acgan"
    pretrained.mkdir(parents=True)
    for name in ("config.json", "status.json", "history.csv"):
        shutil.copy(acgan_smoke_run / name, pretrained / name)
    monkeypatch.setattr(runs, "PRETRAINED_DIR", tmp_path / "pretrained")
    root = tmp_path / "runs"
    with pytest.raises(ConfigError, match="no acgan run at the paper's schedule"):
        study.schedule_table("acgan", root)
    shutil.copytree(paper_run, root / "acgan" / "paper")
    record = root / "acgan" / "study-paper" / "real-cls-s0"
    shutil.copytree(paper_run, record)
    assert study.main(["schedule", "acgan", "--runs", str(root), "--out",
                       str(tmp_path / "studies")]) == 0
    assert (tmp_path / "studies" / "acgan-paper-schedule.png").stat().st_size > 0
    out = capsys.readouterr().out
    assert out.startswith("| run | iteration (epoch) |")
    labels = [line.split(" | ")[0] for line in out.splitlines()[2:] if line.startswith("|")]
    names = list(dict.fromkeys(labels))
    assert names[:2] == ["| report run (shipped)", "| paper run"] and len(names) == 3
    # the study's run by its folder and its departures from the profile (the miniature's)
    assert names[2].startswith("| paper schedule, real-cls-s0 (") and "--track-samples 200" in names[2]


def test_a_run_is_described_by_the_flags_that_depart_from_its_profile():
    from replication.experiments import make_config

    config = make_config("acgan", "paper").to_dict()
    assert schedule.settings_flags(config) == ""
    # speed settings are not departures; a setting of the model or the loss is
    assert schedule.settings_flags({**config, "precision": "bf16", "xla": "on"}) == ""
    assert schedule.settings_flags({**config, "class_loss": "real"}) == "--class-loss real"
    assert schedule.settings_flags({**config, "seed": 1}) == "--seed 1"


def test_a_study_run_at_the_profiles_settings_says_so(tmp_path):
    from replication.experiments import make_config

    class Record:  # what record_label reads of a RunDir
        def __init__(self, name, config):
            self.path, self._config = tmp_path / name, config

        def info(self):
            return {"config": self._config}

    config = make_config("acgan", "paper").to_dict()
    assert schedule.record_label(Record("baseline-s0", config)) == \
        "paper schedule, baseline-s0 (the profile's settings)"
    assert schedule.record_label(Record("real-cls-s0", {**config, "class_loss": "real"})) == \
        "paper schedule, real-cls-s0 (--class-loss real)"
