"""Shared fixtures: small image trees made on the fly, and one smoke-size VAE run per session."""

from __future__ import annotations

import os

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import pytest
from PIL import Image


def make_image_tree(root, classes=("a", "b", "c"), per_class=4, size=(28, 28), mode="L",
                    splits=("train", "test"), seed=0):
    """Write a class-per-folder tree of random PNGs; return the label of each written file."""
    rng = np.random.default_rng(seed)
    channels = 1 if mode == "L" else 3
    for split in splits:
        for cls in classes:
            folder = root / split / cls if split else root / cls
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(per_class):
                pixels = rng.integers(0, 256, size=(*size, channels), dtype=np.uint8)
                Image.fromarray(pixels[..., 0] if channels == 1 else pixels, mode).save(
                    folder / f"{i}.png")
    return root


@pytest.fixture(scope="session")
def mnist():
    from replication import data

    return data.load("mnist", "bundled", verbose=False)


def _smoke_run(tmp_path_factory, experiment, **overrides):
    """A finished smoke-profile run of ``experiment`` on the bundled data (5-15 s each)."""
    from replication.train import train

    run_dir = tmp_path_factory.mktemp("runs") / f"{experiment}_smoke"
    train(experiment, "smoke", run_dir=run_dir, verbose=0, **overrides)
    return run_dir


@pytest.fixture(scope="session")
def vae_smoke_run(tmp_path_factory):
    return _smoke_run(tmp_path_factory, "vae")


@pytest.fixture(scope="session")
def dcgan_smoke_run(tmp_path_factory):
    return _smoke_run(tmp_path_factory, "dcgan")


@pytest.fixture(scope="session")
def cgan_smoke_run(tmp_path_factory):
    # Quality tracking off here: the DCGAN and AC-GAN fixtures draw the quality panels.
    return _smoke_run(tmp_path_factory, "cgan", track_samples=0)


@pytest.fixture(scope="session")
def acgan_smoke_run(tmp_path_factory):
    return _smoke_run(tmp_path_factory, "acgan")
