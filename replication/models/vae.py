"""Q1: the variational autoencoder (Kingma & Welling 2013) with a convolutional encoder/decoder.

The encoder maps an image ``x`` to the mean and log-variance of ``q_phi(z|x)``; training samples
``z = mu + sigma * eps`` with ``eps ~ N(0, I)`` (the reparameterisation trick); the decoder
gives the logits of a Bernoulli ``p_theta(x|z)``.  The loss is the negative ELBO in nats per
image: summed sigmoid cross-entropy over pixels plus the analytic KL to ``N(0, I)``.

Example::

    config = make_config("vae", "smoke")  # replication.experiments
    vae = build_vae(config, image_shape=(28, 28, 1))
    vae.compile(optimizer=keras.optimizers.Adam(config.learning_rate))
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

from replication.distribute import fit_logs, num_replicas, replica_slice


def build_conv_encoder(image_shape, conv_filters, kernel_size, dense_units, latent_dim,
                       name="encoder") -> keras.Model:
    """Strided convolutions -> dense -> (z_mean, z_log_var)."""
    inputs = keras.Input(shape=image_shape, name="image")
    x = inputs
    for i, filters in enumerate(conv_filters):
        x = layers.Conv2D(filters, kernel_size, strides=2, padding="same", activation="relu",
                          name=f"conv{i + 1}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(dense_units, activation="relu", name="dense")(x)
    return latent_head(inputs, x, latent_dim, name=name)


def latent_head(inputs, features, latent_dim, name="encoder") -> keras.Model:
    """The Gaussian head shared by every encoder: features -> (z_mean, z_log_var)."""
    z_mean = layers.Dense(latent_dim, name="z_mean")(features)
    z_log_var = layers.Dense(latent_dim, name="z_log_var")(features)
    return keras.Model(inputs, [z_mean, z_log_var], name=name)


def build_conv_decoder(image_shape, conv_filters, kernel_size, dense_units, latent_dim,
                       name="decoder") -> keras.Model:
    """z -> dense -> transposed convolutions (the encoder mirrored) -> pixel logits."""
    height, width, channels = image_shape
    factor = 2 ** len(conv_filters)
    if height % factor or width % factor:
        raise ValueError(f"image size {height}x{width} is not divisible by {factor}")
    start = (height // factor, width // factor, conv_filters[-1])
    inputs = keras.Input(shape=(latent_dim,), name="z")
    x = layers.Dense(dense_units, activation="relu", name="dense")(inputs)
    x = layers.Dense(int(np.prod(start)), activation="relu", name="project")(x)
    x = layers.Reshape(start, name="reshape")(x)
    for i, filters in enumerate(reversed(conv_filters)):
        x = layers.Conv2DTranspose(filters, kernel_size, strides=2, padding="same",
                                   activation="relu", name=f"deconv{i + 1}")(x)
    logits = layers.Conv2DTranspose(channels, kernel_size, padding="same", name="logits")(x)
    return keras.Model(inputs, logits, name=name)


def bernoulli_nll(x, logits):
    """-log p(x|z) per image for a Bernoulli decoder: sigmoid cross-entropy summed over pixels.

    Written in the numerically stable form ``max(l, 0) - l*x + log(1 + exp(-|l|))``.
    """
    logits = ops.cast(logits, "float32")  # mixed precision: the loss is summed in float32
    x = ops.cast(x, "float32")
    per_pixel = ops.relu(logits) - logits * x + ops.log1p(ops.exp(-ops.abs(logits)))
    return ops.sum(ops.reshape(per_pixel, (ops.shape(x)[0], -1)), axis=-1)


def gaussian_kl(z_mean, z_log_var):
    """KL(N(mu, diag(exp(log_var))) || N(0, I)) per example, in nats."""
    z_mean, z_log_var = ops.cast(z_mean, "float32"), ops.cast(z_log_var, "float32")
    return -0.5 * ops.sum(1.0 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=-1)


@keras.saving.register_keras_serializable(package="replication")
class VAE(keras.Model):
    """Encoder + reparameterised sampling + decoder, trained on the negative ELBO.

    Args:
        encoder: a model mapping images to ``[z_mean, z_log_var]``.
        decoder: a model mapping ``z`` to pixel logits of the image's shape.
        seed: seed of the model's own :class:`keras.random.SeedGenerator` (sampling noise).

    ``call(x)`` returns the reconstruction probabilities decoded from ``z_mean``
    (deterministic); :meth:`decode` maps latent points to images in ``[0, 1]``.
    Metrics (reset each epoch): ``loss`` (negative ELBO), ``reconstruction_loss``, ``kl_loss``.

    Example::

        vae = build_vae(make_config("vae", "smoke"), (28, 28, 1))
        vae.compile(optimizer=keras.optimizers.Adam(1e-3))
        vae.fit(images, batch_size=128, epochs=1)   # images in [0, 1], (N, 28, 28, 1)
        digits = vae.decode(np.zeros((1, 2), "float32"))
    """

    def __init__(self, encoder, decoder, seed=0, **kwargs):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed, name="sampling_seed")
        self.total_tracker = keras.metrics.Mean(name="loss")
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_tracker = keras.metrics.Mean(name="kl_loss")

    @property
    def metrics(self):
        return [self.total_tracker, self.reconstruction_tracker, self.kl_tracker]

    def call(self, x, training=False):
        z_mean, _ = self.encoder(x, training=training)
        return self.decode(z_mean, training=training)

    def decode(self, z, training=False):
        return ops.sigmoid(self.decoder(z, training=training))

    def sample_latent(self, z_mean, z_log_var):
        batch, dim = ops.shape(z_mean)[0], ops.shape(z_mean)[1]
        eps = replica_slice(lambda shape: keras.random.normal(shape, seed=self.seed_generator),
                            batch, dim)
        return z_mean + ops.exp(0.5 * z_log_var) * eps

    def compute_losses(self, x, training):
        """Per-image reconstruction and KL terms (nats), with one reparameterised sample."""
        z_mean, z_log_var = self.encoder(x, training=training)
        # The latent head stays in float32 under mixed precision (sampling, KL).
        z_mean, z_log_var = ops.cast(z_mean, "float32"), ops.cast(z_log_var, "float32")
        z = self.sample_latent(z_mean, z_log_var)
        logits = self.decoder(z, training=training)
        return bernoulli_nll(x, logits), gaussian_kl(z_mean, z_log_var)

    def _update_metrics(self, reconstruction, kl):
        self.reconstruction_tracker.update_state(reconstruction)
        self.kl_tracker.update_state(kl)
        self.total_tracker.update_state(reconstruction + kl)
        return fit_logs({m.name: m.result() for m in self.metrics})

    def train_step(self, data):
        import tensorflow as tf

        x = data[0] if isinstance(data, (tuple, list)) else data
        with tf.GradientTape() as tape:
            reconstruction, kl = self.compute_losses(x, training=True)
            loss = ops.mean(reconstruction + kl)
            # Gradients are summed over replicas: scale the per-replica mean accordingly.
            scaled = self.optimizer.scale_loss(loss / num_replicas())
        grads = tape.gradient(scaled, self.trainable_variables)
        self.optimizer.apply(grads, self.trainable_variables)
        return self._update_metrics(reconstruction, kl)

    def test_step(self, data):
        x = data[0] if isinstance(data, (tuple, list)) else data
        reconstruction, kl = self.compute_losses(x, training=False)
        return self._update_metrics(reconstruction, kl)

    def get_config(self):
        config = super().get_config()
        config.update(
            encoder=keras.saving.serialize_keras_object(self.encoder),
            decoder=keras.saving.serialize_keras_object(self.decoder),
            seed=self.seed,
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        encoder = keras.saving.deserialize_keras_object(config.pop("encoder"))
        decoder = keras.saving.deserialize_keras_object(config.pop("decoder"))
        return cls(encoder, decoder, **config)


def build_vae(config, image_shape) -> VAE:
    """The Q1 VAE, built (every sub-model has its weights).

    Args:
        config: a :class:`~replication.experiments.vae.VAEConfig` (latent_dim, conv_filters,
            kernel_size, dense_units, seed).
        image_shape: ``(height, width, channels)``, MNIST's (28, 28, 1).

    Returns:
        A :class:`VAE`, uncompiled.
    """
    encoder = build_conv_encoder(image_shape, config.conv_filters, config.kernel_size,
                                 config.dense_units, config.latent_dim)
    decoder = build_conv_decoder(image_shape, config.conv_filters, config.kernel_size,
                                 config.dense_units, config.latent_dim)
    vae = VAE(encoder, decoder, seed=config.seed, name=config.experiment)
    vae(ops.zeros((1, *image_shape)))  # build every sub-model before fit() (and strategies)
    return vae
