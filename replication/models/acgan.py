"""Q3: AC-GAN (Odena et al. 2016), built layer by layer from the paper's CIFAR-10 table.

Generator: 110 inputs (100 noise + 10 one-hot class) -> linear 384 (a 4x4x384 map), ReLU ->
5x5 stride-2 transposed convolutions 192 (BN, ReLU), 96 (BN, ReLU), 3 (tanh).
Discriminator: six 3x3 convolutions 16, 32, 64, 128, 256, 512 with strides 2, 1, 2, 1, 2, 1,
BatchNorm on all but the first, LeakyReLU 0.2 and dropout 0.5 after each -> linear 11 outputs
(1 source logit + 10 class logits; the sigmoid and softmax, the table's "soft-sigmoid", are
applied in the loss).  Weights N(0, 0.02), biases 0.  Optional Gaussian activation noise (the
table's std option) on D's input and after each of its activations.

Options beyond the table, each a departure from it (issue-level levers, off by default):
spectral normalisation of D's convolutions and linear layer (``spectral_norm``), D without its
BatchNorm (``d_batchnorm=False``), and a twin classifier head on D (``class_loss="twin"``,
TAC-GAN: 1 + 2K outputs).

:func:`architecture_rows` reads the table back from the built models (``table1``).
"""

from __future__ import annotations

import keras
from keras import layers

from replication.models.layers import batch_norm, conv2d, dense, normal_init, one_hot_label

OUTPUT_NONLINEARITY = "soft-sigmoid"  # sigmoid (source) + softmax (class), inside the loss


def build_generator(config, num_classes, image_shape=(32, 32, 3), name="generator"):
    """The AC-GAN paper's CIFAR-10 generator (its appendix table): [noise, one-hot class] ->
    linear -> transposed convolutions with BatchNorm and ReLU -> tanh.

    Args:
        config: an :class:`~replication.experiments.acgan.ACGANConfig` (noise_dim,
            gen_linear_maps, gen_filters, gen_kernel_size, init_stddev, fused_batchnorm).
        num_classes: K, the number of classes.
        image_shape: ``(height, width, channels)``; the stages double the side from the
            linear map's.
        name: the model's name.

    Returns:
        A ``keras.Model``: ``[noise (B, noise_dim) float32, label (B,) int32]`` -> images
        (B, H, W, C) in [-1, 1].
    """
    init = normal_init(config.init_stddev)
    stages = len(config.gen_filters) + 1
    start = image_shape[0] // 2 ** stages
    noise = keras.Input(shape=(config.noise_dim,), name="noise")
    label, one_hot = one_hot_label(num_classes)
    x = layers.Concatenate(name="noise_and_class")([noise, one_hot])
    x = layers.Dense(start * start * config.gen_linear_maps, kernel_initializer=init,
                     name="linear")(x)
    x = layers.Reshape((start, start, config.gen_linear_maps), name="linear_map")(x)
    x = layers.ReLU(name="linear_relu")(x)
    for i, filters in enumerate(config.gen_filters, start=1):
        x = layers.Conv2DTranspose(filters, config.gen_kernel_size, strides=2, padding="same",
                                   kernel_initializer=init, name=f"deconv{i}")(x)
        x = batch_norm(f"deconv{i}_bn", fused=config.fused_batchnorm)(x)
        x = layers.ReLU(name=f"deconv{i}_relu")(x)
    x = layers.Conv2DTranspose(image_shape[-1], config.gen_kernel_size, strides=2,
                               padding="same", kernel_initializer=init, name=f"deconv{stages}")(x)
    images = layers.Activation("tanh", name="tanh")(x)
    return keras.Model([noise, label], images, name=name)


def build_discriminator(config, num_classes, image_shape=(32, 32, 3), name="discriminator"):
    """The AC-GAN paper's CIFAR-10 discriminator: convolutions with LeakyReLU, dropout (and the
    paper's optional activation noise), then one head for real/fake and one for the class.

    Args:
        config: an :class:`~replication.experiments.acgan.ACGANConfig` (disc_filters,
            disc_kernel_size, disc_strides, dropout, leaky_slope, activation_noise,
            spectral_norm, d_batchnorm, class_loss, ...).
        num_classes: K, the number of classes.
        image_shape: ``(height, width, channels)``.
        name: the model's name.

    Returns:
        A ``keras.Model``: images (B, H, W, C) in [-1, 1] -> (B, 1 + K) float32: the
        real/fake logit, then the K class logits (then K twin class logits when
        ``config.class_loss == "twin"``: (B, 1 + 2K)).
    """
    init = normal_init(config.init_stddev)
    sn = bool(getattr(config, "spectral_norm", False))
    with_bn = bool(getattr(config, "d_batchnorm", True))
    heads = 2 if getattr(config, "class_loss", "all") == "twin" else 1
    noise = config.activation_noise
    images = keras.Input(shape=image_shape, name="image")
    x = images
    if noise:
        x = layers.GaussianNoise(noise, name="input_noise")(x)
    for i, (filters, stride) in enumerate(zip(config.disc_filters, config.disc_strides), start=1):
        x = conv2d(filters, config.disc_kernel_size, strides=stride, padding="same",
                   kernel_initializer=init, name=f"conv{i}", spectral_norm=sn)(x)
        if i > 1 and with_bn:
            x = batch_norm(f"conv{i}_bn", fused=config.fused_batchnorm)(x)
        x = layers.LeakyReLU(config.leaky_slope, name=f"conv{i}_lrelu")(x)
        if noise:
            x = layers.GaussianNoise(noise, name=f"conv{i}_noise")(x)
        x = layers.Dropout(config.dropout, name=f"conv{i}_dropout")(x)
    x = layers.Flatten(name="flatten")(x)
    out = dense(1 + heads * num_classes, kernel_initializer=init, name="source_and_class",
                spectral_norm=sn)(x)
    return keras.Model(images, out, name=name)


TABLE_HEADER = ["operation", "kernel", "strides", "feature maps", "BN?", "dropout", "nonlinearity"]


def architecture_rows(generator, discriminator) -> list[list[str]]:
    """The paper's table, read from the built models: one row per weight layer, plus the two
    input rows.  Everything comes from layer objects, nothing from the config."""
    rows = []
    noise_dim = generator.inputs[0].shape[-1]
    classes = generator.get_layer("label_one_hot").num_tokens
    rows.append([f"G input: {noise_dim + classes} × 1 × 1 ({noise_dim} noise + {classes} class)"]
                + [""] * 6)
    rows += _rows_of(generator, output_nonlinearity=None)
    h, w, c = discriminator.inputs[0].shape[1:]
    rows.append([f"D input: {h} × {w} × {c}"] + [""] * 6)
    rows += _rows_of(discriminator, output_nonlinearity=OUTPUT_NONLINEARITY)
    return rows


def _rows_of(model, output_nonlinearity):
    weight_layers = (layers.Dense, layers.Conv2D, layers.Conv2DTranspose)
    found = [layer for layer in model.layers if isinstance(layer, weight_layers)]
    rows = []
    for index, layer in enumerate(found):
        following = _following(model, layer, found)
        if isinstance(layer, layers.Dense):
            operation, kernel, strides = "linear", "N/A", "N/A"
            maps = layer.units
            reshapes = [f for f in following if isinstance(f, layers.Reshape)]
            if reshapes:
                maps = reshapes[0].target_shape[-1]
        else:
            operation = "transposed conv" if isinstance(layer, layers.Conv2DTranspose) else "conv"
            kernel = "×".join(str(k) for k in layer.kernel_size)
            strides = "×".join(str(s) for s in layer.strides)
            maps = layer.filters
        bn = "yes" if any(isinstance(f, layers.BatchNormalization) for f in following) else "no"
        dropout = next((f.rate for f in following if isinstance(f, layers.Dropout)), 0.0)
        nonlinearity = next((_nonlinearity(f) for f in following if _nonlinearity(f)), None)
        if nonlinearity is None and index == len(found) - 1 and output_nonlinearity:
            nonlinearity = output_nonlinearity
        rows.append([operation, kernel, strides, str(maps), bn, f"{dropout:.1f}",
                     nonlinearity or "linear"])
    return rows


def _following(model, layer, weight_layers):
    """Layers after ``layer`` up to the next weight layer (the model is a chain after inputs)."""
    order = model.layers
    start = order.index(layer)
    out = []
    for nxt in order[start + 1:]:
        if nxt in weight_layers:
            break
        out.append(nxt)
    return out


def _nonlinearity(layer):
    if isinstance(layer, layers.LeakyReLU):
        return "LeakyReLU"
    if isinstance(layer, layers.ReLU):
        return "ReLU"
    if isinstance(layer, layers.Activation):
        name = getattr(layer.activation, "__name__", "")
        return {"tanh": "tanh", "relu": "ReLU", "sigmoid": "sigmoid"}.get(name)
    return None
