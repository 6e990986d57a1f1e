"""Run as a subprocess (the CPU must be split into logical devices before TensorFlow starts):
one training step under MirroredStrategy on 2 logical CPUs versus one step on one device, same
global batch, same starting variables, with the experiment's Adam optimizers and with plain SGD
(Adam's first step moves every weight by about +-lr whatever the gradient's size, so a gradient
that is ~0 on one device may flip sign on two; SGD shows the gradients themselves agree).

Usage: python mirrored_step.py EXPERIMENT [KEY=JSON ...]   (one experiment per process:
collective-op keys of two MirroredStrategy instances collide within one process; KEY=JSON are
config overrides, e.g. spectral_norm=true).  Prints one JSON line."""

import json
import sys
from types import SimpleNamespace

import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

import keras  # noqa: E402
import numpy as np  # noqa: E402

from replication import data  # noqa: E402
from replication.checkpoint import build_optimizers  # noqa: E402
from replication.experiments import make_config  # noqa: E402
from replication.distribute import make_strategy  # noqa: E402
from replication.experiments import get  # noqa: E402
from replication.vocabulary import comma_list  # noqa: E402


def use_sgd(built, config, spec):
    model = built.model
    if hasattr(model, "gan_loss"):
        model.compile(d_optimizer=keras.optimizers.SGD(0.05),
                      g_optimizer=keras.optimizers.SGD(0.05),
                      loss=config.loss, share_fakes=config.share_fakes,
                      augment=comma_list(config.diff_augment), **spec.compile_options(config))
        built.optimizers = {"d": model.d_optimizer, "g": model.g_optimizer}
    else:
        model.compile(optimizer=keras.optimizers.SGD(1e-4))
        built.optimizers = {"vae": model.optimizer}


def one_step(experiment, strategy, images, labels, optimizer, start=None, overrides=None):
    config = make_config(experiment, "smoke", batch_size=len(images), **(overrides or {}))
    spec = get(experiment)
    shape = SimpleNamespace(image_shape=images.shape[1:], num_classes=10)
    with strategy.scope():
        keras.utils.set_random_seed(0)
        built = spec.build(config, shape)
        if optimizer == "sgd":
            use_sgd(built, config, spec)
        build_optimizers(built.model, built.optimizers, built.optimizer_variables)
        if start is not None:
            for variable, value in zip(built.model.variables, start):
                variable.assign(value)
    before = [np.array(v.numpy()) for v in built.model.variables]
    x = data.scale_images(images, spec.value_range)
    ds = tf.data.Dataset.from_tensors((x, labels) if spec.uses_labels else x)
    built.model.fit(ds, epochs=1, steps_per_epoch=1, verbose=0, shuffle=False)
    after = [np.array(v.numpy()) for v in built.model.variables]
    changed = sum(not np.array_equal(a, b) for a, b in zip(before, after))
    return before, after, changed


experiment = sys.argv[1]
overrides = {k: json.loads(v) for k, v in (arg.split("=", 1) for arg in sys.argv[2:])}
ds = data.load("mnist" if "vae" in experiment else "cifar10", verbose=False)
images, labels = ds.train.images[:16], ds.train.labels[:16]
mirrored = make_strategy("mirrored", "/cpu:0,/cpu:1")
assert mirrored.num_replicas_in_sync == 2
results = {}
for optimizer in ("adam", "sgd"):
    start, single, changed = one_step(experiment, tf.distribute.get_strategy(), images, labels,
                                      optimizer, overrides=overrides)
    _, multi, multi_changed = one_step(experiment, mirrored, images, labels, optimizer,
                                       start=start, overrides=overrides)
    diffs = np.concatenate([np.abs(a.astype("float64") - b.astype("float64")).ravel()
                            for a, b in zip(single, multi)])
    results[optimizer] = {"max_abs_diff": float(diffs.max()),
                          "share_above_1e-5": float((diffs > 1e-5).mean()),
                          "variables_changed": changed, "mirrored_changed": multi_changed,
                          "variables": len(single)}
print(json.dumps(results))
