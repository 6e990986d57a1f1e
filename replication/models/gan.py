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
  chosen form of the source term, see :mod:`replication.models.losses`).  With the twin
  classifier (TAC-GAN, ``class_loss_on="twin"``) D has K more logits, learning the generated
  images' labels, and G's class term is the classifier's cross-entropy minus the twin's.

``augment`` (DiffAugment, :mod:`replication.models.augment`) transforms every input of D in
training, real and generated, in D's and G's updates alike.

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
from replication.models import augment as augmentations
from replication.models.losses import (discriminator_objective, generator_objective, get_loss,
                                       real_decision_threshold)
from replication.vocabulary import CLASS_LOSSES

CONDITIONING = ("none", "input", "auxiliary")


def generate_images(generator, noise, labels=None, training=False):
    """``generator``'s images for ``noise`` (and class ``labels`` when it is conditional: its
    inputs are then ``[noise, labels]``); the one calling convention of every generator."""
    return generator(noise if labels is None else [noise, labels], training=training)


def ema_beta(batch, images_seen, half_life, ramp):
    """Per-update EMA decay from a half-life in images (StyleGAN2-ADA): ``0.5 ** (batch / h)``
    with ``h = min(half_life, ramp * images_seen)`` (no ramp when ``ramp`` is 0)."""
    h = ops.convert_to_tensor(float(half_life), "float32")
    if ramp:
        h = ops.minimum(h, ramp * ops.cast(images_seen, "float32"))
    return ops.power(0.5, ops.cast(batch, "float32") / ops.maximum(h, 1e-8))


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
        ema_half_life: half-life, in images, of the averaged generator (an exponential moving
            average of G's weights and BatchNorm statistics); 0 keeps no average.
        ema_ramp: the half-life is ``min(ema_half_life, ema_ramp * images seen)`` early on.

    Train it with ``compile(d_optimizer=..., g_optimizer=..., loss=...)`` and ``fit()`` on
    batches of images in [-1, 1] (``(images, labels)`` when conditional); ``generate(noise,
    labels)`` draws from G, :meth:`averaged_generator` gives the averaged copy.  Metrics
    (reset each epoch): ``d_loss``, ``g_loss``, ``d_acc_real``, ``d_acc_fake`` (and the class
    accuracies of the auxiliary classifier).

    Example::

        gan = GAN(generator, discriminator, noise_dim=100)
        gan.compile(d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
                    g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5))
        gan.fit(images, batch_size=128, epochs=1)
    """

    def __init__(self, generator, discriminator, noise_dim, num_classes=0, conditioning="none",
                 seed=0, ema_half_life=0, ema_ramp=0.0, **kwargs):
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
        # The averaged generator: one float copy of each of G's float variables (weights and
        # BatchNorm statistics), checkpointed with the model.  Every replica computes the same
        # average, so the first replica's value is kept.
        self.ema_half_life = float(ema_half_life)
        self.ema_ramp = float(ema_ramp)
        pairs = []
        if self.ema_half_life > 0:
            pairs = [(v, self.add_weight(shape=v.shape, initializer=_copy_of(v), dtype=v.dtype,
                                         trainable=False, autocast=False, name=f"ema_{i:03d}",
                                         aggregation="only_first_replica"))
                     for i, v in enumerate(generator.variables) if _is_float(v)]
        # Plain attributes (not tracked by Keras): the averaged variables are tracked once,
        # by add_weight; the averaged copy of G must not join this model's variables.
        object.__setattr__(self, "_ema_pairs", tuple(pairs))
        object.__setattr__(self, "_averaged", None)
        object.__setattr__(self, "augment", ())  # compile() sets the policy
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
                critic_steps=1, share_fakes=False, real_label=1.0, class_loss_on="all",
                class_weight=1.0, mismatched_labels=False, augment=(), **kwargs):
        """Set both optimizers and the loss (a name from ``replication.models.losses.LOSSES``).

        ``critic_steps`` discriminator updates are made per generator update; ``gp_weight``
        weighs the gradient penalty of the Wasserstein loss.  ``share_fakes``: one generator
        forward pass serves both updates of a step (see :meth:`_shared_step`); it applies only
        with ``critic_steps == 1`` (with several critic updates per generator update each
        critic update needs its own fakes).  Stabilisers (see :func:`discriminator_objective`):
        ``real_label`` (one-sided label smoothing), ``class_loss_on`` ("all" or "real", AC-GAN),
        ``class_weight`` (the weight of D's class term, AC-GAN), ``mismatched_labels``
        (conditional GAN: real images with a wrong label as fakes) and ``augment`` (a
        DiffAugment policy such as ``("translation", "cutout")``: every input of D in
        training augmented, real and generated, in both updates).
        """
        super().compile(**kwargs)
        if class_loss_on not in CLASS_LOSSES:
            raise ValueError(f"class_loss_on must be one of {CLASS_LOSSES}, got {class_loss_on!r}")
        heads = 2 if class_loss_on == "twin" else 1
        outputs = _output_width(self.discriminator)
        if self.conditioning == "auxiliary" and outputs not in (None, 1 + heads * self.num_classes):
            raise ValueError(f"class_loss_on={class_loss_on!r} needs a discriminator with "
                             f"{1 + heads * self.num_classes} outputs, this one has {outputs}")
        # Plain attributes, as the averaged generator's (nothing for Keras to track).
        object.__setattr__(self, "augment", augmentations.policy(augment))
        object.__setattr__(self, "_draws",
                           augmentations.seeded(self.seed_generator, draw=replica_slice))
        if mismatched_labels and self.conditioning != "input":
            raise ValueError("mismatched_labels applies to a GAN with the label as D's input")
        self.real_label = float(real_label)
        self.class_loss_on = class_loss_on
        if not class_weight > 0:
            raise ValueError(f"class_weight must be positive, got {class_weight!r}")
        self.class_weight = float(class_weight)
        self.mismatched_labels = bool(mismatched_labels)
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
        return generate_images(self.generator, noise, labels if self.conditional else None,
                               training=training)

    def discriminate(self, images, labels=None, training=False):
        """Return ``(source_logits (B,), class_logits (B, K) or None)`` in float32."""
        return self._discriminate(images, labels, training)[:2]

    def _discriminate(self, images, labels=None, training=False):
        """``(source logits, class logits or None, twin class logits or None)``, float32;
        in training, the images pass the augmentation policy first."""
        if training and self.augment:
            images = augmentations.diff_augment(images, self.augment, *self._draws)
        if self.conditioning == "input":
            out = self.discriminator([images, labels], training=training)
        else:
            out = self.discriminator(images, training=training)
        out = ops.cast(out, "float32")
        if self.conditioning == "auxiliary":
            k = self.num_classes
            twin = out[:, 1 + k:] if out.shape[-1] > 1 + k else None
            return out[:, 0], out[:, 1:1 + k], twin
        return ops.reshape(out, (-1,)), None, None

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

    def d_objective(self, real_src, fake_src, **terms):
        """:func:`discriminator_objective` with this model's loss and stabilisers."""
        return discriminator_objective(self.gan_loss, real_src, fake_src,
                                       real_label=self.real_label,
                                       class_loss_on=self.class_loss_on,
                                       class_weight=self.class_weight, **terms)

    def g_objective(self, fake_src, **terms):
        return generator_objective(self.gan_loss, fake_src, **terms)

    def wrong_labels(self, labels):
        """A uniformly drawn *other* class for every label (matching-aware D)."""
        shift = replica_slice(lambda shape: keras.random.randint(
            shape, 1, self.num_classes, seed=self.seed_generator, dtype="int32"),
            ops.shape(labels)[0])
        return (labels + shift) % self.num_classes

    # ---------------------------------------------------------------------------------------
    # The averaged generator

    def _update_ema(self, batch):
        """After a generator update: ema <- w + beta (ema - w) for every averaged variable."""
        if not self._ema_pairs:
            return
        images_seen = ops.cast(self.g_optimizer.iterations, "float32") * \
            ops.cast(batch * num_replicas(), "float32")
        beta = ema_beta(batch * num_replicas(), images_seen, self.ema_half_life, self.ema_ramp)
        for variable, ema in self._ema_pairs:
            value = ops.cast(variable, ema.dtype)
            ema.assign(value + ops.cast(beta, ema.dtype) * (ema - value))

    def averaged_generator(self) -> keras.Model:
        """The generator with the averaged weights (a copy, refreshed on every call); ``None``
        when averaging is off."""
        if not self._ema_pairs:
            return None
        if self._averaged is None:
            clone = keras.models.clone_model(self.generator)
            clone.name = f"{self.generator.name}_ema"
            object.__setattr__(self, "_averaged", clone)
        averaged = dict(zip((id(v) for v, _ in self._ema_pairs),
                            (e for _, e in self._ema_pairs)))
        for target, source in zip(self._averaged.variables, self.generator.variables):
            target.assign(averaged.get(id(source), source).numpy())
        return self._averaged

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
        wrong = self.wrong_labels(labels) if self.mismatched_labels else None
        with tf.GradientTape() as tape:
            real_src, real_cls, _ = self._discriminate(real, labels, training=True)
            fake_src, fake_cls, fake_twin = self._discriminate(fake, fake_labels, training=True)
            terms = {}
            if wrong is not None:
                terms["wrong_src"] = self.discriminate(real, wrong, training=True)[0]
            if self.conditioning == "auxiliary":
                terms.update(labels=labels, real_cls=real_cls, fake_labels=fake_labels,
                             fake_cls=fake_cls, fake_twin=fake_twin)
            d_loss = self.d_objective(real_src, fake_src, **terms)
            if self.gan_loss.needs_gradient_penalty:
                d_loss += self.gp_weight * self.gradient_penalty(real, fake, labels)
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
        src, cls, twin = self._discriminate(fake, labels, training=True)
        if self.conditioning == "auxiliary":
            return self.g_objective(src, fake_labels=labels, fake_cls=cls, fake_twin=twin)
        return self.g_objective(src)

    def _generator_step(self, batch):
        noise, labels = self.sample_inputs(batch)
        variables = self.generator.trainable_variables
        with tf.GradientTape() as tape:
            fake = self.generate(noise, labels, training=True)
            g_loss = self._generator_loss(fake, labels)
            scaled = self._scaled(self.g_optimizer, g_loss)
        self.g_optimizer.apply(tape.gradient(scaled, variables), variables)
        self._update_ema(batch)
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
        self._update_ema(ops.shape(real)[0])
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


def _output_width(model) -> int | None:
    """The last dimension of a built model's output (None when it has no fixed one)."""
    try:
        return int(model.output_shape[-1])
    except (AttributeError, ValueError, TypeError, IndexError):
        return None


def _is_float(variable) -> bool:
    return "float" in str(variable.dtype)


def _copy_of(variable):
    """An initializer that starts an averaged variable at ``variable``'s current value."""
    value = variable.numpy()
    return lambda shape, dtype=None: ops.convert_to_tensor(value, dtype=dtype)


def _hits(logits, labels):
    """1.0 where the arg-max class is the label, else 0.0."""
    predicted = ops.cast(ops.argmax(logits, axis=-1), "int32")
    return ops.cast(ops.equal(predicted, ops.cast(labels, "int32")), "float32")
