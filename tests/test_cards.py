"""replication/cards.py: every shipped run carries a model card made from its files, and the
card's loading example runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from replication import cards

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted(p.parent for p in (ROOT / "pretrained").glob("*/config.json"))


@pytest.mark.parametrize("folder", SHIPPED, ids=lambda p: p.name)
def test_each_shipped_card_is_what_its_files_make(folder):
    written = (folder / cards.CARD).read_text()
    assert written == cards.card(folder), \
        f"{folder.name}/README.md is behind its files: python -m replication cards"


@pytest.mark.parametrize("folder", SHIPPED, ids=lambda p: p.name)
def test_each_cards_example_loads_the_model_and_draws(folder, monkeypatch):
    code = re.search(r"```python\n(.*?)```", (folder / cards.CARD).read_text(), re.S).group(1)
    monkeypatch.chdir(ROOT)  # the card's paths are the repository's
    scope: dict = {}
    exec(compile(code, f"{folder.name}/README.md", "exec"), scope)
    if "pixels" in scope:  # a generator: ten 32x32 colour images as 8-bit pixels
        assert scope["pixels"].shape == (10, 32, 32, 3) and scope["pixels"].dtype == np.uint8
        assert scope["pixels"].std() > 5  # an image, not a constant
    else:  # a VAE: sixteen decoded digits in [0, 1]
        images = np.asarray(scope["images"], dtype="float32")
        assert images.shape == (16, 28, 28, 1) and 0 <= images.min() <= images.max() <= 1


def test_shipping_writes_the_card(shipped):
    text = (shipped / "cgan" / cards.CARD).read_text()
    assert text == cards.card(shipped / "cgan")
    assert "the report's recipe" in text and "keras.saving.load_model" in text
    assert "## Numbers" in text


def test_the_using_pages_example_writes_a_png(tmp_path, monkeypatch):
    """docs/using.md's five lines run as written (from the repository's root) and write a row
    of eight 32x32 colour samples."""
    from PIL import Image

    code = re.search(r"```python\n(.*?)```", (ROOT / "docs" / "using.md").read_text(),
                     re.S).group(1)
    code = code.replace('"pretrained/', f'"{ROOT}/pretrained/')
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "docs/using.md", "exec"), {})
    image = np.asarray(Image.open(tmp_path / "dcgan-samples.png"))
    assert image.shape == (32, 8 * 32, 3) and image.std() > 5


def test_a_card_reads_each_feature_space_with_what_it_has():
    """A classifier's space has class coverage; Lite0's has none (no classifier): the card
    gives each block what it holds, precision/recall and intra-class FID where present."""
    row = {"FID": 31.8, "KID": 0.005, "precision": 0.858, "recall": 0.493,
           "intra_class_FID": 68.1, "conditional_accuracy": 0.501}
    metrics = {"gan": {
        "classifier": {"samples": 10_000, "extractor_description": "the classifier",
                       "model": {**row, "class_coverage": 10, "num_classes": 10}},
        "lite0": {"samples": 10_000, "extractor_description": "Lite0's ImageNet features",
                  "model": {**row, "FID": 188.2}}}}
    classifier, lite0 = cards._numbers("cgan", metrics)
    assert "10/10 classes covered" in classifier and "classes covered" not in lite0
    assert "FID **188.20**" in lite0 and "precision / recall 0.858 / 0.493" in lite0
    assert "intra-class FID 68.1" in lite0 and "conditional accuracy **50.1 %**" in classifier
