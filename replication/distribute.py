"""tf.distribute: strategy selection and the few rules a custom ``train_step`` must follow.

``--strategy default``      one device (the default strategy).
``--strategy mirrored``     ``MirroredStrategy`` over all local GPUs, or ``--devices`` named
                            devices (e.g. ``/cpu:0,/cpu:1`` after splitting the CPU).
``--strategy multiworker``  ``MultiWorkerMirroredStrategy``; the cluster comes from ``TF_CONFIG``.

Rules applied in the models (Keras 3 on TensorFlow leaves them to a custom ``train_step``):

* models and optimizers are created inside ``strategy.scope()`` and the optimizers are built
  explicitly before ``fit()`` (:func:`replication.checkpoint.build_optimizers`);
* gradients are summed over replicas, so each replica's mean loss is divided by
  :func:`num_replicas`;
* random draws (noise, fake labels, the VAE's epsilon) are made for the *global* batch from the
  model's ``SeedGenerator`` -- whose state every replica holds identically -- and each replica
  takes its own slice (:func:`replica_slice`): replicas get different noise, and a step on N
  replicas draws exactly the noise of the same step on one device;
* the GANs' BatchNorm is synchronized when the strategy has several replicas (batch statistics
  of the global batch), and not with one, where it would cost time for the same result
  (:func:`replication.models.layers.batch_norm`);
* the averaged generator's variables are kept from the first replica (every replica computes
  the same average);
* only the chief writes files (:func:`is_chief`).
"""

from __future__ import annotations

import json
import os

from replication.errors import ReplicationError
from replication.vocabulary import comma_list

STRATEGIES = ("default", "mirrored", "multiworker")


class StrategyError(ReplicationError):
    """The requested strategy cannot run here; the message says why."""


def make_strategy(name: str = "default", devices: str | list[str] | None = None):
    import tensorflow as tf

    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        if isinstance(devices, str):
            devices = comma_list(devices)
        if not devices:
            gpus = tf.config.list_logical_devices("GPU")
            if not gpus:
                raise StrategyError("--strategy mirrored found no GPU; name devices with "
                                    "--devices (e.g. /cpu:0) or use --strategy default")
            devices = [g.name for g in gpus]
        return tf.distribute.MirroredStrategy(devices)
    if name == "multiworker":
        if "TF_CONFIG" not in os.environ:
            raise StrategyError("--strategy multiworker needs TF_CONFIG describing the cluster "
                                "(cluster.worker addresses and this task's index)")
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise StrategyError(f"unknown strategy {name!r}; choose one of {', '.join(STRATEGIES)}")


def is_chief() -> bool:
    """True on the task that writes files: the chief, or worker 0 when there is no chief."""
    config = os.environ.get("TF_CONFIG")
    if not config:
        return True
    task = json.loads(config).get("task", {})
    cluster = json.loads(config).get("cluster", {})
    kind, index = task.get("type", "worker"), int(task.get("index", 0))
    if "chief" in cluster:
        return kind == "chief"
    return kind == "worker" and index == 0


def num_replicas() -> int:
    """Replicas in the current strategy (1 outside any strategy)."""
    import tensorflow as tf

    return tf.distribute.get_strategy().num_replicas_in_sync


def replica_id():
    """This replica's index in its sync group (0 outside any strategy), as a tensor."""
    import tensorflow as tf

    context = tf.distribute.get_replica_context()
    if context is None:
        return tf.constant(0, tf.int32)
    return tf.cast(context.replica_id_in_sync_group, tf.int32)


def replica_slice(draw, per_replica_batch, *shape):
    """Draw ``(global_batch, *shape)`` with ``draw(shape)`` and return this replica's rows.

    Every replica runs the same draw from the same ``SeedGenerator`` state, so the global batch
    of random values is the one a single device would draw.
    """
    from keras import ops

    n = num_replicas()
    if n == 1:
        return draw((per_replica_batch, *shape))
    values = draw((per_replica_batch * n, *shape))
    start = replica_id() * per_replica_batch
    return ops.slice(values, [start] + [0] * len(shape), [per_replica_batch, *shape])


def fit_logs(results: dict) -> dict:
    """Metric results as ``train_step``/``test_step`` should return them.

    Under ``MultiWorkerMirroredStrategy`` Keras 3.15 reduces step outputs with
    ``strategy.reduce("MEAN", value, axis=0)``, which fails on scalars ("Invalid reduction
    dimension 0 for input with 0 dimensions"); there the values get shape (1,), which reduces to
    the mean over all replicas.  Elsewhere they stay scalars.
    """
    import tensorflow as tf

    strategy = tf.distribute.get_strategy()
    multi_worker = getattr(strategy.extended, "_in_multi_worker_mode", lambda: False)()
    if not multi_worker:
        return results
    return {name: tf.reshape(value, (1,)) for name, value in results.items()}
