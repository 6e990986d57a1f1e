"""The project's own image classifiers: the offline feature extractor of the evaluation.

One small all-convolutional family serves MNIST and CIFAR-10.  Each stage is
``conv3x3 -> maxpool2 -> BN -> GELU -> conv3x3 -> BN -> GELU`` (the first convolution of a
stage works at the stage's input resolution, the second after pooling, which keeps the cost
low); three stages are followed by a global max-pool (the **feature** layer, used for
FID/KID) and a linear layer to the class logits (used for the classifier score, the
conditional accuracy and class coverage).  Training-time augmentation (random translation,
plus horizontal flips for CIFAR-10) lives in the model as preprocessing layers, which are the
identity at inference.

The layout follows the fast CIFAR-10 training recipes of the public "airbench" baselines
(Keller Jordan, 2024: conv-pool-BN-GELU stages, max-pooled head, label smoothing, Nesterov
SGD); the widths are chosen here for a 2-core CPU.  Inputs are images in ``[0, 1]``.
"""

from __future__ import annotations

import keras

FEATURE_LAYER = "features"


def build_classifier(config, image_shape, num_classes: int) -> keras.Model:
    """The evaluation's classifier: an all-convolutional network from images to class logits.

    Args:
        config: a :class:`~replication.experiments.classifier.ClassifierConfig` (``widths``
            of its stages, ``logit_temperature``, the ``translate`` and ``flip``
            augmentations).
        image_shape: ``(height, width, channels)`` of the dataset.
        num_classes: K.

    Returns:
        A ``keras.Model``: images (B, H, W, C) in [0, 1] -> logits (B, K);
        ``model.get_layer(FEATURE_LAYER)`` gives the features FID and the other metrics use
        (:func:`feature_model`).
    """
    inputs = keras.Input(image_shape, name="image")
    x = inputs
    if config.translate:
        # Pixel shifts of up to ``translate`` in each direction, borders filled by reflection.
        fraction = config.translate / image_shape[0]
        x = keras.layers.RandomTranslation(fraction, fraction, fill_mode="reflect",
                                           seed=config.seed, name="shift")(x)
    if config.flip:
        x = keras.layers.RandomFlip("horizontal", seed=config.seed + 1, name="flip")(x)
    # Centre the input around 0 (the statistics need not be exact; BN follows).
    x = keras.layers.Rescaling(2.0, offset=-1.0, name="centre")(x)
    for stage, width in enumerate(config.widths, start=1):
        x = keras.layers.Conv2D(width, 3, padding="same", use_bias=False,
                                name=f"stage{stage}_conv1")(x)
        x = keras.layers.MaxPooling2D(2, name=f"stage{stage}_pool")(x)
        x = keras.layers.BatchNormalization(momentum=0.9, name=f"stage{stage}_bn1")(x)
        x = keras.layers.Activation("gelu", name=f"stage{stage}_act1")(x)
        x = keras.layers.Conv2D(width, 3, padding="same", use_bias=False,
                                name=f"stage{stage}_conv2")(x)
        x = keras.layers.BatchNormalization(momentum=0.9, name=f"stage{stage}_bn2")(x)
        x = keras.layers.Activation("gelu", name=f"stage{stage}_act2")(x)
    features = keras.layers.GlobalMaxPooling2D(name=FEATURE_LAYER)(x)
    logits = keras.layers.Dense(num_classes, dtype="float32", name="dense")(features)
    # A fixed temperature keeps the early logits small, so the high warm-up learning rate
    # does not blow up the loss in the first steps.
    logits = keras.layers.Rescaling(1.0 / config.logit_temperature, dtype="float32",
                                    name="logits")(logits)
    return keras.Model(inputs, logits, name=f"classifier_{config.dataset}")


def feature_model(classifier: keras.Model) -> keras.Model:
    """The same network with two outputs: ``[features, logits]`` (inference only)."""
    return keras.Model(classifier.inputs[0],
                       [classifier.get_layer(FEATURE_LAYER).output, classifier.outputs[0]],
                       name=f"{classifier.name}_extractor")


def compile_classifier(model: keras.Model, config, steps_per_epoch: int) -> None:
    """Nesterov SGD with a linear warm-up then linear decay to zero, label smoothing."""
    total = config.epochs * steps_per_epoch
    warmup = max(1, int(config.warmup_fraction * total))
    schedule = keras.optimizers.schedules.PolynomialDecay(
        initial_learning_rate=config.learning_rate, decay_steps=max(1, total - warmup),
        end_learning_rate=0.0, power=1.0)
    schedule = _Warmup(schedule, warmup, config.learning_rate)
    optimizer = keras.optimizers.SGD(schedule, momentum=0.9, nesterov=True,
                                     weight_decay=config.weight_decay)
    model.compile(optimizer=optimizer, loss=SmoothedSparseCrossentropy(config.label_smoothing),
                  metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")])


@keras.saving.register_keras_serializable("replication")
class SmoothedSparseCrossentropy(keras.losses.Loss):
    """Cross-entropy from logits against integer labels with label smoothing ``smoothing``
    (Keras' sparse cross-entropy has no smoothing option)."""

    def __init__(self, smoothing: float = 0.0, name="smoothed_sparse_crossentropy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.smoothing = smoothing

    def call(self, labels, logits):
        classes = keras.ops.shape(logits)[-1]
        target = keras.ops.one_hot(keras.ops.cast(keras.ops.reshape(labels, (-1,)), "int32"),
                                   classes)
        target = target * (1.0 - self.smoothing) + self.smoothing / classes
        return keras.ops.categorical_crossentropy(target, logits, from_logits=True)

    def get_config(self):
        return {**super().get_config(), "smoothing": self.smoothing}


@keras.saving.register_keras_serializable("replication")
class _Warmup(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up from 0 to ``peak`` over ``warmup`` steps, then ``after(step - warmup)``."""

    def __init__(self, after, warmup: int, peak: float):
        self.after, self.warmup, self.peak = after, warmup, peak

    def __call__(self, step):
        step = keras.ops.cast(step, "float32")
        warm = self.peak * step / self.warmup
        return keras.ops.where(step < self.warmup, warm, self.after(step - self.warmup))

    def get_config(self):
        return {"after": keras.saving.serialize_keras_object(self.after),
                "warmup": self.warmup, "peak": self.peak}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["after"] = keras.saving.deserialize_keras_object(config["after"])
        return cls(**config)
