"""``scripts/bench.py``: where the training time goes, per model, at its report batch size.

For each model (each in its own subprocess, so peak memory, dtype policy and XLA do not leak
between them) it measures:

* **fit()** throughput: images/s over ``--windows`` timed windows of ``--window-steps`` steps
  after ``--warmup`` steps, on the project's own input pipeline and ``train_step``;
* the **plain loop** baseline: the same networks, freshly built, trained by a bare
  ``tf.function`` loop over the same batches (no ``fit()``, no callbacks): the ratio fit/plain;
* **FLOPs per step**, counted by TensorFlow's graph profiler on the traced training step
  (forward, backward and optimizer ops of every update in the step), and the achieved FLOP/s as
  a fraction of a matrix-multiply peak measured in the same invocation, device and precision;
* the **input pipeline** alone (images/s of batches from the data source with the model's
  preprocessing), which must be far above the training throughput;
* **peak memory** (the process's peak resident set on CPU; the allocator's peak on GPU);
* a **per-op breakdown** of the traced training step (TensorFlow's profiler over
  ``--profile-steps`` steps of the plain loop, read from its trace): the share of op time in
  convolutions and matrix multiplies (forward, and their backward passes), BatchNorm, dtype
  casts, the optimizers' updates and the remaining element-wise ops, with the op types that
  take the most (:func:`op_breakdown`).

Numbers go to a table on stdout and to ``bench.json``.  Nothing here is asserted: the README
reports the measurements.
"""

from __future__ import annotations

import argparse
import collections
import glob
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from replication import data, experiments
from replication.backend import import_tensorflow
from replication.checkpoint import build_optimizers
from replication.cli import script_main
from replication.experiments import make_config
from replication.experiments import names as experiment_names
from replication.levers import (PRECISION_SETTINGS, XLA_SETTINGS, precision_policy,
                                resolve_precision, resolve_xla)
from replication.runs import device_description, now, package_versions, write_json

RESULT_MARK = "BENCH-RESULT "

# ------------------------------------------------------------------------------------------
# Measurements (run inside one worker process)


def matmul_peak(precision: str = "fp32", n: int = 4096, repeats: int = 5) -> float:
    """Best FLOP/s of an ``n x n`` matrix multiply in the compute dtype of ``precision``."""
    import tensorflow as tf

    dtype = {"fp32": tf.float32, "bf16": tf.bfloat16, "fp16": tf.float16}[precision]
    a = tf.cast(tf.random.stateless_normal((n, n), seed=(1, 2)), dtype)
    b = tf.cast(tf.random.stateless_normal((n, n), seed=(3, 4)), dtype)
    matmul = tf.function(lambda x, y: tf.reduce_sum(tf.cast(tf.matmul(x, y)[0, :8], tf.float32)))
    matmul(a, b).numpy()
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        matmul(a, b).numpy()
        best = min(best, time.perf_counter() - started)
    return 2.0 * n ** 3 / best


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


def _build(name: str, precision: str, xla: str, fused_batchnorm: bool | None = None):
    import keras

    spec = experiments.get(name)
    overrides = dict(experiments.get(name).bench_overrides)
    if fused_batchnorm is not None and hasattr(spec.config_class, "fused_batchnorm"):
        overrides["fused_batchnorm"] = fused_batchnorm
    config = make_config(name, "report", precision=precision, xla=xla, **overrides)
    dataset = data.load(config.dataset, "bundled", verbose=False)
    keras.utils.set_random_seed(config.seed)
    with precision_policy(precision):
        spec.preflight(config)
        built = spec.build(config, dataset)
        build_optimizers(built.model, built.optimizers, built.optimizer_variables)
    jit = resolve_xla(xla)
    return config, dataset, spec, built.model, (False if jit == "auto" else jit)


def _pipeline(config, dataset, spec, epochs: int):
    return data.training_dataset(dataset.train, config.batch_size, seed=config.seed,
                                 value_range=spec.value_range, epochs=epochs,
                                 with_labels=spec.uses_labels)


def worker(name: str, precision: str, xla: str, warmup: int, windows: int,
           window_steps: int, rounds: int = 2, profile_steps: int = 5,
           fused_batchnorm: bool | None = None) -> dict:
    import tensorflow as tf

    steps = warmup + windows * window_steps
    config, dataset, spec, model, jit = _build(name, precision, xla, fused_batchnorm)
    batch = config.batch_size
    epochs = 1 + (2 * steps + 20) * batch // len(dataset.train)
    input_rate = _input_rate(config, dataset, spec, epochs)
    model.jit_compile = jit
    _, _, _, plain, _ = _build(name, precision, xla, fused_batchnorm)
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


# ------------------------------------------------------------------------------------------
# Orchestration


def _run_worker(name: str, args, precision: str) -> dict:
    command = [sys.executable, "-m", "replication.bench", "--worker", name,
               "--precision", precision, "--xla", args.xla, "--warmup", str(args.warmup),
               "--windows", str(args.windows), "--window-steps", str(args.window_steps),
               "--rounds", str(args.rounds), "--profile-steps", str(args.profile_steps)]
    if args.fused_batchnorm is not None:
        command.append("--fused-batchnorm" if args.fused_batchnorm else "--no-fused-batchnorm")
    env = dict(os.environ)
    if args.device == "cpu":
        env["CUDA_VISIBLE_DEVICES"] = "-1"
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    for line in done.stdout.splitlines():
        if line.startswith(RESULT_MARK):
            return json.loads(line[len(RESULT_MARK):])
    tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
    return {"model": name, "precision": precision, "error": tail[:300]}


def _table(results: list[dict]) -> list[str]:
    lines = ["| model | precision | XLA | batch | fit img/s (spread) | plain img/s | fit/plain | "
             "GFLOP/step | % of matmul peak | input img/s (× training) | peak MiB | "
             "report schedule |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        if "error" in r:
            lines.append(f"| {r['model']} | {r['precision']} | | | failed: {r['error']} "
                         "| | | | | | | |")
            continue
        fit, plain = r["fit_images_per_s"], r["plain_images_per_s"]
        lines.append(
            f"| {r['model']} | {r['precision']} | {'on' if r['xla'] else 'off'} | "
            f"{r['batch_size']} | {fit['median']:.0f} (±{100 * fit['spread'] / 2:.0f} %) | "
            f"{plain['median']:.0f} | {r['fit_over_plain']:.3f} | "
            f"{r['flops_per_step'] / 1e9:.1f} | {100 * r['fraction_of_peak']:.0f} % | "
            f"{r['input_images_per_s']:.0f} (×{r['input_over_training']:.0f}) | "
            f"{r['peak_memory_mib']:.0f} | {r['report_training_minutes']:.0f} min |")
    profiled = [r for r in results if "share" in r.get("op_breakdown", {})]
    if profiled:
        lines += ["", "| model | precision | op s/step | " + " | ".join(OP_CATEGORIES)
                  + " | top op types |", "|---|---|---|" + "---|" * (len(OP_CATEGORIES) + 1)]
        for r in profiled:
            b = r["op_breakdown"]
            tops = ", ".join(f"{t} {100 * s:.0f} %" for t, s in b["top_op_types"][:4])
            lines.append(f"| {r['model']} | {r['precision']} | {b['op_seconds_per_step']:.3f} | "
                         + " | ".join(f"{100 * b['share'][c]:.0f} %" for c in OP_CATEGORIES)
                         + f" | {tops} |")
    tracked = [r for r in results if "tracking_seconds" in r]
    if tracked:
        lines += ["", "| model | quality tracking, N | seconds per epoch | share of a report "
                  "epoch | reference features (once per start) |", "|---|---|---|---|---|"]
        for r in tracked:
            lines.append(f"| {r['model']} | {r['tracking_samples']:,} | "
                         f"{r['tracking_seconds']:.1f} s | "
                         f"{100 * r['tracking_fraction_of_epoch']:.1f} % of "
                         f"{r['report_epoch_seconds']:.0f} s | "
                         f"{r['tracking_reference_seconds']:.1f} s |")
    return lines


HELP = "time each model's training step (and the per-epoch work)"
DESCRIPTION = __doc__.split("\n", 2)[2]


def main(argv=None) -> int:
    return script_main("python scripts/bench.py", sys.modules[__name__], argv)


def add_arguments(parser) -> None:
    parser.add_argument("--models", default=",".join(experiment_names()),
                        help=f"comma-separated subset of {','.join(experiment_names())}")
    parser.add_argument("--device", choices=("cpu", "gpu"), default="cpu")
    parser.add_argument("--precision", choices=PRECISION_SETTINGS, default="fp32",
                        help="fp32, bf16, fp16, or auto: each model at the precision a run's "
                             "--precision auto picks for it on this device (default %(default)s)")
    parser.add_argument("--xla", choices=XLA_SETTINGS, default="auto")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps first (default %(default)s)")
    parser.add_argument("--windows", type=int, default=5, help="timed windows (default %(default)s)")
    parser.add_argument("--window-steps", type=int, default=10, help="steps per window (default %(default)s)")
    parser.add_argument("--rounds", type=int, default=2,
                        help="alternating fit()/plain-loop rounds of --windows windows each")
    parser.add_argument("--out", default="bench.json", help="JSON results (default %(default)s)")
    parser.add_argument("--profile-steps", type=int, default=5,
                        help="steps traced by the profiler for the per-op breakdown (default "
                             "%(default)s)")
    parser.add_argument("--fused-batchnorm", action=argparse.BooleanOptionalAction, default=None,
                        help="the GANs' BatchNorm by the fused kernel or (--no-fused-batchnorm) "
                             "by Keras' own layer (default: the experiments' default)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)


def run_cli(args, parser) -> int:
    if min(args.warmup, args.windows, args.window_steps, args.rounds, args.profile_steps) < 1:
        parser.error("--warmup, --windows, --window-steps, --rounds and --profile-steps must "
                     "be at least 1")
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    if not models:
        parser.error(f"--models: name at least one of {', '.join(experiment_names())}")
    unknown = sorted(set(models) - set(experiment_names()))
    if unknown:
        parser.error(f"unknown model(s) {', '.join(unknown)}; choose from {', '.join(experiment_names())}")

    # Both roles load TensorFlow (the worker trains; the parent describes the device and the
    # versions): without its start-up lines, so a worker's last stderr line is its failure.
    import_tensorflow()
    if args.worker:
        result = worker(args.worker, args.precision, args.xla, args.warmup, args.windows,
                        args.window_steps, args.rounds, args.profile_steps,
                        args.fused_batchnorm)
        print(RESULT_MARK + json.dumps(result), flush=True)
        return 0
    if args.device == "gpu":
        import tensorflow as tf

        if not tf.config.list_physical_devices("GPU"):
            print("error: --device gpu: TensorFlow sees no GPU on this machine", file=sys.stderr)
            return 2

    results = []
    kind = "GPU" if args.device == "gpu" else "CPU"
    for name in models:
        precision = resolve_precision(args.precision, experiments.get(name).bf16_on_cpu, kind)
        print(f"bench: {name} ({precision}, xla {args.xla}) ...", flush=True)
        results.append(_run_worker(name, args, precision))
    estimate = report_estimate(results)
    lines = _table(results) + ["", estimate["line"]]
    print("\n".join(lines))
    write_json(Path(args.out), {"device": device_description(), "measured_at": now(),
                                "settings": _settings(args), "versions": package_versions(),
                                "results": results, "report_profile_estimate": estimate,
                                "table": lines})
    print(f"wrote {args.out}")
    return 0 if all("error" not in r for r in results) else 1


def report_estimate(results: list[dict]) -> dict:
    """The report profile's time at the benchmarked precisions, from the measured step times:
    every model's training steps for its report schedule plus its per-epoch quality tracking
    (the snapshots, checkpoints and the VAEs' validation passes add a few percent; the start of
    each run, building the pipeline and tracing, is not counted)."""
    measured = [r for r in results if "error" not in r]
    steps = {r["model"]: r["report_training_minutes"] for r in measured}
    tracking = {r["model"]: round(r.get("tracking_seconds", 0.0) * r["report_epochs"] / 60, 1)
                for r in measured}
    minutes = sum(steps.values()) + sum(tracking.values())
    missing = sorted(set(experiment_names()) - set(steps))
    line = (f"report profile at these precisions: training steps {sum(steps.values()):.0f} min "
            f"+ quality tracking {sum(tracking.values()):.0f} min = {minutes / 60:.2f} h"
            + (f" (not measured: {', '.join(missing)})" if missing else ""))
    return {"training_minutes": steps, "tracking_minutes": tracking,
            "precisions": {r["model"]: r["precision"] for r in measured},
            "hours": round(minutes / 60, 2), "complete": not missing, "line": line}


def _settings(args) -> dict:
    """The command's options as given (not the parser's own entries: its handler, the worker
    role)."""
    return {k: v for k, v in vars(args).items()
            if k not in ("worker", "handler", "verb_parser") and not callable(v)}


if __name__ == "__main__":
    sys.exit(main())
