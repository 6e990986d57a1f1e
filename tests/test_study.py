"""scripts/study.py on the smoke profile: the screening pass pauses every run, the same command
without --stop-after finishes them, and the table and figure follow what is on disk."""

from __future__ import annotations

import json

import pytest

from replication import study
from replication.config import ConfigError
from replication.runs import RunDir


@pytest.fixture(scope="module")
def screened(tmp_path_factory):
    """DCGAN study (baseline and label smoothing, seed 0) on the smoke profile, stopped after
    epoch 1 of 2: the screening pass of the real study, in seconds."""
    root = tmp_path_factory.mktemp("study")
    assert study.main(["run", "dcgan", "--profile", "smoke", "--seeds", "0", "--stop-after",
                       "1", "--runs", str(root)]) == 0
    return root


def test_screening_pauses_every_variant_at_its_own_settings(screened):
    for variant in study.variants_of("dcgan"):
        path = screened / "dcgan" / "study-smoke" / f"{variant.name}-s0"
        info = RunDir(path).info()
        assert (info["state"], info["epochs_done"]) == ("paused", 1)
        config = json.loads((path / "config.json").read_text())["config"]
        assert config["profile"] == "smoke" and config["seed"] == 0
        for key, value in variant.settings.items():
            assert config[key] == value
    assert not (screened / "dcgan" / "study").exists()  # never mixed with the report study


def test_table_marks_stopped_runs_and_their_tracked_values(screened):
    lines = study.table("dcgan", screened, "smoke")
    rows = [line for line in lines if line.startswith("| baseline") or
            line.startswith("| smooth")]
    assert len(rows) == 2
    assert all("1/2 (stopped there)" in row and "†" in row for row in rows)
    assert "`--real-label 0.9`" in rows[1]
    assert any(line.startswith("\n† not evaluated") for line in lines)


def test_a_pages_study_block_is_the_table_of_the_variants_named(screened, tmp_path):
    """pages writes `<!-- study E P VARIANTS -->` from study.table over those variants only;
    an unconditional model's table has no conditional-accuracy column."""
    from replication import pages

    lines = study.table("dcgan", screened, "smoke", ["smooth"])
    assert "conditional accuracy" not in lines[0] and lines[1] == "|---" * 8 + "|"
    assert [line.split(" | ")[0] for line in lines[2:] if line.startswith("|")] == ["| smooth"]
    page = tmp_path / "page.md"
    page.write_text("<!-- study dcgan smoke smooth -->\nold\n<!-- /study -->\n"
                    "<!-- means dcgan smoke 1-1 -->\nold\n<!-- /means -->\n")
    assert pages.update_page(page, screened) == ["study dcgan smoke smooth",
                                                 "means dcgan smoke 1-1"]
    text = page.read_text()
    assert "\n".join(lines) in text and "old" not in text
    assert "| baseline | 0 | 1-1 |" in text  # the means block: every variant
    page.write_text("<!-- study dcgan smoke nothing -->\n<!-- /study -->\n")
    with pytest.raises(ConfigError, match="no study records of dcgan"):
        pages.update_page(page, screened)


def test_rerun_without_stop_after_finishes_and_plots(screened, tmp_path):
    assert study.main(["run", "dcgan", "--profile", "smoke", "--seeds", "0", "--runs",
                       str(screened)]) == 0
    for variant in study.variants_of("dcgan"):
        info = RunDir(screened / "dcgan" / "study-smoke" / f"{variant.name}-s0").info()
        assert (info["state"], info["epochs_done"]) == ("finished", 2)
    rows = [line for line in study.table("dcgan", screened, "smoke")
            if line.startswith(("| baseline", "| smooth"))]
    assert len(rows) == 2 and all("| 2/2 |" in row for row in rows)
    assert study.main(["plot", "dcgan", "--profile", "smoke", "--runs", str(screened),
                       "--out", str(tmp_path)]) == 0
    assert (tmp_path / "dcgan.png").stat().st_size > 10_000


def test_means_average_the_tracked_values_over_a_window(screened, tmp_path, capsys):
    """The screening decisions' numbers: each run's tracked values averaged over epochs A-B."""
    import shutil

    source = screened / "dcgan" / "study-smoke" / "baseline-s0"
    target = tmp_path / "dcgan" / "study-smoke" / "baseline-s0"
    shutil.copytree(source, target)
    (target / "history.csv").write_text(
        "epoch,fid,coverage,fid_ema,coverage_ema\n"
        "1,300,2,400,1\n2,100,6,200,4\n3,50,8,,6\n4,30,10,60,8\n")
    rows = [line for line in study.means("dcgan", (2, 3), tmp_path, "smoke")
            if line.startswith("| baseline")]
    assert rows == ["| baseline | 0 | 2-3 | 75.0 / 200.0 | 7.0 / 5.0 |"]  # NaN skipped
    rows = [line for line in study.means("dcgan", None, tmp_path, "smoke")
            if line.startswith("| baseline")]
    assert rows == ["| baseline | 0 | 2-4 | 60.0 / 130.0 | 8.0 / 6.0 |"]  # the last three
    rows = [line for line in study.means("dcgan", (3, 6), tmp_path, "smoke")
            if line.startswith("| baseline")]
    assert rows[0].startswith("| baseline | 0 | 3-4 (of 3-6: has 4) | 40.0 / 60.0 |")
    with pytest.raises(SystemExit) as stop:
        study.main(["means", "dcgan", "--epochs", "6-4"])
    assert stop.value.code == 2 and "expected epochs like 4-6" in capsys.readouterr().err


def test_unknown_variant_and_empty_study_are_one_line_errors(tmp_path, capsys):
    assert study.main(["run", "acgan", "--variants", "baseline,fast", "--runs",
                       str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "acgan has no study variant fast" in err and len(err.splitlines()) == 1
    assert study.main(["plot", "cgan", "--runs", str(tmp_path)]) == 2
    assert "no study runs of cgan" in capsys.readouterr().err


def test_every_variant_is_one_train_command_away():
    """The table names each variant by its train flags, and those flags set exactly it."""
    import shlex

    from replication.__main__ import build_parser
    from replication.cli import GAN_OPTIONS

    for experiment in study.studied():
        for variant in study.variants_of(experiment):
            if not variant.settings:
                assert variant.describe() == "the profile's settings"
                continue
            flags = variant.describe()
            args = build_parser().parse_args(["train", experiment, *shlex.split(flags)])
            names = GAN_OPTIONS + ("loss", "batch_size", "encoder", "encoder_weights",
                                   "freeze_encoder_epochs")
            given = {name: getattr(args, name) for name in names
                     if getattr(args, name) is not None}
            assert given == variant.settings, (experiment, variant.name, flags)


def test_promote_copies_a_finished_run_at_the_profile_settings(screened, tmp_path, capsys):
    """The chosen study run becomes the profile's own run (no second training): only a finished
    run at the profile's current settings, never over an existing run, and the figures drawn
    from it name the study run they came from."""
    import shutil

    from replication.figures import draw_experiment
    from replication.reproduce import training_times

    assert study.main(["run", "dcgan", "--profile", "smoke", "--seeds", "0", "--runs",
                       str(screened)]) == 0  # finished (a no-op if an earlier test did it)
    root = tmp_path / "runs"
    for name in ("baseline-s0", "smooth-s0"):
        shutil.copytree(screened / "dcgan" / "study-smoke" / name,
                        root / "dcgan" / "study-smoke" / name)
    args = ["promote", "dcgan", "--profile", "smoke", "--runs", str(root), "--seeds", "0"]

    assert study.main(args + ["--variants", "smooth"]) == 2  # real_label 0.9 is not the default
    err = capsys.readouterr().err
    assert "real_label 0.9 (the profile's: 1.0)" in err and len(err.strip().splitlines()) == 1
    status = root / "dcgan" / "study-smoke" / "baseline-s0" / "status.json"
    saved = status.read_text()
    status.write_text(saved.replace('"finished"', '"paused"'))
    assert study.main(args + ["--variants", "baseline"]) == 2
    assert "is not finished (paused" in capsys.readouterr().err
    assert not (root / "dcgan" / "smoke").exists()  # nothing written by a refusal
    status.write_text(saved)

    assert study.main(args + ["--variants", "baseline"]) == 0
    target = root / "dcgan" / "smoke"
    config = json.loads((target / "config.json").read_text())
    assert config["promoted_from"]["run"] == str(root / "dcgan" / "study-smoke" / "baseline-s0")
    assert (config["promoted_from"]["variant"], config["promoted_from"]["seed"]) == ("baseline", 0)
    assert RunDir(target).history() == RunDir(target.parent / "study-smoke" / "baseline-s0").history()
    assert study.main(args + ["--variants", "baseline"]) == 2  # never over an existing run
    assert "already exists" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stop:  # one variant and one seed
        study.main(args + ["--variants", "baseline,smooth"])
    assert stop.value.code == 2 and "name one variant and one seed" in capsys.readouterr().err

    out = tmp_path / "figures"
    draw_experiment("dcgan", target, out, only=["fig11"])
    entry = json.loads((out / "manifest.json").read_text())["files"]["fig11.png"]
    assert entry["promoted_from"] == config["promoted_from"]["run"]
    assert entry["run_command"] == config["command"]
    summary = training_times({"dcgan": target})  # the study run's own epochs
    assert summary[1].split()[0] == "dcgan" and \
        summary[1].endswith(f"(promoted from {config['promoted_from']['run']})")


def test_records_redraw_the_table_and_figure_without_the_runs(screened, tmp_path):
    """``record`` keeps each run's text files only (no weights), in a runs root's layout, so
    the committed records give the same table, means and figure as the run directories."""
    out = tmp_path / "studies"
    stale = out / "records" / "dcgan" / "study-smoke" / "baseline-s0" / "metrics.json"
    stale.parent.mkdir(parents=True)
    stale.write_text("{}")  # an older record's file the run does not have
    assert study.main(["record", "dcgan", "--profile", "smoke", "--runs", str(screened),
                       "--out", str(out)]) == 0
    records = out / "records"
    for variant in study.variants_of("dcgan"):
        kept = sorted(p.name for p in (records / "dcgan" / "study-smoke" /
                                       f"{variant.name}-s0").iterdir())
        assert kept == ["config.json", "history.csv", "status.json"]
    assert study.table("dcgan", records, "smoke") == study.table("dcgan", screened, "smoke")
    assert study.means("dcgan", None, records, "smoke") == \
        study.means("dcgan", None, screened, "smoke")
    assert study.main(["plot", "dcgan", "--profile", "smoke", "--runs", str(records),
                       "--out", str(tmp_path)]) == 0
    assert (tmp_path / "dcgan.png").stat().st_size > 10_000


def test_record_keeps_to_the_variants_and_seeds_named(screened, tmp_path, capsys):
    """``record --variants V --seeds S`` copies those runs only (a run still training beside a
    finished one is not recorded by a command that names the finished one)."""
    out = tmp_path / "studies"
    assert study.main(["record", "dcgan", "--profile", "smoke", "--runs", str(screened),
                       "--out", str(out), "--variants", "smooth", "--seeds", "0"]) == 0
    assert sorted(p.name for p in (out / "records" / "dcgan" / "study-smoke").iterdir()) == \
        ["smooth-s0"]
    assert study.main(["record", "dcgan", "--profile", "smoke", "--runs", str(screened),
                       "--out", str(out), "--seeds", "1"]) == 2  # no such run
    assert "no study runs of dcgan" in capsys.readouterr().err


def _vae_study_run(root, variant, epochs_done, val_losses, metrics=None, seed=0):
    """A study run directory of the EfficientNet-VAE as training leaves it (no training)."""
    path = study.run_dir("effnet_vae", variant, seed, root)
    path.mkdir(parents=True)
    (path / "config.json").write_text(json.dumps({"experiment": "effnet_vae",
                                                  "config": {"epochs": 10, "seed": seed}}))
    state = "finished" if epochs_done == 10 else "paused"
    (path / "status.json").write_text(json.dumps({"state": state, "epochs_done": epochs_done}))
    rows = [f"{i + 1},{v + 5},{v},{v - 5},{600.0}" for i, v in enumerate(val_losses)]
    (path / "history.csv").write_text(
        "epoch,val_kl_loss,val_loss,val_reconstruction_loss,seconds\n" + "\n".join(rows) + "\n")
    if metrics:
        (path / "metrics.json").write_text(json.dumps(metrics))


def test_vae_study_table_reads_the_test_bounds_not_gan_numbers(tmp_path):
    _vae_study_run(tmp_path, "imagenet", 10, [150.0, 140.5, 141.25],
                   {"neg_elbo": 139.876, "neg_iwae": 133.5, "iwae_samples": 100})
    _vae_study_run(tmp_path, "random", 3, [170.0, 160.0, 155.0])
    lines = study.table("effnet_vae", tmp_path)
    assert "negative ELBO" in lines[0] and "FID" not in lines[0]
    imagenet, random = (next(line for line in lines if line.startswith(f"| {name} |"))
                        for name in ("imagenet", "random"))
    assert "| 141.25 / 140.50 (2) |" in imagenet and "139.88 / 133.50 (100 samples)" in imagenet
    assert "| 10/10 |" in imagenet and "0.50 h" in imagenet
    assert "3/10 (stopped there)" in random and "not evaluated" in random
    assert "--encoder-weights none" in random


def test_vae_study_plot_draws_the_loss_terms(tmp_path):
    _vae_study_run(tmp_path, "imagenet", 3, [150.0, 140.5, 141.25])
    _vae_study_run(tmp_path, "random", 3, [170.0, 160.0, 155.0])
    target = study.plot("effnet_vae", tmp_path, tmp_path / "out")
    assert target.name == "effnet_vae.png" and target.stat().st_size > 10_000


def test_runs_of_any_seed_are_found_in_order(tmp_path):
    """A run started with --seeds 2 (or 10) belongs to the study as much as seeds 0 and 1."""
    for seed in (10, 2, 0):
        _vae_study_run(tmp_path, "imagenet", 3, [150.0, 140.5, 141.25], seed=seed)
    _vae_study_run(tmp_path, "random", 3, [170.0, 160.0, 155.0], seed=1)
    (tmp_path / "effnet_vae" / "study" / "imagenet-sx").mkdir()  # not a seed: ignored
    found = [(variant.name, seed) for variant, seed, _ in study.study_runs("effnet_vae", tmp_path)]
    order = [v.name for v in study.variants_of("effnet_vae")]
    assert sorted(found, key=lambda r: (order.index(r[0]), r[1])) == found
    assert set(found) == {("imagenet", 0), ("imagenet", 2), ("imagenet", 10), ("random", 1)}
    target = study.plot("effnet_vae", tmp_path, tmp_path / "out")  # markers beyond two seeds
    assert target.stat().st_size > 10_000
