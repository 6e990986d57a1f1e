"""replication/figures/gan.py: figures 9-12 and the GIF of the DCGAN, 13-28, table1 and the GIFs
of the conditional GANs, from smoke runs."""

from __future__ import annotations

import json

import imageio.v3 as iio
import pytest

from replication.__main__ import main
from tests.helpers.expected import Q2_FILES, Q3_FILES, SPEC_TABLE


def test_figures_from_the_run_directory(dcgan_smoke_run, tmp_path):
    assert main(["figures", "dcgan", "--run-dir", str(dcgan_smoke_run), "--out", str(tmp_path)]) == 0
    for name in Q2_FILES:
        assert (tmp_path / name).stat().st_size > 1000
    manifest = json.loads((tmp_path / "manifest.json").read_text())["files"]
    assert list(manifest) == Q2_FILES
    assert manifest["fig10.png"]["profile"] == "smoke"
    assert "CIFAR-10" in manifest["fig11.png"]["data"]
    assert iio.imread(tmp_path / "dcgan.gif", index=None).shape[0] == 2


@pytest.mark.parametrize("experiment", ["cgan", "acgan"])
def test_figures_and_table_from_smoke_runs(experiment, cgan_smoke_run, acgan_smoke_run, tmp_path):
    run = {"cgan": cgan_smoke_run, "acgan": acgan_smoke_run}[experiment]
    assert main(["figures", experiment, "--run-dir", str(run), "--out", str(tmp_path)]) == 0
    for name in Q3_FILES[experiment]:
        assert (tmp_path / name).stat().st_size > 500, name
    manifest = json.loads((tmp_path / "manifest.json").read_text())["files"]
    assert set(Q3_FILES[experiment]) == set(manifest)
    if experiment == "acgan":
        table = (tmp_path / "table1.md").read_text()
        for row in SPEC_TABLE:
            assert "| " + " | ".join(row) + " |" in table
