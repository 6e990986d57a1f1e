"""The benchmark's worker: one model's measurements in its own process (fit() and the plain
loop's throughput, FLOPs per step against a matrix-multiply peak, the input pipeline, peak
memory, the per-op breakdown and the per-epoch tracking's cost), printed as one JSON line for
the orchestration (:mod:`replication.bench`).  The model is built as training builds it."""

from __future__ import annotations

import collections
import glob
import re
import resource
import statistics
import tempfile
import time
from pathlib import Path

from replication import data, experiments
from replication.experiments import make_config
from replication.levers import matmul_peak
from replication.train import build_model


# ------------------------------------------------------------------------------------------
# Measurements (run inside one worker process)


def count_flops(concrete_function) -> int:
    """Floating-point operations of one call of a traced function (TF's graph profiler)."""
    from tensorflow.python.profiler import model_analyzer, option_builder

    options = option_builder.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    return int(model_analyzer.profile(concrete_function.graph, options=options).total_float_ops)


# Op categories of the breakdown, in the order they are tried on a traced op "name:type"
# (a cast inside a BatchNorm layer counts as a cast; the breakdown also says how much of the
# cast time sits in BatchNorm layers).
OP_CATEGORIES = ("optimizer", "cast", "batchnorm", "conv/matmul backward", "conv/matmul",
                 "elementwise and other")
_MATRIX_TYPES = ("Conv2D", "DepthwiseConv2d", "MatMul", "Einsum")  # and their backprops
# Ops that only schedule or move data; their time is the executor's, not a computation's.
_NOT_COMPUTE = ("ReadVariableOp", "Identity", "NoOp", "Const", "_Arg", "_Retval",
                "VarHandleOp", "StatefulPartitionedCall", "PartitionedCall")


def in_batchnorm(name: str) -> bool:
    """Whether a traced op belongs to a BatchNorm layer: a scope named ``*_bn`` / ``bn*`` /
    ``*batch_normalization*`` (Keras numbers repeated calls ``conv2_bn_1``), or Keras' own
    ``batchnorm`` / ``moments`` scopes inside one."""
    for scope in name.lower().split("/")[:-1]:
        base = re.sub(r"_\d+$", "", scope)
        if base.endswith("_bn") or re.fullmatch(r"bn\d*", base) or "batch_norm" in base \
                or base in ("batchnorm", "moments"):
            return True
    return False


def op_category(name: str, op_type: str) -> str:
    """The breakdown category of one traced op, from its node ``name`` and its ``op_type``
    (oneDNN's kernels are named ``_MklNative...`` / ``_MklFused...``; a transposed
    convolution's forward pass is a ``Conv2DBackpropInput`` outside the gradient tape)."""
    kind = op_type.replace("_MklNative", "").replace("_MklFused", "").replace("_Mkl", "")
    lowered = name.lower()
    backward = lowered.startswith(("gradient_tape/", "gradients/")) or "/gradient_tape/" in lowered
    if "adam" in lowered or kind.startswith(("ResourceApply", "AssignAddVariable",
                                             "AssignSubVariable")):
        return "optimizer"
    if kind == "Cast":
        return "cast"
    if "BatchNorm" in kind or in_batchnorm(name):
        return "batchnorm"
    if any(matrix in kind for matrix in _MATRIX_TYPES):
        return "conv/matmul backward" if backward else "conv/matmul"
    return "elementwise and other"


def op_breakdown(step, batches, steps: int = 5, top: int = 8) -> dict:
    """Where the time of ``steps`` calls of the traced ``step`` goes, by op category: the
    op time summed over every executor thread (so shares, not wall time), read from
    TensorFlow's profiler trace (the host plane's ``name:type`` op events)."""
    import tensorflow as tf
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    with tempfile.TemporaryDirectory() as logdir:
        tf.profiler.experimental.start(logdir)
        try:
            for _ in range(steps):
                logs = step(next(batches))
                float(next(iter(logs.values())))
        finally:
            tf.profiler.experimental.stop()
        traces = glob.glob(f"{logdir}/**/*.xplane.pb", recursive=True)
        space = xplane_pb2.XSpace()
        space.ParseFromString(Path(traces[0]).read_bytes())
    return breakdown_of_trace(space, steps, top)


def breakdown_of_trace(space, steps: int, top: int = 8) -> dict:
    """:func:`op_breakdown`'s numbers from a parsed ``XSpace``."""
    by_category, by_type = collections.Counter(), collections.Counter()
    cast_in_batchnorm = 0.0
    for plane in space.planes:
        for line in plane.lines:
            for event in line.events:
                label = plane.event_metadata[event.metadata_id].name
                name, sep, op_type = label.rpartition(":")
                if not sep or not name or "::" in label or " " in label or \
                        op_type in _NOT_COMPUTE:
                    continue  # executor and eager bookkeeping, not an op
                seconds = event.duration_ps * 1e-12
                category = op_category(name, op_type)
                by_category[category] += seconds
                by_type[op_type] += seconds
                if category == "cast" and in_batchnorm(name):
                    cast_in_batchnorm += seconds
    total = sum(by_category.values())
    if not total:
        return {"error": "the trace holds no op events"}
    return {"op_seconds_per_step": round(total / steps, 4), "steps": steps,
            "share": {c: round(by_category[c] / total, 4) for c in OP_CATEGORIES},
            "cast_in_batchnorm_share": round(cast_in_batchnorm / total, 4),
            "top_op_types": [[t, round(s / total, 4)] for t, s in by_type.most_common(top)]}


def _windows(times: list[float], batch: int, window_steps: int) -> list[float]:
    """images/s of consecutive windows of ``window_steps`` steps, from step-end timestamps."""
    return [window_steps * batch / (times[i + window_steps] - times[i])
            for i in range(0, len(times) - window_steps, window_steps)]


def _summary(rates: list[float]) -> dict:
    median = statistics.median(rates)
    return {"median": round(median, 2), "min": round(min(rates), 2), "max": round(max(rates), 2),
            "spread": round((max(rates) - min(rates)) / median, 4), "windows": len(rates)}


def build_timed(name: str, precision: str, xla: str = "auto",
                fused_batchnorm: bool | None = None, profile: str = "report",
                source: str = "bundled"):
    """The model as training builds it (:func:`replication.train.build_model`, XLA included:
    ``auto`` leaves it to Keras, on for GPUs), at ``profile``'s settings with the experiment's
    ``bench_overrides`` (what costs nothing per step, e.g. no reading of pretrained weights),
    on the data from ``source``: ``(config, dataset, spec, model, XLA on)``.  The benchmark and
    the main job's time probe (:mod:`replication.estimate`) time what it builds."""
    spec = experiments.get(name)
    overrides = dict(spec.bench_overrides)
    if fused_batchnorm is not None and hasattr(spec.config_class, "fused_batchnorm"):
        overrides["fused_batchnorm"] = fused_batchnorm
    config = make_config(name, profile, precision=precision, xla=xla, **overrides)
    dataset = data.load(config.dataset, source, verbose=False)
    spec.preflight(config)
    model = build_model(spec, config, dataset).model
    return config, dataset, spec, model, bool(model.jit_compile)


def _pipeline(config, dataset, spec, epochs: int):
    return data.training_dataset(dataset.train, config.batch_size, seed=config.seed,
                                 value_range=spec.value_range, epochs=epochs,
                                 with_labels=spec.uses_labels)


def worker(name: str, precision: str, xla: str, warmup: int, windows: int,
           window_steps: int, rounds: int = 2, profile_steps: int = 5,
           fused_batchnorm: bool | None = None) -> dict:
    import tensorflow as tf

    steps = warmup + windows * window_steps
    config, dataset, spec, model, jit = build_timed(name, precision, xla, fused_batchnorm)
    batch = config.batch_size
    epochs = 1 + (2 * steps + 20) * batch // len(dataset.train)
    input_rate = _input_rate(config, dataset, spec, epochs)
    _, _, _, plain, _ = build_timed(name, precision, xla, fused_batchnorm)
    step = tf.function(plain.train_step, jit_compile=jit)
    iterator = iter(_pipeline(config, dataset, spec, epochs).repeat())
    fit_rates, plain_rates, fit_seconds = _fit_and_plain(
        model, step, _pipeline(config, dataset, spec, epochs), iterator, batch, steps, warmup,
        window_steps, rounds)

    # FLOPs of one traced training step (the same function the plain loop ran), and where
    # its time goes (profiled after the timing, so the profiler costs the timings nothing).
    flops = count_flops(step.get_concrete_function(next(iterator)))
    breakdown = op_breakdown(step, iterator, profile_steps)
    peak = matmul_peak(precision)
    fit_median = statistics.median(fit_rates)
    result = {
        "model": name, "precision": precision, "xla": bool(jit), "batch_size": batch,
        "fused_batchnorm": getattr(config, "fused_batchnorm", None),
        "fit_images_per_s": _summary(fit_rates), "plain_images_per_s": _summary(plain_rates),
        "fit_over_plain": round(fit_median / statistics.median(plain_rates), 4),
        "step_seconds_fit": round(batch / fit_median, 4),
        "input_images_per_s": round(input_rate, 1),
        "input_over_training": round(input_rate / fit_median, 2),
        "flops_per_step": flops,
        "achieved_flops_per_s": round(flops * fit_median / batch, 0),
        "matmul_peak_flops_per_s": round(peak, 0),
        "fraction_of_peak": round(flops * fit_median / batch / peak, 4),
        "peak_memory_mib": _peak_memory_mib(),
        "measuring_seconds": round(fit_seconds, 1), "rounds": rounds,
        "op_breakdown": breakdown,
    }
    steps_per_epoch = len(dataset.train.take(config.train_examples)) // batch
    result["report_epochs"] = config.epochs
    result["report_epoch_seconds"] = round(steps_per_epoch * batch / fit_median, 1)
    result["report_training_minutes"] = round(config.epochs * result["report_epoch_seconds"] / 60, 1)
    result.update(_tracking_cost(spec, config, dataset, model, result["report_epoch_seconds"]))
    return result


def _input_rate(config, dataset, spec, epochs: int) -> float:
    """Images/s of the input pipeline alone."""
    iterator = iter(_pipeline(config, dataset, spec, epochs))
    for _ in range(5):
        next(iterator)
    started = time.perf_counter()
    for _ in range(50):
        next(iterator)
    return 50 * config.batch_size / (time.perf_counter() - started)


def _fit_and_plain(model, step, fit_data, iterator, batch, steps, warmup, window_steps, rounds):
    """fit() (the project's path: its own train_step, the same pipeline) and the plain loop,
    measured in alternating rounds so that slow drifts of the machine hit both alike."""
    import keras

    class StepTimes(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.times = []

        def on_train_batch_end(self, batch_index, logs=None):
            self.times.append(time.perf_counter())

    fit_rates, plain_rates = [], []
    started = time.perf_counter()
    for round_ in range(rounds):
        first = round_ == 0
        timer = StepTimes()
        model.fit(fit_data, epochs=1, steps_per_epoch=steps if first else steps - warmup,
                  callbacks=[timer], verbose=0)
        fit_rates += _windows(timer.times[warmup - 1:] if first else timer.times, batch,
                              window_steps)
        times = [time.perf_counter()]
        for i in range(steps if first else steps - warmup):
            logs = step(next(iterator))
            float(next(iter(logs.values())))  # wait for the step to finish
            if not first or i >= warmup - 1:
                times.append(time.perf_counter())
        plain_rates += _windows(times[1:] if first else times, batch, window_steps)
    return fit_rates, plain_rates, time.perf_counter() - started


def _tracking_cost(spec, config, dataset, model, epoch_seconds: float) -> dict:
    """GANs: seconds of the end-of-epoch quality tracking (replication.tracking) at the
    report's settings, against the report epoch's training time."""
    tracker = spec.tracker(config, dataset, "bundled")
    if tracker is None:
        return {}
    started = time.perf_counter()
    tracker.reference_moments()  # once per process (each start or resume of a run)
    reference = time.perf_counter() - started
    times = []
    for _ in range(3):
        started = time.perf_counter()
        tracker(model)
        times.append(time.perf_counter() - started)
    seconds = statistics.median(times)
    return {"tracking_samples": tracker.samples, "tracking_seconds": round(seconds, 2),
            "tracking_reference_seconds": round(reference, 2),
            "tracking_fraction_of_epoch": round(seconds / epoch_seconds, 4)}


def _peak_memory_mib() -> float:
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU"):
        return round(tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2 ** 20, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # KiB on Linux
