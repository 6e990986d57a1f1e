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


def test_the_estimate_scales_each_stage_by_this_machines_probed_step_against_the_reference(
        tmp_path):
    """On a CPU not measured, each stage's reference time (the Zen 4's) times its probed step's
    time over the reference's; a machine twice as fast at a stage's step is estimated at half."""
    from replication import experiments
    from replication.estimate import REFERENCE_CPU, Plan, estimate_seconds
    from replication.experiments import make_config

    stages = ["vae", "effnet_vae", "dcgan"]
    step = {s: experiments.get(s).reference_seconds[REFERENCE_CPU][0] for s in stages}
    speed = {"vae": 2.0, "effnet_vae": 1.0, "dcgan": 0.5}  # this machine against the Zen 4
    asked = []
    plan = Plan(stages, "quick", tmp_path)
    note = plan.calibrate("fp32", probe=lambda s, *a: asked.append((s, *a)) or step[s] / speed[s],
                          cpu=None)  # a CPU not measured
    assert plan.remaining_seconds() == pytest.approx(
        sum(estimate_seconds(s, "quick") / speed[s] for s in stages))
    assert asked == [(s, "quick", "fp32", "bundled") for s in stages]  # the job's precision
    assert "vae 0.50" in note and "dcgan 2.00" in note
    # As fast as the reference: the reference's times; the smoke profile is not probed.
    reference = sum(estimate_seconds(s, "quick") for s in stages)
    same = Plan(stages, "quick", tmp_path)
    same.calibrate(probe=lambda s, *a: step[s], cpu=None)
    assert same.remaining_seconds() == pytest.approx(reference)
    smoke = Plan(stages, "smoke", tmp_path)
    assert smoke.calibrate(probe=lambda *a: pytest.fail("probed"), cpu=None) == ""
    # A stage already trained is not probed; a probe that fails leaves the reference's time.
    resumed = Plan(stages, "quick", tmp_path)
    resumed.done_epochs["vae"] = make_config("vae", "quick").epochs

    def probe(stage, *args):
        if stage == "vae":
            pytest.fail("a finished stage probed")
        if stage == "dcgan":
            raise RuntimeError("no memory")
        return step[stage] / speed[stage]

    note = resumed.calibrate(probe=probe, cpu=None, source="tfds")
    assert set(resumed.factors) == {"effnet_vae"} and "dcgan: RuntimeError" in note
    resumed.finished.add("vae")
    assert resumed.remaining_seconds() == pytest.approx(
        estimate_seconds("effnet_vae", "quick") + estimate_seconds("dcgan", "quick"))
    # A CPU measured: its own table, no probe.
    zen5 = Plan(stages, "quick", tmp_path)
    assert "Zen 5" in zen5.calibrate(probe=lambda *a: pytest.fail("probed"), cpu="zen5")
    assert zen5.remaining_seconds() == pytest.approx(
        sum(estimate_seconds(s, "quick", cpu="zen5") for s in stages))
    assert zen5.remaining_seconds() != pytest.approx(reference)
    # Measured epochs then correct the estimate: a stage running at the estimate keeps it.
    plan.start_stage(0)
    plan._stage_started[0] -= (estimate_seconds("vae", "quick") - estimate_seconds(
        "vae", "quick", 1)) / 2
    plan.epoch_done(0, 1)
    assert plan.speed == pytest.approx(1.0, rel=0.05)


def test_the_probe_times_real_steps_and_leaves_training_as_a_fresh_process_has_it(tmp_path):
    """The probe builds and steps a model before the stages train; the run trained after it is
    the run trained without it (the same weights)."""
    import numpy as np

    from replication import load_model
    from replication.estimate import probe_step_seconds
    from replication.train import train

    def weights(name):
        run = train("dcgan", "smoke", run_dir=tmp_path / name, verbose=0, epochs=1)
        return load_model(run.path / "model" / "generator.keras", compile=False).get_weights()

    before = weights("a")  # the smoke profile trains in fp32; the probe steps in bf16
    seconds = probe_step_seconds("dcgan", "smoke", "bf16")
    assert 0 < seconds < 60
    after = weights("b")
    assert len(before) == len(after) > 0
    assert all(np.array_equal(x, y) for x, y in zip(before, after))


def test_the_probes_reference_is_the_benchmarks_step_on_the_reference_cpu():
    """The Zen 4's table (from its main job) and its benchmark record agree on the GANs' steps
    (the probe's reference): the same step, timed two ways."""
    from pathlib import Path

    from replication import experiments
    from replication.estimate import REFERENCE_CPU

    folder = Path(__file__).resolve().parent.parent / "docs" / "bench" / "2026-12-07-zen4"
    record = json.loads((folder / "bench-bf16.json").read_text())
    assert "family 25, model 17" in record["device"]  # the Zen 4 (levers.MEASURED_CPUS)
    assert {r["model"] for r in record["results"]} == {"dcgan", "cgan", "acgan"}
    for bench in record["results"]:
        table = experiments.get(bench["model"]).reference_seconds[REFERENCE_CPU][0]
        assert table == pytest.approx(bench["step_seconds_fit"], rel=0.05), bench["model"]


def test_the_measured_cpus_are_recognised_from_cpuinfo():
    from replication import experiments
    from replication.levers import MEASURED_CPUS, measured_cpu

    zen5 = "vendor_id\t: AuthenticAMD\ncpu family\t: 26\nmodel\t\t: 2\nflags\t: avx2\n"
    assert measured_cpu(zen5) == "zen5"
    assert measured_cpu(zen5.replace(": 2\n", ": 3\n")) is None
    assert measured_cpu("model name : something\n") is None
    for name in experiments.names():  # every experiment has a table for every measured CPU
        assert set(experiments.get(name).reference_seconds) == set(MEASURED_CPUS), name


@pytest.mark.parametrize("cpu, log", [("zen5", "2026-12-07-zen5/quick-trial-2.log"),
                                      ("xeon207", "2026-12-07-xeon207/quick-trial-1.log")])
def test_the_measured_cpus_tables_are_their_main_jobs_timings(cpu, log):
    """A measured CPU's reference_seconds are what stage_timings reads from its main job's log."""
    from pathlib import Path

    from replication import experiments
    from replication.estimate import stage_timings

    text = (Path(__file__).resolve().parent.parent / "docs" / "bench" / log).read_text()
    measured = stage_timings(text)
    assert set(measured) == set(experiments.names())
    for name, timings in measured.items():
        assert experiments.get(name).reference_seconds[cpu] == pytest.approx(timings), name
