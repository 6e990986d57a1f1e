"""replication/sample.py: the ``sample`` command on shipped runs and on a paper-schedule run."""

from __future__ import annotations

import numpy as np
import pytest

from replication.__main__ import main


@pytest.mark.parametrize("argv, rows", [(["--class", "cat", "--n", "6"], None),
                                        (["--n", "20", "--generator", "averaged"], 10)])
def test_sample_a_class_or_every_class(shipped, tmp_path, argv, rows, capsys):
    out, npz = tmp_path / "grid.png", tmp_path / "grid.npz"
    code = main(["sample", "cgan", "--run-dir", str(shipped / "cgan"), "--out", str(out),
                 "--npz", str(npz), *argv])
    assert code == 0 and out.stat().st_size > 0
    arrays = np.load(npz)
    if rows is None:
        assert arrays["images"].shape == (6, 32, 32, 3)
        assert set(arrays["labels"]) == {3}  # cat is CIFAR-10's class 3
    else:  # one row per class, two per row
        assert list(arrays["labels"]) == [c for c in range(10) for _ in range(2)]
    assert f"wrote {out}" in capsys.readouterr().out


def test_sample_a_vae_decodes_prior_draws(shipped, tmp_path):
    npz = tmp_path / "vae.npz"
    assert main(["sample", "vae", "--run-dir", str(shipped / "vae"), "--n", "9",
                 "--out", str(tmp_path / "vae.png"), "--npz", str(npz)]) == 0
    images = np.load(npz)["images"]
    assert images.shape == (9, 28, 28, 1) and images.dtype == np.uint8
    assert len({im.tobytes() for im in images}) == 9  # different draws


@pytest.mark.parametrize("argv, message", [
    (["cgan", "--class", "unicorn"], "has no class 'unicorn'"),
    (["cgan", "--class", "10"], "has no class '10'"),
    (["vae", "--class", "3"], "vae is unconditional"),
    (["vae", "--generator", "averaged"], "no averaged model"),
])
def test_sample_bad_values_exit_2_with_one_line(shipped, tmp_path, argv, message, capsys):
    experiment = argv[0]
    code = main(["sample", *argv, "--run-dir", str(shipped / experiment),
                 "--out", str(tmp_path / "x.png")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and message in err and len(err.splitlines()) == 1
    assert not (tmp_path / "x.png").exists()


def test_sample_picks_the_paper_run(paper_run, tmp_path):
    from replication.sample import sample

    out = sample("acgan", run_dir=paper_run, klass="cat", n=4, out=tmp_path / "cat.png")
    assert out.stat().st_size > 1000
