"""replication/runs.py: the report's log line, the readers of a run's files (a damaged file is
named in one line), the figures' footer, training seconds, shipped-run paths."""

from __future__ import annotations

import numpy as np
import pytest

from replication.__main__ import main
from replication.errors import DamagedFileError
from replication.runs import (RunDir, provenance_line, read_json, read_npz, report_log_line,
                              shipped_run)
from tests.helpers.files import one_line_error as _one_line_error
from tests.helpers.files import truncate as _truncate


def test_report_log_line_format():
    line = report_log_line(1, 60, {"d_loss": 0.4791, "g_loss": 2.5114, "x": 1}, ("d_loss", "g_loss"))
    assert line == "epoch = 1/60, d_loss=0.479, g_loss=2.511"


def test_corrupt_json_of_a_run(vae_copy, capsys):
    (vae_copy / "config.json").write_text('{"experiment": "vae", "config": {')
    with pytest.raises(DamagedFileError, match="not valid JSON"):
        read_json(vae_copy / "config.json")
    assert main(["sample", "vae", "--run-dir", str(vae_copy), "--out",
                 str(vae_copy / "x.png")]) == 2
    _one_line_error(capsys, "config.json", "damaged")


def test_truncated_snapshot(vae_copy, capsys):
    run = RunDir(vae_copy)
    epoch = run.snapshot_epochs()[-1]
    _truncate(run.snapshot_file(epoch))
    with pytest.raises(DamagedFileError, match=f"epoch_{epoch:03d}.npz is damaged"):
        run.load_snapshot(epoch)
    assert main(["figures", "vae", "--run-dir", str(vae_copy), "--out",
                 str(vae_copy / "figs"), "--only", "fig03"]) == 2
    _one_line_error(capsys, f"epoch_{epoch:03d}.npz", "damaged")


def test_bit_flipped_npz_is_damaged_too(tmp_path):
    path = tmp_path / "a.npz"
    np.savez_compressed(path, x=np.arange(10_000))
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0xFF  # inside the compressed member
    path.write_bytes(bytes(data))
    with pytest.raises(DamagedFileError, match="a.npz is damaged"):
        read_npz(path)


def test_footer_says_schedule_seed_and_precision():
    def line(profile):
        return provenance_line({"experiment": "cgan", "epochs_done": 3, "data": "CIFAR-10",
                                "device": "CPU", "started_at": "2026-11-29T01:00:00",
                                "config": {"profile": profile, "epochs": 15, "seed": 1,
                                           "precision": "bf16"}})

    assert line("report").startswith(
        "cgan | profile report (the report's schedule) | 3/15 epochs | seed 1 | bf16 | 2026-11-29")
    assert "(the paper's schedule)" in line("paper")
    assert "SHORT RUN" in line("quick") and "SHORT RUN" in line("smoke")


def test_training_seconds_sum_epoch_and_tracking_times_skipping_empty_cells(tmp_path):
    run = RunDir(tmp_path)
    (tmp_path / "history.csv").write_text("epoch,seconds,track_seconds\n1,100.5,6\n2,99.5,\n")
    assert run.training_seconds() == 206.0  # a resumed run's untracked epoch adds nothing
    (tmp_path / "history.csv").write_text("epoch,seconds\n1,30\n2,40\n")
    assert run.training_seconds() == 70.0


def test_a_shipped_run_is_named_as_a_user_would_type_it(shipped, monkeypatch, tmp_path):
    """The manifest, the gallery and the figures' footers name the shipped run by its path
    relative to the working directory, not by the absolute path of the machine that drew them."""
    monkeypatch.chdir(shipped.parent)
    assert str(shipped_run("cgan", root=shipped).path) == f"{shipped.name}/cgan"
    monkeypatch.chdir(tmp_path)  # not inside: the path stays as given
    assert shipped_run("cgan", root=shipped).path == shipped / "cgan"


def test_training_seconds_count_the_per_epoch_work_too(tmp_path):
    run = RunDir(tmp_path)
    (tmp_path / "history.csv").write_text(
        "epoch,seconds,track_seconds,overhead_seconds\n1,100,6,2.5\n2,90,5,\n")
    assert run.training_seconds() == 203.5  # an epoch saved before the column adds nothing


def test_the_cpu_is_named_with_its_family_and_widest_matrix_instructions():
    """Two machines that both call themselves "AMD EPYC" are told apart in every provenance
    line: by family/model and by the widest matrix instructions they have."""
    from replication.runs import cpu_model

    zen4 = ("processor\t: 0\ncpu family\t: 25\nmodel\t\t: 17\nmodel name\t: AMD EPYC\n"
            "flags\t\t: fpu avx2 avx512f avx512_bf16\nprocessor\t: 1\nmodel name\t: AMD EPYC\n")
    assert cpu_model(zen4) == "AMD EPYC (family 25, model 17, avx512_bf16)"
    xeon = "cpu family\t: 6\nmodel\t\t: 143\nmodel name\t: Intel Xeon\nflags\t: avx2 avx512f amx_bf16\n"
    assert cpu_model(xeon) == "Intel Xeon (family 6, model 143, amx_bf16)"
    assert cpu_model("model name\t: Some CPU\nflags\t: sse2\n") == "Some CPU"
