"""Q2: DCGAN (Radford et al. 2015) networks for 32x32x3 (CIFAR-10) or 28x28x1 (MNIST).

The paper's rules, each visible below: no pooling (strided ``Conv2D`` in D, ``Conv2DTranspose``
in G); BatchNorm in every layer except G's output and D's input; ReLU in G with a tanh output;
LeakyReLU(0.2) in D; weights from ``RandomNormal(0, 0.02)``.

The number of stride-2 stages follows the image size: 32 = 4 * 2^3 (three stages), 28 = 7 * 2^2
(two stages, using the last two generator widths and the first two discriminator widths).
"""

from __future__ import annotations

import keras
from keras import layers

from replication.models.layers import batch_norm, normal_init, one_hot_label


def upsampling_stages(image_size: int) -> int:
    """Stride-2 stages between the projected map (4x4 .. 7x7) and ``image_size``."""
    stages, size = 0, image_size
    while size % 2 == 0 and size // 2 >= 4:
        size //= 2
        stages += 1
    if stages == 0:
        raise ValueError(f"image size {image_size} cannot be reached by stride-2 stages")
    return stages


def build_generator(image_shape, noise_dim, filters, kernel_size, init_stddev, num_classes=0,
                    name="generator") -> keras.Model:
    """noise -> dense projection -> [ConvTranspose stride 2, BN, ReLU]* -> ConvTranspose, tanh.

    With ``num_classes`` (the conditional GAN) the one-hot label is joined to the noise.
    """
    height, width, channels = image_shape
    stages = upsampling_stages(height)
    widths = list(filters)[-stages:]
    start = height // 2 ** stages
    init = normal_init(init_stddev)
    noise = keras.Input(shape=(noise_dim,), name="noise")
    inputs, x = noise, noise
    if num_classes:
        label, one_hot = one_hot_label(num_classes)
        inputs = [noise, label]
        x = layers.Concatenate(name="noise_and_label")([noise, one_hot])
    x = layers.Dense(start * start * widths[0], use_bias=False, kernel_initializer=init,
                     name="project")(x)
    x = layers.Reshape((start, start, widths[0]), name="reshape")(x)
    x = batch_norm("project_bn")(x)
    x = layers.ReLU(name="project_relu")(x)
    for i, width_ in enumerate(widths[1:], start=1):
        x = layers.Conv2DTranspose(width_, kernel_size, strides=2, padding="same", use_bias=False,
                                   kernel_initializer=init, name=f"deconv{i}")(x)
        x = batch_norm(f"deconv{i}_bn")(x)
        x = layers.ReLU(name=f"deconv{i}_relu")(x)
    x = layers.Conv2DTranspose(channels, kernel_size, strides=2, padding="same",
                               kernel_initializer=init, name=f"deconv{stages}")(x)
    images = layers.Activation("tanh", name="tanh")(x)
    return keras.Model(inputs, images, name=name)


def build_discriminator(image_shape, filters, kernel_size, init_stddev, leaky_slope,
                        norm="batch", num_classes=0, name="discriminator") -> keras.Model:
    """image -> [Conv stride 2, (BN), LeakyReLU]* -> dense logit.  No BN on the input layer.

    ``norm="layer"`` swaps BatchNorm for LayerNorm, as WGAN-GP requires of its critic (the
    gradient penalty is per example, which batch statistics would break).  With
    ``num_classes`` (the conditional GAN) the one-hot label is broadcast to ``num_classes``
    constant planes and joined to the image's channels.
    """
    stages = upsampling_stages(image_shape[0])
    init = normal_init(init_stddev)
    images = keras.Input(shape=image_shape, name="image")
    inputs, x = images, images
    if num_classes:
        label, one_hot = one_hot_label(num_classes)
        inputs = [images, label]
        planes = layers.Reshape((1, 1, num_classes), name="label_planes")(one_hot)
        planes = layers.UpSampling2D(image_shape[:2], name="label_broadcast")(planes)
        x = layers.Concatenate(name="image_and_label")([images, planes])
    for i, width_ in enumerate(list(filters)[:stages], start=1):
        x = layers.Conv2D(width_, kernel_size, strides=2, padding="same", use_bias=(i == 1),
                          kernel_initializer=init, name=f"conv{i}")(x)
        if i > 1:
            x = (batch_norm(f"conv{i}_bn") if norm == "batch"
                 else layers.LayerNormalization(axis=[1, 2, 3], name=f"conv{i}_ln"))(x)
        x = layers.LeakyReLU(leaky_slope, name=f"conv{i}_lrelu")(x)
    x = layers.Flatten(name="flatten")(x)
    logit = layers.Dense(1, kernel_initializer=init, name="logit")(x)
    return keras.Model(inputs, logit, name=name)
