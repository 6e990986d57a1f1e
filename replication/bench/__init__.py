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
import json
import os
import subprocess
import sys
from pathlib import Path

from replication import experiments
from replication.backend import import_tensorflow
from replication.bench.worker import OP_CATEGORIES, worker
from replication.cli import script_main
from replication.experiments import names as experiment_names
from replication.levers import PRECISION_SETTINGS, XLA_SETTINGS, resolve_precision
from replication.runs import device_description, now, package_versions, write_json
from replication.vocabulary import comma_list

RESULT_MARK = "BENCH-RESULT "


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
    models = comma_list(args.models)
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
