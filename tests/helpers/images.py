"""Small image trees made on the fly."""

from __future__ import annotations

import numpy as np
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


def read_image(path):
    """A PNG (or a GIF's first frame) as an array."""
    import imageio.v3 as iio

    return iio.imread(path)
