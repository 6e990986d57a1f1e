"""Layer helpers shared by the adversarial networks (DCGAN, conditional GAN, AC-GAN)."""

from __future__ import annotations

import keras
from keras import layers, ops

from replication.distribute import num_replicas


def normal_init(stddev: float):
    """The DCGAN / AC-GAN weight initialiser: isotropic Gaussian, mean 0."""
    return keras.initializers.RandomNormal(mean=0.0, stddev=stddev)


@keras.saving.register_keras_serializable(package="replication")
class FusedBatchNormalization(keras.layers.BatchNormalization):
    """Keras' BatchNorm computed by TensorFlow's fused kernel (``FusedBatchNormV3``: oneDNN
    on CPUs, cuDNN on GPUs), the one Keras 2 used by default.

    Same variables, same arithmetic: normalise by the batch's mean and (biased) variance in
    training, by the moving statistics in inference, float32 statistics and float32
    scale/shift, output in the layer's compute dtype.  Keras 3's own layer upcasts a bf16 or
    fp16 input to float32 and computes the moments, the normalisation and their gradients as
    a dozen element-wise ops and casts; the fused kernel reads the low-precision input
    directly and does it in one forward and one backward op (1.2x the AC-GAN's bf16 step on
    the Xeon, docs/speed.md).  Only the common case is fused (4-D channels-last input, no
    mask, no renorm, not synchronized across replicas); anything else runs Keras' code.

    Saved models hold plain ``BatchNormalization`` layers (:func:`standard_layers`), so a
    ``.keras`` file loads without the project."""

    def _fusable(self, inputs, mask) -> bool:
        return (keras.backend.backend() == "tensorflow" and mask is None and not self.renorm
                and not self.synchronized and len(inputs.shape) == 4
                and self.axis in (3, -1))

    def call(self, inputs, training=None, mask=None):
        if not self._fusable(inputs, mask):
            return super().call(inputs, training=training, mask=mask)
        import tensorflow as tf

        x = inputs if inputs.dtype in (tf.float32, tf.bfloat16, tf.float16) else \
            tf.cast(inputs, tf.float32)
        channels = x.shape[-1]
        scale = tf.convert_to_tensor(self.gamma) if self.scale else tf.ones([channels])
        offset = tf.convert_to_tensor(self.beta) if self.center else tf.zeros([channels])
        if training and self.trainable:
            empty = tf.constant([], tf.float32)
            y, mean, variance, _, _, _ = tf.raw_ops.FusedBatchNormV3(
                x=x, scale=scale, offset=offset, mean=empty, variance=empty,
                epsilon=self.epsilon, exponential_avg_factor=1.0, data_format="NHWC",
                is_training=True)
            # The kernel returns the unbiased variance; Keras' moving statistics use the
            # biased one, as its normalisation does.
            shape = tf.shape(x)
            count = tf.cast(shape[0] * shape[1] * shape[2], tf.float32)
            variance = variance * (count - 1.0) / tf.maximum(count, 2.0)
            m = self.momentum
            self.moving_mean.assign(self.moving_mean * m + mean * (1.0 - m))
            self.moving_variance.assign(self.moving_variance * m + variance * (1.0 - m))
        else:
            y, _, _, _, _, _ = tf.raw_ops.FusedBatchNormV3(
                x=x, scale=scale, offset=offset, mean=tf.convert_to_tensor(self.moving_mean),
                variance=tf.convert_to_tensor(self.moving_variance), epsilon=self.epsilon,
                exponential_avg_factor=1.0, data_format="NHWC", is_training=False)
        return tf.cast(y, self.compute_dtype)


def batch_norm(name: str, affine: bool = True, fused: bool = False):
    """BatchNorm with the momentum/epsilon of the reference DCGAN (PyTorch's 0.1 / 1e-5).

    Built under a multi-replica tf.distribute strategy it is synchronized, so that the
    statistics are those of the global batch.  With one replica it is not: Keras' synchronized
    path would still run (materialising a tensor of ones and separate sum / sum-of-squares
    reductions per layer) for the same result.  ``affine=False`` leaves out the learned
    scale and shift (class-conditional BatchNorm supplies its own per class).  ``fused``:
    computed by TensorFlow's fused kernel (:class:`FusedBatchNormalization`)."""
    cls = FusedBatchNormalization if fused else keras.layers.BatchNormalization
    return cls(momentum=0.9, epsilon=1e-5, center=affine, scale=affine,
               synchronized=num_replicas() > 1, name=name)


class SpectralNorm:
    """Spectral normalisation (Miyato et al. 2018) of a layer's kernel, for
    :class:`SpectralNormConv2D` and :class:`SpectralNormDense`: the layer computes with
    ``W / sigma(W)``, ``sigma`` the largest singular value of the kernel seen as a matrix
    ``(fan-in, units)``, estimated by one power iteration per training call from a vector
    ``u`` kept between calls (a non-trainable weight, so checkpointed).  As in the reference
    implementations, ``u`` and ``v`` are constants of the gradient and ``sigma = v W u`` is not:
    the gradient flows through the normalisation.  In inference ``u`` is read, not updated.
    The power iteration runs in float32 whatever the layer's compute dtype."""

    def build(self, input_shape):
        super().build(input_shape)
        self._built_input_shape = input_shape
        self.sn_u = self.add_weight(
            shape=(1, self.kernel.shape[-1]), name="sn_u", trainable=False, autocast=False,
            initializer=keras.initializers.RandomNormal(stddev=1.0),
            aggregation="only_first_replica")

    def sigma(self, training=False):
        """The estimate of the kernel's largest singular value (float32), one power iteration
        from ``u`` (``u`` advanced when ``training``)."""
        matrix = ops.reshape(ops.cast(self.kernel, "float32"), (-1, self.kernel.shape[-1]))
        u = ops.convert_to_tensor(self.sn_u)
        v = ops.stop_gradient(_unit(ops.matmul(u, ops.transpose(matrix))))
        u = ops.stop_gradient(_unit(ops.matmul(v, matrix)))
        if training:
            self.sn_u.assign(u)
        return ops.sum(ops.matmul(v, matrix) * u)

    def call(self, inputs, training=False):
        outputs = self._apply_kernel(inputs, self.normalised_kernel(training))
        if self.use_bias:
            outputs = ops.add(outputs, self.bias)
        return outputs if self.activation is None else self.activation(outputs)

    def normalised_kernel(self, training=False):
        kernel = ops.cast(self.kernel, "float32") / self.sigma(training)
        return ops.cast(kernel, self.compute_dtype)

    def plain(self):
        """The same function as a Keras layer of the standard class, with the kernel divided
        by the current ``sigma`` (what the layer computes in inference)."""
        config = self.get_config()
        layer = self._plain_class.from_config(config)
        layer.build(self._built_input_shape)
        kernel = keras.ops.cast(self.kernel, "float32") / self.sigma()
        weights = [keras.ops.convert_to_numpy(kernel)]
        if self.use_bias:
            weights.append(keras.ops.convert_to_numpy(self.bias))
        layer.set_weights(weights)
        return layer


def _unit(x):
    return x / (ops.sqrt(ops.sum(ops.square(x))) + 1e-12)


@keras.saving.register_keras_serializable(package="replication")
class SpectralNormConv2D(SpectralNorm, layers.Conv2D):
    """``Conv2D`` with a spectrally normalised kernel (see :class:`SpectralNorm`);
    channels-last."""

    _plain_class = layers.Conv2D

    def _apply_kernel(self, inputs, kernel):
        return self.convolution_op(inputs, kernel)


@keras.saving.register_keras_serializable(package="replication")
class SpectralNormDense(SpectralNorm, layers.Dense):
    """``Dense`` with a spectrally normalised kernel (see :class:`SpectralNorm`)."""

    _plain_class = layers.Dense

    def _apply_kernel(self, inputs, kernel):
        return ops.matmul(inputs, kernel)


def conv2d(*args, spectral_norm: bool = False, **kwargs):
    """``Conv2D``, spectrally normalised when ``spectral_norm``."""
    return (SpectralNormConv2D if spectral_norm else layers.Conv2D)(*args, **kwargs)


def dense(*args, spectral_norm: bool = False, **kwargs):
    """``Dense``, spectrally normalised when ``spectral_norm``."""
    return (SpectralNormDense if spectral_norm else layers.Dense)(*args, **kwargs)


_PROJECT_LAYERS = (FusedBatchNormalization, SpectralNorm)


def standard_layers(model):
    """``model`` with every layer of the project's own classes replaced by Keras' standard
    one computing the same function in inference (:class:`FusedBatchNormalization` by
    ``BatchNormalization`` with the same weights; a spectrally normalised layer by a plain one
    whose kernel is divided by its sigma), so that its saved file needs nothing of the
    project; ``model`` itself when it has none."""
    if not any(isinstance(layer, _PROJECT_LAYERS) for layer in model.layers):
        return model

    def plain(layer):
        if isinstance(layer, FusedBatchNormalization):
            return keras.layers.BatchNormalization.from_config(layer.get_config())
        if isinstance(layer, SpectralNorm):
            return layer.plain()
        return layer.__class__.from_config(layer.get_config())

    copy = keras.models.clone_model(model, clone_function=plain)
    if not any(isinstance(layer, SpectralNorm) for layer in model.layers):
        copy.set_weights(model.get_weights())
        return copy
    for source, target in zip(model.layers, copy.layers):
        if not isinstance(source, SpectralNorm):  # (a plain copy holds its weights already)
            target.set_weights(source.get_weights())
    return copy


def one_hot_label(num_classes, name="label"):
    """An integer class-label input and its one-hot encoding."""
    label = keras.Input(shape=(), dtype="int32", name=name)
    return label, layers.CategoryEncoding(num_classes, output_mode="one_hot",
                                          name=f"{name}_one_hot")(label)


def class_conditional_batch_norm(x, label, num_classes: int, name: str, fused: bool = False):
    """BatchNorm whose scale and shift are rows of per-class tables (de Vries et al. 2017;
    SNGAN's and BigGAN's generators): ``BN(x) * gamma[y] + beta[y]``, with ``gamma`` starting
    at ones and ``beta`` at zeros (so it starts as plain BatchNorm).

    Built from standard layers only (``fused``: see :func:`batch_norm`), so a saved model
    loads without custom objects.  The tables are named ``label_<name>_gamma`` /
    ``label_<name>_beta`` (the diagrams fold the label path into the layer that uses it).
    """
    channels = x.shape[-1]
    normalised = batch_norm(name, affine=False, fused=fused)(x)
    gamma = layers.Embedding(num_classes, channels, embeddings_initializer="ones",
                             name=f"label_{name}_gamma")(label)
    beta = layers.Embedding(num_classes, channels, embeddings_initializer="zeros",
                            name=f"label_{name}_beta")(label)
    gamma = layers.Reshape((1, 1, channels), name=f"label_{name}_gamma_map")(gamma)
    beta = layers.Reshape((1, 1, channels), name=f"label_{name}_beta_map")(beta)
    scaled = layers.Multiply(name=f"{name}_class_scale")([normalised, gamma])
    return layers.Add(name=f"{name}_class_shift")([scaled, beta])
