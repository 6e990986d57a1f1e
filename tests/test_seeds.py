"""replication/seeds.py: a variant's numbers as mean and range over its seeds, and the seed that
ships (the record that is the shipped run, byte for byte)."""

from __future__ import annotations

import json
import shutil

import pytest

from replication import pages, seeds
from replication.config import ConfigError


def _record(vae_smoke_run, root, seed, neg_elbo, state="finished", study="study-smoke"):
    """A copy of the VAE smoke run as the study record ``baseline-s<seed>`` with its own
    evaluated bounds (and its own history, so the records differ); in the smoke profile's
    study folder unless told ``study``."""
    path = root / "vae" / study / f"baseline-s{seed}"
    shutil.copytree(vae_smoke_run, path)
    (path / "metrics.json").write_text(json.dumps({"neg_elbo": neg_elbo,
                                                   "neg_iwae": neg_elbo - 3}))
    status = json.loads((path / "status.json").read_text())
    (path / "status.json").write_text(json.dumps({**status, "state": state}))
    with open(path / "history.csv", "a") as history:
        history.write(f"# seed {seed}\n")
    return path


def test_the_table_gives_mean_and_range_over_seeds_and_the_shipped_seed(vae_smoke_run,
                                                                        tmp_path):
    root, pretrained = tmp_path / "records", tmp_path / "pretrained"
    first = _record(vae_smoke_run, root, 0, 150.0)
    _record(vae_smoke_run, root, 1, 152.0)
    _record(vae_smoke_run, root, 2, 157.0)
    _record(vae_smoke_run, root, 3, 100.0, state="paused")  # unfinished: not counted
    shutil.copytree(first, pretrained / "vae")
    lines = seeds.table("vae", root, "smoke", pretrained)
    assert lines[0].startswith("| variant | seeds | negative ELBO")
    row = lines[2]
    assert "| baseline | 3: 0, 1, 2 |" in row
    assert "153.00 (150.00–157.00)" in row  # mean (min–max) of the three finished seeds
    assert "150.00 (147.00–154.00)" in row  # the IWAE bound
    assert "seed 0: `pretrained/vae`" in row
    assert seeds.seeds_of("vae", "baseline", root, "smoke") == [0, 1, 2]


def test_an_unevaluated_seed_is_named_and_kept_out_of_the_numbers(vae_smoke_run, tmp_path):
    root = tmp_path / "records"
    _record(vae_smoke_run, root, 0, 150.0)
    (_record(vae_smoke_run, root, 1, 160.0) / "metrics.json").unlink()
    row = seeds.table("vae", root, "smoke", tmp_path / "none")[2]
    assert "2: 0, 1 (not evaluated: 1)" in row and "| 150.00 |" in row and row.endswith("| — |")


def test_gan_numbers_come_from_both_generators():
    metrics = {"gan": {"classifier": {
        "model": {"FID": 10.0, "conditional_accuracy": 0.5, "class_coverage": 9},
        "averaged": {"FID": 8.0, "conditional_accuracy": 0.625, "class_coverage": 10}}}}
    values = seeds._values("cgan", metrics)
    assert values == {"FID/trained": 10.0, "FID/averaged": 8.0,
                      "conditional_accuracy/trained": 50.0,
                      "conditional_accuracy/averaged": 62.5,
                      "class_coverage/trained": 9.0, "class_coverage/averaged": 10.0}
    assert [n[0] for n in seeds.numbers_of("dcgan")] == ["FID", "class_coverage"]
    assert seeds.spread([8.0, 10.0, 9.0], "{:.1f}", "{:.0f}") == "9.0 (8–10)"
    assert seeds.spread([], "{:.1f}") == "—"


def test_no_finished_runs_is_one_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="no finished study runs of vae"):
        seeds.table("vae", tmp_path, "report")


def test_a_page_block_is_the_table_of_the_records(vae_smoke_run, tmp_path):
    """pages.update_page rewrites a page's seed block with seeds.table, and nothing else."""
    root = tmp_path / "records"
    _record(vae_smoke_run, root, 0, 150.0)
    page = tmp_path / "page.md"
    page.write_text("intro\n<!-- seeds vae smoke -->\nold table\n<!-- /seeds -->\noutro\n")
    assert pages.update_page(page, root, tmp_path / "none") == ["seeds vae smoke"]
    text = page.read_text()
    assert text.startswith("intro\n<!-- seeds vae smoke -->\n| variant |")
    assert "| baseline | 1: 0 | 150.00 |" in text
    assert "old table" not in text and text.endswith("<!-- /seeds -->\noutro\n")


def test_the_results_table_names_each_shipped_departure(cgan_smoke_run, tmp_path):
    """The README's table: the faithful variant's numbers in one column, every named variant
    that ships beside it (found by its record being the shipped run) in the next."""
    root, pretrained = tmp_path / "records", tmp_path / "pretrained"
    for variant, accuracy in (("projection-b64", 0.5), ("projection-matching-b64", 0.9)):
        path = root / "cgan" / "study" / f"{variant}-s0"
        shutil.copytree(cgan_smoke_run, path)
        block = {"model": {"FID": 30.0, "conditional_accuracy": accuracy, "class_coverage": 10}}
        (path / "metrics.json").write_text(json.dumps({"gan": {"classifier": block}}))
        with open(path / "history.csv", "a") as history:
            history.write(f"# {variant}\n")
    assert seeds.departures("cgan", root, pretrained) == []  # nothing ships yet
    shutil.copytree(root / "cgan" / "study" / "projection-matching-b64-s0",
                    pretrained / "cgan_matching")
    assert seeds.headline("cgan", root, pretrained) == "50.0 %, FID 30.0, 10/10 (1 seed)"
    assert seeds.departures("cgan", root, pretrained) == \
        [("matching", "projection-matching-b64", "90.0 %, FID 30.0, 10/10 (1 seed)")]
    table = seeds.results_table(root, pretrained)
    row = next(n for n, line in enumerate(table) if line.startswith("| `cgan`"))
    assert "| 50.0 %, FID 30.0, 10/10 (1 seed) |" in table[row]
    assert table[row + 1] == ("| ↳ `matching` (projection-matching-b64) | | "
                              "90.0 %, FID 30.0, 10/10 (1 seed) | |")
