"""Layer helpers shared by the adversarial networks (DCGAN, conditional GAN, AC-GAN)."""

from __future__ import annotations

import keras
from keras import layers

from replication.distribute import num_replicas


def normal_init(stddev: float):
    """The DCGAN / AC-GAN weight initialiser: isotropic Gaussian, mean 0."""
    return keras.initializers.RandomNormal(mean=0.0, stddev=stddev)


def batch_norm(name: str):
    """BatchNorm with the momentum/epsilon of the reference DCGAN (PyTorch's 0.1 / 1e-5).

    Built under a multi-replica tf.distribute strategy it is synchronized, so that the
    statistics are those of the global batch.  With one replica it is not: Keras' synchronized
    path would still run (materialising a tensor of ones and separate sum / sum-of-squares
    reductions per layer) for the same result."""
    return keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5,
                                           synchronized=num_replicas() > 1, name=name)


def one_hot_label(num_classes, name="label"):
    """An integer class-label input and its one-hot encoding."""
    label = keras.Input(shape=(), dtype="int32", name=name)
    return label, layers.CategoryEncoding(num_classes, output_mode="one_hot",
                                          name=f"{name}_one_hot")(label)
