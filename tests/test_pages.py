"""replication/pages.py: the pages' generated tables are what their files say today."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from replication import __main__ as cli, cards, pages

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("name, blocks", [
    ("docs/recipe.md", {"seeds cgan report", "seeds acgan report", "seeds acgan paper",
                        "seeds vae report", "seeds effnet_vae report", "seeds dcgan report"}),
    ("README.md", {"results"}),
    ("docs/results.md", {"shipped"}),
    ("docs/usage.md", {"profiles"}),
    ("docs/studies.md", {"study dcgan report", "study effnet_vae report",
                          "means dcgan report 58-60", "schedule acgan",
                          "variants acgan real-cls-sn,real-cls-da,real-cls-sn-da,hinge-sn-da,"
                          "tac-sn-da"})])
def test_the_pages_tables_are_their_files(tmp_path, name, blocks):
    """The committed pages hold what `python -m replication pages` makes of the committed study
    records and the shipped runs (rerun it after recording or shipping a run)."""
    page = ROOT / name
    copy = tmp_path / page.name
    shutil.copy(page, copy)
    done = pages.update_page(copy, ROOT / pages.study.RECORDS)
    assert blocks <= set(done)
    assert copy.read_text() == page.read_text(), \
        f"{name} is behind its files: python -m replication pages {name}"
    assert page in pages.pages(ROOT)


def test_the_variants_table_is_the_studys_settings():
    """Each row is the variant's settings as train flags and its reason, from the study."""
    from replication.config import ConfigError

    table = pages.variants_table("acgan", ["real-cls", "hinge-sn-da"])
    assert table[2].startswith("| `real-cls` | `--class-loss real` | ")
    assert "--loss hinge" in table[3] and "--spectral-norm" in table[3]
    with pytest.raises(ConfigError, match="no study variant nope"):
        pages.variants_table("acgan", ["nope"])


def test_the_profiles_table_is_the_profiles():
    """Each cell is the configuration's schedule: a changed profile shows in the table."""
    table = pages.profiles_table()
    quick = next(line for line in table if line.startswith("| `quick`"))
    config = pages.experiments.make_config("dcgan", "quick")
    images = config.train_examples
    assert (f"{config.epochs} × {images:,}: {config.epochs * (images // config.batch_size):,} "
            f"steps of {config.batch_size}, {config.precision}") in quick
    assert len(table) == 2 + len(pages.PROFILES)


def test_the_shipped_table_reads_each_run(vae_smoke_run, tmp_path):
    pretrained = tmp_path / "pretrained"
    shutil.copytree(vae_smoke_run, pretrained / "vae")
    (pretrained / "vae" / "metrics.json").write_text(json.dumps(
        {"neg_elbo": 150.25, "neg_iwae": 147.5, "test_images": 10000}))
    page = tmp_path / "page.md"
    page.write_text("a\n<!-- shipped -->\nold\n<!-- /shipped -->\nb\n")
    assert pages.update_page(page, tmp_path / "records", pretrained) == ["shipped"]
    lines = page.read_text().splitlines()
    assert lines[:2] == ["a", "<!-- shipped -->"] and lines[-2:] == ["<!-- /shipped -->", "b"]
    row = lines[4]
    epochs = len((vae_smoke_run / "history.csv").read_text().splitlines()) - 1
    assert row.startswith("| [`vae`](../pretrained/vae/README.md) | `vae`, the smoke's recipe |")
    assert f"| {epochs} × batch " in row
    assert "−ELBO 150.25, −IWAE 147.50 nats (10,000 test images)" in row
    assert lines[2:4] == cards.shipped_table(pretrained)[:2]


def test_check_names_a_page_behind_its_files(tmp_path, capsys):
    page = tmp_path / "page.md"
    page.write_text("<!-- shipped -->\nstale\n<!-- /shipped -->\n")
    assert cli.main(["pages", "--check", str(page)]) == 1
    assert "page.md is behind its files" in capsys.readouterr().out
    assert page.read_text().count("stale") == 1  # --check changes nothing
    assert cli.main(["pages", str(page)]) == 0
    assert cli.main(["pages", "--check", str(page)]) == 0


def test_check_of_a_block_without_records_is_one_line(tmp_path, capsys):
    page = tmp_path / "page.md"
    page.write_text("<!-- study dcgan smoke -->\n<!-- /study -->\n")
    assert cli.main(["pages", "--check", "--runs", str(tmp_path / "none"), str(page)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no study records of dcgan" in err


def test_a_missing_page_is_one_clear_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as raised:
        cli.main(["pages", str(tmp_path / "nope.md")])
    assert raised.value.code == 2
    assert "no such page" in capsys.readouterr().err
