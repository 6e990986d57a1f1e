"""DiffAugment (Zhao et al. 2020): differentiable augmentations of the discriminator's inputs.

A discriminator trained on few images memorises them; augmenting only the real images would
teach the generator to produce augmented images.  DiffAugment applies the same random policy
to *every* input of D, real and generated, in D's update and in G's, with operations that let
gradients flow back to the generator.  The three policies, on images in [-1, 1] (the GANs'
``tanh`` range; each draw is per image):

* ``color``: brightness ``x + (r - 0.5)``, saturation ``(x - mean_c) * 2r + mean_c`` (mean over
  the channels), contrast ``(x - mean) * (r + 0.5) + mean`` (mean over the image), each with
  its own ``r ~ U(0, 1)``;
* ``translation``: a shift by up to an eighth of the side in each direction (integer pixels,
  zeros shifted in);
* ``cutout``: a square of half the side, at a uniformly drawn centre, set to 0.

:func:`diff_augment` draws from a ``keras.random.SeedGenerator`` (the GAN's own, which is
checkpointed, so a resumed run draws what an uninterrupted one would) through ``draw``, a
function ``shape -> values`` supplied by the caller (the GAN slices one global draw per
replica under tf.distribute).
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from replication.vocabulary import AUGMENTATIONS, augmentation_policy

TRANSLATION_RATIO = 0.125  # the largest shift, as a fraction of the side (Zhao et al.'s 1/8)
CUTOUT_RATIO = 0.5         # the side of the cut-out square, as a fraction of the image's


# A policy as the vocabulary reads it (checked names, the canonical order).
policy = augmentation_policy


def diff_augment(images, names, uniform, randint):
    """``images`` (B, H, W, C) augmented by the policies ``names`` (in the canonical order).

    ``uniform(shape)`` draws U(0, 1) float32 values and ``randint(shape, low, high)`` integers
    in ``[low, high)``, one row per image."""
    x = images
    for name in policy(names):
        x = _OPERATIONS[name](x, uniform, randint)
    return x


def color(x, uniform, randint):
    batch = ops.shape(x)[0]
    r = lambda: ops.cast(uniform((batch, 1, 1, 1)), x.dtype)  # noqa: E731
    x = x + (r() - 0.5)
    mean = ops.mean(x, axis=-1, keepdims=True)
    x = (x - mean) * (r() * 2.0) + mean
    mean = ops.mean(x, axis=(1, 2, 3), keepdims=True)
    return (x - mean) * (r() + 0.5) + mean


def translation(x, uniform, randint, ratio: float = TRANSLATION_RATIO):
    batch, height, width = ops.shape(x)[0], x.shape[1], x.shape[2]
    pad_y, pad_x = int(height * ratio + 0.5), int(width * ratio + 0.5)
    shift_y = randint((batch, 1), -pad_y, pad_y + 1)
    shift_x = randint((batch, 1), -pad_x, pad_x + 1)
    padded = tf.pad(x, [[0, 0], [pad_y, pad_y], [pad_x, pad_x], [0, 0]])
    # Output pixel i reads input pixel i - shift (zeros where that falls outside the image).
    rows = tf.range(height)[None, :] + pad_y - shift_y
    cols = tf.range(width)[None, :] + pad_x - shift_x
    x = tf.gather(padded, rows, axis=1, batch_dims=1)
    return tf.gather(x, cols, axis=2, batch_dims=1)


def cutout(x, uniform, randint, ratio: float = CUTOUT_RATIO):
    batch, height, width = ops.shape(x)[0], x.shape[1], x.shape[2]
    size_y, size_x = int(height * ratio + 0.5), int(width * ratio + 0.5)
    centre_y = randint((batch, 1), 0, height + (1 - size_y % 2))
    centre_x = randint((batch, 1), 0, width + (1 - size_x % 2))
    top, left = centre_y - size_y // 2, centre_x - size_x // 2
    ys, xs = tf.range(height)[None, :], tf.range(width)[None, :]
    inside_y = ops.cast((ys >= top) & (ys < top + size_y), x.dtype)  # (B, H)
    inside_x = ops.cast((xs >= left) & (xs < left + size_x), x.dtype)  # (B, W)
    keep = 1.0 - inside_y[:, :, None, None] * inside_x[:, None, :, None]
    return x * keep


_OPERATIONS = {"color": color, "translation": translation, "cutout": cutout}
assert set(_OPERATIONS) == set(AUGMENTATIONS), "every augmentation of the vocabulary, once"


def seeded(seed_generator: keras.random.SeedGenerator, draw=None):
    """``(uniform, randint)`` drawing from ``seed_generator``; ``draw(fn, batch, *shape)`` (for
    example :func:`replication.distribute.replica_slice`) turns a draw of the global batch into
    this replica's rows."""
    if draw is None:
        draw = lambda fn, batch, *shape: fn((batch, *shape))  # noqa: E731

    def uniform(shape):
        return draw(lambda s: keras.random.uniform(s, seed=seed_generator), *shape)

    def randint(shape, low, high):
        return draw(lambda s: keras.random.randint(s, low, high, seed=seed_generator,
                                                   dtype="int32"), *shape)

    return uniform, randint
