"""replication/evaluate/cli.py: unfinished or missing runs are refused."""

from __future__ import annotations

import pytest

from replication.evaluate import main


def test_unfinished_or_missing_runs_are_refused(mnist_gan_runs, tmp_path, capsys):
    import shutil

    from replication.runs import RunDir

    copy = tmp_path / "running"
    shutil.copytree(mnist_gan_runs["dcgan"], copy)
    RunDir(copy).set_status("running", 1)
    assert main([str(copy)]) == 2
    assert "is not finished" in capsys.readouterr().err
    assert main([str(tmp_path / "missing")]) == 2
    with pytest.raises(SystemExit):
        main([str(copy), "--samples", "1"])


def test_a_finished_run_without_its_model_is_one_line(mnist_gan_runs, tmp_path, capsys):
    """A record of a run (its text files, no weights) is refused before any feature is made."""
    import shutil

    record = tmp_path / "record"
    shutil.copytree(mnist_gan_runs["dcgan"], record)
    shutil.rmtree(record / "model")
    good = tmp_path / "good"
    shutil.copytree(mnist_gan_runs["dcgan"], good)
    (good / "metrics.json").unlink(missing_ok=True)
    # the run after the broken one is still evaluated
    assert main([str(record), str(good), "--samples", "20", "--limit", "20"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no such model file" in err and "Traceback" not in err
    assert (good / "metrics.json").exists()


@pytest.mark.parametrize("flags, message", [
    (["--kid-subset-size", "500", "--samples", "200"], "larger than --samples 200"),
    (["--kid-subset-size", "50", "--samples", "200", "--limit", "40"], "larger than --limit 40"),
    (["--kid-subsets", "1"], "--kid-subsets must be at least 2"),
])
def test_kid_flags_that_cannot_hold_are_refused(tmp_path, capsys, flags, message):
    """A KID subset larger than the images it is drawn from is a bad flag, refused before any
    run is read (left at its default, it shrinks to a smaller set instead: the test above
    evaluates 20 samples against 20 images)."""
    with pytest.raises(SystemExit) as exit_info:
        main([str(tmp_path / "any-run"), *flags])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
