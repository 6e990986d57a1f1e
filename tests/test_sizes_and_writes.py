"""The error policy for what a user asks for and where a command writes: a size the machine
cannot hold is refused in one line before the work starts, and a place that cannot be written
(here: a path through a regular file, which no permission can fix) is one line, not a
traceback."""

from __future__ import annotations

import pytest

from replication.__main__ import main
from replication.errors import ReplicationError, refuse_unless_it_fits
from tests.helpers.files import one_line_error


def test_the_memory_check_compares_with_what_is_available():
    refuse_unless_it_fits("--n 10", 100, available=1000)
    with pytest.raises(ReplicationError, match=r"--n 10 needs about 0.0 GiB.*ask for less"):
        refuse_unless_it_fits("--n 10", 900, available=1000)


def test_sampling_more_than_the_machine_holds_is_refused_first(shipped, tmp_path, capsys):
    out = tmp_path / "grid.png"
    assert main(["sample", "vae", "--run-dir", str(shipped / "vae"), "--n", str(10 ** 10),
                 "--out", str(out)]) == 2
    one_line_error(capsys, f"--n {10 ** 10} needs about", "GiB of memory")
    assert not out.exists()


def test_evaluating_more_samples_than_the_machine_holds_is_refused(dcgan_smoke_run, tmp_path,
                                                                    capsys):
    import shutil

    run = shutil.copytree(dcgan_smoke_run, tmp_path / "run")
    assert main(["evaluate", str(run), "--samples", str(10 ** 9)]) == 2
    one_line_error(capsys, f"--samples {10 ** 9} needs about")
    assert not (run / "metrics.json").exists()


def test_a_batch_the_machine_or_the_data_cannot_hold_is_refused(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "vae", "--profile", "report", "--batch-size", str(10 ** 9),
                 "--run-dir", str(run), "--quiet"]) == 2
    one_line_error(capsys, f"--batch-size {10 ** 9} needs about")
    assert main(["train", "vae", "--profile", "report", "--batch-size", "60001",
                 "--run-dir", str(run), "--quiet"]) == 2
    one_line_error(capsys, "batch size 60001 is larger than the 60,000 training examples")
    assert not run.exists()


@pytest.fixture
def blocked(tmp_path):
    """A path under a regular file: no command can make a folder there."""
    wall = tmp_path / "a-file"
    wall.write_text("not a folder")
    return wall / "inside"


def test_unwritable_places_are_one_line(shipped, vae_smoke_run, blocked, capsys):
    assert main(["sample", "vae", "--run-dir", str(shipped / "vae"), "--n", "4",
                 "--out", str(blocked / "grid.png")]) in (1, 2)
    one_line_error(capsys, "a-file")
    assert main(["figures", "vae", "--run-dir", str(vae_smoke_run), "--only", "fig05",
                 "--out", str(blocked)]) in (1, 2)
    one_line_error(capsys, "a-file")
    assert main(["train", "vae", "--profile", "smoke", "--run-dir", str(blocked / "run"),
                 "--quiet"]) in (1, 2)
    one_line_error(capsys, "a-file")


@pytest.mark.parametrize("error, code", [(PermissionError(13, "Permission denied", "/x/out"), 1),
                                         (OSError(28, "No space left on device", "/x/out"), 1),
                                         (FileNotFoundError(2, "No such file", "/x/in"), 2)])
def test_any_refused_write_or_read_is_one_line(error, code, capsys):
    """What no command foresaw still ends in one line naming the path (run_command's net)."""
    from replication.errors import run_command

    def command():
        raise error

    assert run_command(command, hint="rerun to continue") == code
    line = one_line_error(capsys, error.filename, error.strerror)
    assert line.endswith("rerun to continue")


def test_running_out_of_memory_is_one_line(capsys):
    from replication.errors import run_command

    def command():
        raise MemoryError

    assert run_command(command) == 1
    one_line_error(capsys, "ran out of memory")
