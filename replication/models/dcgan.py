"""Q2: DCGAN (Radford et al. 2015) networks for 32x32x3 (CIFAR-10) or 28x28x1 (MNIST).

The paper's rules, each visible below: no pooling (strided ``Conv2D`` in D, ``Conv2DTranspose``
in G); BatchNorm in every layer except G's output and D's input; ReLU in G with a tanh output;
LeakyReLU(0.2) in D; weights from ``RandomNormal(0, 0.02)``.

The number of stride-2 stages follows the image size: 32 = 4 * 2^3 (three stages), 28 = 7 * 2^2
(two stages, using the last two generator widths and the first two discriminator widths).

The conditional GAN builds on the same trunk; how its label enters each network is a
*label design* (:data:`LABEL_DESIGNS`, the config's ``label_conditioning``):

* G ``"concat"``: the one-hot label joined to the noise (Mirza & Osindero 2014);
  G ``"cbn"``: class-conditional BatchNorm, a per-class scale and shift in every BatchNorm
  layer (SNGAN, BigGAN; the noise alone enters the projection);
* D ``"planes"``: ten constant one-hot planes joined to the image's channels;
  D ``"projection"``: ``logit = psi(phi(x)) + <embed(y), phi(x)>`` over the flattened last
  features ``phi(x)`` (Miyato & Koyama 2018); D ``"late"``: the label planes joined to the
  last (4x4) features, then a 1x1 convolution with BatchNorm and LeakyReLU before the logit
  (Reed et al. 2016).
"""

from __future__ import annotations

import keras
from keras import layers

from replication.vocabulary import LABEL_DESIGNS, unknown
from replication.models.layers import (batch_norm, class_conditional_batch_norm, normal_init,
                                       one_hot_label)

def label_ways(design: str) -> tuple[str, str]:
    """``(generator's way, discriminator's way)`` of a label design
    (:data:`replication.vocabulary.LABEL_DESIGNS`)."""
    if design not in LABEL_DESIGNS:
        raise ValueError(unknown("label design", design, LABEL_DESIGNS))
    return LABEL_DESIGNS[design].generator, LABEL_DESIGNS[design].discriminator


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
                    label_way="concat", fused_norm=False, name="generator") -> keras.Model:
    """noise -> dense projection -> [ConvTranspose stride 2, BN, ReLU]* -> ConvTranspose, tanh.

    Args:
        image_shape: ``(height, width, channels)`` of the images, 28x28 or 32x32.
        noise_dim: length of the N(0, I) noise vector.
        filters: channels of the projected map and of each upsampling stage but the last.
        kernel_size: side of every transposed convolution's kernel.
        init_stddev: standard deviation of the normal weight initialiser (0.02, DCGAN's).
        num_classes: 0 for the unconditional DCGAN; K for the conditional GAN, whose label
            enters by ``label_way``: ``"concat"`` joins the one-hot label to the noise,
            ``"cbn"`` makes every BatchNorm class-conditional.
        fused_norm: BatchNorm by TensorFlow's fused kernel (the same function, faster on CPU).
        name: the model's name.

    Returns:
        A ``keras.Model``: ``noise`` (B, noise_dim) float32 -> images (B, H, W, C) in [-1, 1];
        with ``num_classes`` its inputs are ``[noise, label]``, label (B,) int32.  For example
        ``build_generator((32, 32, 3), 100, (256, 128, 64), 4, 0.02)``.
    """
    if label_way not in ("concat", "cbn"):
        raise ValueError(f"unknown generator label way {label_way!r}")
    height, width, channels = image_shape
    stages = upsampling_stages(height)
    widths = list(filters)[-stages:]
    start = height // 2 ** stages
    init = normal_init(init_stddev)
    noise = keras.Input(shape=(noise_dim,), name="noise")
    inputs, x, label = noise, noise, None
    if num_classes:
        label = keras.Input(shape=(), dtype="int32", name="label")
        inputs = [noise, label]
        if label_way == "concat":
            one_hot = layers.CategoryEncoding(num_classes, output_mode="one_hot",
                                              name="label_one_hot")(label)
            x = layers.Concatenate(name="noise_and_label")([noise, one_hot])

    def norm(x, name):
        if num_classes and label_way == "cbn":
            return class_conditional_batch_norm(x, label, num_classes, name, fused_norm)
        return batch_norm(name, fused=fused_norm)(x)

    x = layers.Dense(start * start * widths[0], use_bias=False, kernel_initializer=init,
                     name="project")(x)
    x = layers.Reshape((start, start, widths[0]), name="reshape")(x)
    x = norm(x, "project_bn")
    x = layers.ReLU(name="project_relu")(x)
    for i, width_ in enumerate(widths[1:], start=1):
        x = layers.Conv2DTranspose(width_, kernel_size, strides=2, padding="same", use_bias=False,
                                   kernel_initializer=init, name=f"deconv{i}")(x)
        x = norm(x, f"deconv{i}_bn")
        x = layers.ReLU(name=f"deconv{i}_relu")(x)
    x = layers.Conv2DTranspose(channels, kernel_size, strides=2, padding="same",
                               kernel_initializer=init, name=f"deconv{stages}")(x)
    images = layers.Activation("tanh", name="tanh")(x)
    return keras.Model(inputs, images, name=name)


def build_discriminator(image_shape, filters, kernel_size, init_stddev, leaky_slope,
                        norm="batch", num_classes=0, label_way="planes", fused_norm=False,
                        name="discriminator") -> keras.Model:
    """image -> [Conv stride 2, (BN), LeakyReLU]* -> dense logit.  No BN on the input layer.

    Args:
        image_shape, filters, kernel_size, init_stddev: as :func:`build_generator`'s (filters:
            the channels of each downsampling stage).
        leaky_slope: negative slope of the LeakyReLUs (0.2, DCGAN's).
        norm: ``"batch"``, or ``"layer"`` for WGAN-GP's critic (the gradient penalty is per
            example, which batch statistics would break).
        num_classes: 0, or K for the conditional GAN, whose label enters by ``label_way``
            (module docstring): ``"planes"`` at the input, ``"late"`` at the last features,
            ``"projection"`` as an inner product with the last features.
        fused_norm: BatchNorm by TensorFlow's fused kernel.
        name: the model's name.

    Returns:
        A ``keras.Model``: images (B, H, W, C) in [-1, 1] -> logits (B, 1) float32 (inputs
        ``[image, label]`` with ``num_classes``).
    """
    if label_way not in ("planes", "projection", "late"):
        raise ValueError(f"unknown discriminator label way {label_way!r}")
    stages = upsampling_stages(image_shape[0])
    init = normal_init(init_stddev)

    def normalise(x, name):
        return (batch_norm(f"{name}_bn", fused=fused_norm) if norm == "batch"
                else layers.LayerNormalization(axis=[1, 2, 3], name=f"{name}_ln"))(x)

    images = keras.Input(shape=image_shape, name="image")
    inputs, x = images, images
    if num_classes:
        label, one_hot = one_hot_label(num_classes)
        inputs = [images, label]
        if label_way == "planes":
            x = layers.Concatenate(name="image_and_label")(
                [images, _label_planes(one_hot, num_classes, image_shape[:2], "")])
    for i, width_ in enumerate(list(filters)[:stages], start=1):
        x = layers.Conv2D(width_, kernel_size, strides=2, padding="same", use_bias=(i == 1),
                          kernel_initializer=init, name=f"conv{i}")(x)
        if i > 1:
            x = normalise(x, f"conv{i}")
        x = layers.LeakyReLU(leaky_slope, name=f"conv{i}_lrelu")(x)
    if num_classes and label_way == "late":
        x = layers.Concatenate(name="features_and_label")(
            [x, _label_planes(one_hot, num_classes, tuple(x.shape[1:3]), "_late")])
        x = layers.Conv2D(x.shape[-1] - num_classes, 1, use_bias=False, kernel_initializer=init,
                          name="joint_conv")(x)
        x = normalise(x, "joint")
        x = layers.LeakyReLU(leaky_slope, name="joint_lrelu")(x)
    features = layers.Flatten(name="flatten")(x)
    logit = layers.Dense(1, kernel_initializer=init, name="logit")(features)
    if num_classes and label_way == "projection":
        embedded = layers.Embedding(num_classes, features.shape[-1],
                                    embeddings_initializer=init, name="label_embedding")(label)
        projection = layers.Dot(axes=1, name="projection")([features, embedded])
        logit = layers.Add(name="logit_and_projection")([logit, projection])
    return keras.Model(inputs, logit, name=name)


def _label_planes(one_hot, num_classes, size, tag):
    """The one-hot label broadcast to ``num_classes`` constant planes of ``size``."""
    planes = layers.Reshape((1, 1, num_classes), name=f"label_planes{tag}")(one_hot)
    return layers.UpSampling2D(size, name=f"label_broadcast{tag}")(planes)
