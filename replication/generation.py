"""Images from a trained model, as uint8 arrays: the one way tracking, evaluation, ``sample``
and shipping draw them.

* :func:`generate` - ``num`` samples of a generator from N(0, I) noise (seeded), with
  class-balanced labels ``0, 1, ..., K-1, 0, ...`` for the conditional models or given labels;
* :func:`decode_prior` - ``n`` images of a VAE, decoded from z ~ N(0, I) (seeded).

Which of them a saved run's model takes is the experiment's answer
(:meth:`replication.experiments.base.Experiment.draw`).

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


def decode_prior(vae, n: int, latent_dim: int, seed: int = 0) -> np.ndarray:
    """``n`` uint8 images decoded by ``vae`` from z ~ N(0, I) (the prior), drawn with ``seed``."""
    z = np.random.default_rng(seed).standard_normal((n, latent_dim)).astype(np.float32)
    decode = inference(lambda batch: vae.decode(batch))
    return in_batches(lambda b: unscale_images(np.asarray(decode(b)), "unit"), z, batch_size=500)
