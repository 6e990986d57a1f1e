"""tf.distribute helpers: the few rules a custom ``train_step`` must follow under a strategy."""

from __future__ import annotations


def num_replicas() -> int:
    """Replicas in the current strategy (1 outside any strategy).

    Gradients of the per-replica losses are summed across replicas, so a loss that is a mean
    over the *per-replica* batch must be divided by this number before differentiation.
    """
    import tensorflow as tf

    return tf.distribute.get_strategy().num_replicas_in_sync
