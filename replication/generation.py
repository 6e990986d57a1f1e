"""Images from a trained model, as uint8 arrays: the one way tracking, evaluation, ``sample``
and shipping draw them.

* :func:`generate` - ``num`` samples of a generator from N(0, I) noise (seeded), with
  class-balanced labels ``0, 1, ..., K-1, 0, ...`` for the conditional models or given labels;
* :func:`draw` - ``n`` images of a VAE (decoded prior draws) or a generator of a saved run,
  described by the run's ``config.json`` contents.

TensorFlow is imported by the model modules, when a function is first called.
"""

from __future__ import annotations

import numpy as np

from replication.batching import in_batches, inference
from replication.data import unscale_images


def generate(generator, num: int, noise_dim: int, num_classes: int = 0, seed: int = 0,
             batch_size: int = 500, labels=None) -> tuple[np.ndarray, np.ndarray | None]:
    """``num`` uint8 samples from ``generator`` (N(0, I) noise); class-balanced labels
    ``0, 1, ..., K-1, 0, 1, ...`` when ``num_classes``, or the given ``labels`` (returned with
    the images)."""
    from replication.models.gan import generate_images  # TensorFlow

    rng = np.random.default_rng(seed)
    noise = rng.standard_normal((num, noise_dim)).astype(np.float32)
    if labels is None and num_classes:
        labels = (np.arange(num) % num_classes).astype(np.int32)
    forward = inference(generator)
    images = in_batches(lambda z, y: unscale_images(
        np.asarray(generate_images(forward, z, y)), "tanh"), noise, labels,
        batch_size=batch_size)
    return images, labels


def draw(model, info: dict, n: int, *, family: str, conditional: bool, seed: int = 0,
         klass: int | None = None):
    """``n`` uint8 images from ``model`` (a VAE when ``family`` is "vae", else a generator of
    the run described by ``info``), and their class labels (None for unconditional models):
    all ``klass``, or for the conditional models without it, ``n / K`` per class, class by
    class."""
    config = info["config"]
    rng = np.random.default_rng(seed)
    if family == "vae":
        z = rng.standard_normal((n, config["latent_dim"])).astype(np.float32)
        decode = inference(lambda batch: model.decode(batch))
        return in_batches(lambda b: unscale_images(np.asarray(decode(b)), "unit"), z,
                          batch_size=500), None
    labels = None
    if conditional:
        classes = len(info.get("class_names") or []) or 10
        labels = (np.full(n, klass) if klass is not None else
                  np.repeat(np.arange(classes), -(-n // classes))[:n]).astype(np.int32)
    return generate(model, n, config["noise_dim"], seed=seed, labels=labels)
