"""Layer helpers shared by the adversarial networks (DCGAN, conditional GAN, AC-GAN)."""

from __future__ import annotations

import keras
from keras import layers

from replication.distribute import num_replicas


def normal_init(stddev: float):
    """The DCGAN / AC-GAN weight initialiser: isotropic Gaussian, mean 0."""
    return keras.initializers.RandomNormal(mean=0.0, stddev=stddev)


def batch_norm(name: str, affine: bool = True):
    """BatchNorm with the momentum/epsilon of the reference DCGAN (PyTorch's 0.1 / 1e-5).

    Built under a multi-replica tf.distribute strategy it is synchronized, so that the
    statistics are those of the global batch.  With one replica it is not: Keras' synchronized
    path would still run (materialising a tensor of ones and separate sum / sum-of-squares
    reductions per layer) for the same result.  ``affine=False`` leaves out the learned
    scale and shift (class-conditional BatchNorm supplies its own per class)."""
    return keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5, center=affine,
                                           scale=affine, synchronized=num_replicas() > 1,
                                           name=name)


def one_hot_label(num_classes, name="label"):
    """An integer class-label input and its one-hot encoding."""
    label = keras.Input(shape=(), dtype="int32", name=name)
    return label, layers.CategoryEncoding(num_classes, output_mode="one_hot",
                                          name=f"{name}_one_hot")(label)


def class_conditional_batch_norm(x, label, num_classes: int, name: str):
    """BatchNorm whose scale and shift are rows of per-class tables (de Vries et al. 2017;
    SNGAN's and BigGAN's generators): ``BN(x) * gamma[y] + beta[y]``, with ``gamma`` starting
    at ones and ``beta`` at zeros (so it starts as plain BatchNorm).

    Built from standard layers only, so a saved model loads without custom objects.  The
    tables are named ``label_<name>_gamma`` / ``label_<name>_beta`` (the diagrams fold the
    label path into the layer that uses it).
    """
    channels = x.shape[-1]
    normalised = batch_norm(name, affine=False)(x)
    gamma = layers.Embedding(num_classes, channels, embeddings_initializer="ones",
                             name=f"label_{name}_gamma")(label)
    beta = layers.Embedding(num_classes, channels, embeddings_initializer="zeros",
                            name=f"label_{name}_beta")(label)
    gamma = layers.Reshape((1, 1, channels), name=f"label_{name}_gamma_map")(gamma)
    beta = layers.Reshape((1, 1, channels), name=f"label_{name}_beta_map")(beta)
    scaled = layers.Multiply(name=f"{name}_class_scale")([normalised, gamma])
    return layers.Add(name=f"{name}_class_shift")([scaled, beta])
