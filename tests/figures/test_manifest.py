"""replication/figures/manifest.py: drawing into a folder: the manifest keeps other entries,
clear errors, a refused write leaves no partial file, each profile's own folder."""

from __future__ import annotations

import json

import pytest

from replication.__main__ import main
from replication.figures import FigureError, draw_experiment, figures_folder
from tests.helpers.files import partial_files as _partial_files


def test_manifest_keeps_entries_of_other_runs(vae_smoke_run, tmp_path):
    out = tmp_path / "fig"
    draw_experiment("vae", vae_smoke_run, out, only=["fig05"])
    draw_experiment("vae", vae_smoke_run, out, only=["fig06"])
    manifest = json.loads((out / "manifest.json").read_text())["files"]
    assert set(manifest) == {"fig05.png", "fig06.png"}


def test_figure_errors_are_clear(tmp_path, vae_smoke_run):
    with pytest.raises(FigureError, match="does not exist"):
        draw_experiment("vae", tmp_path / "missing", tmp_path / "out")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FigureError, match="not a run directory"):
        draw_experiment("vae", tmp_path / "empty", tmp_path / "out")
    with pytest.raises(FigureError, match="has no figure fig99"):
        draw_experiment("vae", vae_smoke_run, tmp_path / "out", only=["fig99"])


def test_unwritable_output_is_one_clear_error_and_leaves_no_partial_file(vae_smoke_run, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert main(["figures", "vae", "--run-dir", str(vae_smoke_run), "--out",
                 str(blocker / "sub")]) == 2


def test_a_refused_figure_write_leaves_no_partial_file(vae_smoke_run, tmp_path, monkeypatch,
                                                       capsys):
    import matplotlib.figure

    def fails(self, fname, *args, **kwargs):
        with open(fname, "wb") as fh:
            fh.write(b"\x89PNG half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", fails)
    out = tmp_path / "out"
    assert main(["figures", "vae", "--run-dir", str(vae_smoke_run), "--out", str(out),
                 "--only", "fig03"]) == 2
    err = capsys.readouterr().err
    assert "cannot write" in err and "fig03.png" in err
    assert not (out / "fig03.png").exists() and _partial_files(out) == []


def test_each_profile_draws_into_its_own_folder(tmp_path, vae_smoke_run):
    assert str(figures_folder("report")) == "figures"
    assert str(figures_folder("quick")) == "figures/quick"
    assert figures_folder("smoke", vae_smoke_run) == vae_smoke_run / "figures"
    written = draw_experiment("vae", vae_smoke_run, only=["fig05"])  # smoke: its run directory
    assert written == [vae_smoke_run / "figures" / "fig05.png"]


def test_a_short_run_never_draws_over_report_figures(tmp_path, vae_smoke_run):
    report = tmp_path / "figures"
    report.mkdir()
    (report / "manifest.json").write_text(json.dumps(
        {"files": {"fig05.png": {"id": "fig05", "profile": "report"}}}))
    with pytest.raises(FigureError, match="holds the report profile's figures"):
        draw_experiment("vae", vae_smoke_run, report, only=["fig05"])
    assert not (report / "fig05.png").exists()


def test_a_figure_script_answers_a_damaged_run_in_one_line(tmp_path, capsys):
    from replication.figures import script_main

    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "config.json").write_text('{"experiment": ')  # truncated
    assert script_main("fig05", ["--run-dir", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "is damaged" in err and err.count("\n") == 1
    with pytest.raises(SystemExit) as exit_info:
        script_main("fig05", ["--bogus"])
    assert exit_info.value.code == 2

