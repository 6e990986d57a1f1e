"""The adversarial training core shared by the DCGAN, the conditional GAN and the AC-GAN.

:class:`GAN` holds a generator and a discriminator and trains them with ``fit()``: each
``train_step`` updates the discriminator on a real and a generated batch, then the generator
(every ``critic_steps`` discriminator updates for the Wasserstein loss).  Three kinds of
conditioning share the step:

* ``"none"`` – DCGAN: ``G(z)``, ``D(x) -> source logit``.
* ``"input"`` – conditional GAN (Mirza & Osindero 2014): the class label is an input of both
  networks, ``G(z, y)``, ``D(x, y) -> source logit``.
* ``"auxiliary"`` – AC-GAN (Odena et al. 2016): ``G(z, c)``, ``D(x) -> [source logit,
  K class logits]``; D minimises ``-(L_S + L_C)`` and G minimises ``-(L_C - L_S)`` (with the
  chosen form of the source term, see :mod:`replication.models.losses`).

Noise and fake class labels are drawn from the model's own ``SeedGenerator`` (checkpointed, so
a resumed run draws what an uninterrupted one would).  Both networks run with
``training=True`` inside the step.  Metrics, reset every epoch: ``d_loss``, ``g_loss``,
``d_acc_real``, ``d_acc_fake`` (and ``cls_acc_real``, ``cls_acc_fake`` for the AC-GAN).

Example::

    gan = GAN(generator, discriminator, noise_dim=100)
    gan.compile(d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
                g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5), loss="non-saturating")
    gan.fit(images, epochs=1)
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from replication.distribute import fit_logs, num_replicas, replica_slice
from replication.models.losses import get_loss, real_decision_threshold

CONDITIONING = ("none", "input", "auxiliary")


class GAN(keras.Model):
    """Generator + discriminator trained adversarially.

    Args:
        generator: model ``noise -> image`` (``[noise, label] -> image`` when conditional).
        discriminator: model ``image -> (B, 1)`` logits; ``[image, label] -> (B, 1)`` for
            ``conditioning="input"``; ``image -> (B, 1 + num_classes)`` for ``"auxiliary"``.
        noise_dim: length of the generator's noise vector.
        num_classes: number of classes (conditional models).
        conditioning: ``"none"``, ``"input"`` or ``"auxiliary"``.
        seed: seed of the model's noise ``SeedGenerator``.
    """

    def __init__(self, generator, discriminator, noise_dim, num_classes=0, conditioning="none",
                 seed=0, **kwargs):
        super().__init__(**kwargs)
        if conditioning not in CONDITIONING:
            raise ValueError(f"conditioning must be one of {CONDITIONING}, got {conditioning!r}")
        if conditioning != "none" and num_classes < 2:
            raise ValueError("a conditional GAN needs num_classes >= 2")
        self.generator = generator
        self.discriminator = discriminator
        self.noise_dim = int(noise_dim)
        self.num_classes = int(num_classes)
        self.conditioning = conditioning
        self.seed_generator = keras.random.SeedGenerator(seed, name="noise_seed")
        names = ["d_loss", "g_loss", "d_acc_real", "d_acc_fake"]
        if conditioning == "auxiliary":
            names += ["cls_acc_real", "cls_acc_fake"]
        self.trackers = {name: keras.metrics.Mean(name=name) for name in names}
        # Both networks are built functional models: nothing is left for fit()'s symbolic
        # build (which would call call() on an image batch, under a strategy too).
        self.built = True

    @property
    def conditional(self) -> bool:
        return self.conditioning != "none"

    @property
    def metrics(self):
        return list(self.trackers.values())

    def compile(self, d_optimizer, g_optimizer, loss="non-saturating", gp_weight=10.0,
                critic_steps=1, share_fakes=False, **kwargs):
        """Set both optimizers and the loss (a name from ``replication.models.losses.LOSSES``).

        ``critic_steps`` discriminator updates are made per generator update; ``gp_weight``
        weighs the gradient penalty of the Wasserstein loss.  ``share_fakes``: one generator
        forward pass serves both updates of a step (see :meth:`_shared_step`); it applies only
        with ``critic_steps == 1`` (with several critic updates per generator update each
        critic update needs its own fakes).
        """
        super().compile(**kwargs)
        self.share_fakes = bool(share_fakes)
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        self.gan_loss = get_loss(loss)
        self.gp_weight = float(gp_weight)
        self.critic_steps = int(critic_steps)
        self._threshold = real_decision_threshold(self.gan_loss)

    # ---------------------------------------------------------------------------------------
    # Forward passes

    def generate(self, noise, labels=None, training=False):
        inputs = [noise, labels] if self.conditional else noise
        return self.generator(inputs, training=training)

    def discriminate(self, images, labels=None, training=False):
        """Return ``(source_logits (B,), class_logits (B, K) or None)`` in float32."""
        if self.conditioning == "input":
            out = self.discriminator([images, labels], training=training)
        else:
            out = self.discriminator(images, training=training)
        out = ops.cast(out, "float32")
        if self.conditioning == "auxiliary":
            return out[:, 0], out[:, 1:]
        return ops.reshape(out, (-1,)), None

    def call(self, inputs, training=False):
        if self.conditional:
            noise, labels = inputs
            return self.generate(noise, labels, training=training)
        return self.generate(inputs, training=training)

    def sample_inputs(self, batch):
        """Noise (and fake class labels) for a batch, drawn for the global batch and sliced per
        replica (see :func:`replication.distribute.replica_slice`)."""
        noise = replica_slice(lambda shape: keras.random.normal(shape, seed=self.seed_generator),
                              batch, self.noise_dim)
        labels = None
        if self.conditional:
            labels = replica_slice(lambda shape: keras.random.randint(
                shape, 0, self.num_classes, seed=self.seed_generator, dtype="int32"), batch)
        return noise, labels

    # ---------------------------------------------------------------------------------------
    # Losses

    def class_loss(self, labels, logits):
        return ops.mean(ops.sparse_categorical_crossentropy(labels, logits, from_logits=True))

    def gradient_penalty(self, real, fake, labels):
        """WGAN-GP: ``E[(||grad_x D(x_hat)|| - 1)^2]`` on random interpolates ``x_hat``."""
        batch = ops.shape(real)[0]
        eps = replica_slice(lambda shape: keras.random.uniform(
            shape, seed=self.seed_generator, dtype=real.dtype), batch, 1, 1, 1)
        x_hat = eps * real + (1.0 - eps) * ops.cast(fake, real.dtype)
        with tf.GradientTape() as tape:
            tape.watch(x_hat)
            source, _ = self.discriminate(x_hat, labels, training=True)
        grads = tape.gradient(source, x_hat)
        norm = ops.sqrt(ops.sum(ops.square(ops.cast(grads, "float32")), axis=[1, 2, 3]) + 1e-12)
        return ops.mean(ops.square(norm - 1.0))

    # ---------------------------------------------------------------------------------------
    # Training

    @staticmethod
    def _scaled(optimizer, loss):
        """The loss to differentiate (inside the tape): gradients are summed over replicas and
        each replica's loss is a mean over its own batch; loss scaling for mixed precision."""
        return optimizer.scale_loss(loss / num_replicas())

    def _discriminator_step(self, real, labels):
        noise, fake_labels = self.sample_inputs(ops.shape(real)[0])
        fake = self.generate(noise, fake_labels, training=True)
        self._discriminator_update(real, labels, fake, fake_labels)

    def _discriminator_update(self, real, labels, fake, fake_labels):
        variables = self.discriminator.trainable_variables
        with tf.GradientTape() as tape:
            real_src, real_cls = self.discriminate(real, labels, training=True)
            fake_src, fake_cls = self.discriminate(fake, fake_labels, training=True)
            d_loss = self.gan_loss.d(real_src, fake_src)
            if self.gan_loss.needs_gradient_penalty:
                d_loss += self.gp_weight * self.gradient_penalty(real, fake, labels)
            if self.conditioning == "auxiliary":
                d_loss += self.class_loss(labels, real_cls) + self.class_loss(fake_labels, fake_cls)
            scaled = self._scaled(self.d_optimizer, d_loss)
        self.d_optimizer.apply(tape.gradient(scaled, variables), variables)
        t = self._threshold
        self.trackers["d_loss"].update_state(d_loss)
        self.trackers["d_acc_real"].update_state(ops.cast(real_src > t, "float32"))
        self.trackers["d_acc_fake"].update_state(ops.cast(fake_src <= t, "float32"))
        if self.conditioning == "auxiliary":
            self.trackers["cls_acc_real"].update_state(_hits(real_cls, labels))
            self.trackers["cls_acc_fake"].update_state(_hits(fake_cls, fake_labels))

    def _generator_loss(self, fake, labels):
        src, cls = self.discriminate(fake, labels, training=True)
        g_loss = self.gan_loss.g(src)
        if self.conditioning == "auxiliary":
            g_loss += self.class_loss(labels, cls)
        return g_loss

    def _generator_step(self, batch):
        noise, labels = self.sample_inputs(batch)
        variables = self.generator.trainable_variables
        with tf.GradientTape() as tape:
            fake = self.generate(noise, labels, training=True)
            g_loss = self._generator_loss(fake, labels)
            scaled = self._scaled(self.g_optimizer, g_loss)
        self.g_optimizer.apply(tape.gradient(scaled, variables), variables)
        return g_loss

    def _shared_step(self, real, labels):
        """D and G updates from one generator forward pass (as the reference PyTorch DCGAN
        does): D is updated on the fakes, then G's loss is taken from the *updated* D on the
        same fakes and differentiated through the recorded generator pass.  Saves one
        generator forward pass per step; the two updates see the same noise instead of two
        independent draws."""
        noise, fake_labels = self.sample_inputs(ops.shape(real)[0])
        variables = self.generator.trainable_variables
        with tf.GradientTape() as tape:
            fake = self.generate(noise, fake_labels, training=True)
            with tape.stop_recording():
                self._discriminator_update(real, labels, ops.stop_gradient(fake), fake_labels)
            g_loss = self._generator_loss(fake, fake_labels)
            scaled = self._scaled(self.g_optimizer, g_loss)
        self.g_optimizer.apply(tape.gradient(scaled, variables), variables)
        return g_loss

    def train_step(self, data):
        if isinstance(data, (tuple, list)):
            real, labels = data[0], (data[1] if len(data) > 1 else None)
        else:
            real, labels = data, None
        if self.conditional and labels is None:
            raise ValueError("a conditional GAN trains on (image, label) batches")
        if self.conditioning == "none":
            labels = None
        else:
            labels = ops.cast(labels, "int32")
        if self.share_fakes and self.critic_steps <= 1:
            self.trackers["g_loss"].update_state(self._shared_step(real, labels))
            return fit_logs({name: tracker.result() for name, tracker in self.trackers.items()})
        self._discriminator_step(real, labels)
        batch = ops.shape(real)[0]
        if self.critic_steps <= 1:
            self.trackers["g_loss"].update_state(self._generator_step(batch))
        else:
            due = ops.equal(self.d_optimizer.iterations % self.critic_steps, 0)
            g_loss = tf.cond(due, lambda: self._generator_step(batch),
                             lambda: ops.zeros((), "float32"))
            self.trackers["g_loss"].update_state(g_loss, sample_weight=ops.cast(due, "float32"))
        return fit_logs({name: tracker.result() for name, tracker in self.trackers.items()})


def _hits(logits, labels):
    """1.0 where the arg-max class is the label, else 0.0."""
    predicted = ops.cast(ops.argmax(logits, axis=-1), "int32")
    return ops.cast(ops.equal(predicted, ops.cast(labels, "int32")), "float32")


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


class GANSnapshot:
    """The fixed-noise sample grid after each epoch (fig10/fig11, class grids, GIFs).

    Unconditional: ``num_fixed_noise`` samples.  Conditional: one row per class, the same
    ``columns`` noise vectors in every row, so rows differ only by the label.
    """

    def __init__(self, config, num_classes: int = 0, columns: int = 10):
        import numpy as np

        rng = np.random.default_rng(config.seed + 1)
        if num_classes:
            noise = rng.standard_normal((columns, config.noise_dim)).astype("float32")
            self.noise = np.tile(noise, (num_classes, 1))
            self.labels = np.repeat(np.arange(num_classes, dtype="int32"), columns)
            self.columns = columns
        else:
            self.noise = rng.standard_normal((config.num_fixed_noise, config.noise_dim)).astype("float32")
            self.labels = None
            self.columns = int(np.ceil(np.sqrt(config.num_fixed_noise)))

    def __call__(self, model) -> dict:
        import numpy as np

        from replication.data import unscale_images

        images = model.generate(ops.convert_to_tensor(self.noise),
                                None if self.labels is None else ops.convert_to_tensor(self.labels),
                                training=False)
        out = {"samples": unscale_images(ops.convert_to_numpy(images), "tanh"),
               "columns": np.asarray(self.columns)}
        if self.labels is not None:
            out["sample_labels"] = self.labels
        return out
