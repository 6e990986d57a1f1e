"""The main job's time: its up-front estimate per stage, the running estimate as epochs end,
and the tables it reads (``reference_seconds`` per measured CPU, derived from a main job's log by
:func:`stage_timings`).  ``scripts/reproduce_all.py`` (:mod:`replication.reproduce`) prints it.
"""

from __future__ import annotations

import re
import statistics
import time
from pathlib import Path

from replication import data, experiments
from replication.data import epoch_examples, steps_per_epoch
from replication.experiments import make_config
from replication.levers import CPU_NAMES, device_kind, measured_cpu, resolve_precision
from replication.bench.worker import build_timed
from replication.runs import RunDir, default_run_dir

# The up-front estimate of a stage: each experiment's ``reference_seconds`` (per training step
# at the profile's batch size, per epoch beside the steps, per stage), measured per kind of CPU
# (replication.levers.MEASURED_CPUS) at the quick profile's precision by its main job
# (docs/results.md#the-quick-profile).  On a CPU not measured, the Zen 4's table scaled per
# stage by a probe: a few real training steps of the stage's model (the profile's batch and
# precision, built as training builds it), timed against the Zen 4's seconds per step.  One
# factor for all stages is no guide: on the Xeon with AMX (model 207) the steps took 0.49x
# (the VAE) to 0.97x (the EfficientNet-VAE) the Zen 4's; a matmul peak still less (the Xeon
# with AMX of 2026-12-02, model 167: bf16 peak 3.4x the Zen 4's, GAN steps 1.2-1.35x as fast,
# docs/bench/).  Once a stage has run, measured epoch times replace the estimate
# (docs/results.md#the-quick-profile).
REFERENCE_CPU = "zen4"
PROBE_WARMUP, PROBE_STEPS = 2, 4  # steps dropped (tracing), steps timed (their median)


def fmt_duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def estimate_seconds(experiment: str, profile: str, epochs_done: int = 0,
                     cpu: str = REFERENCE_CPU) -> float:
    """Estimated wall time of the remaining training and drawing of one stage on the measured
    CPU ``cpu`` (the reference CPU's where that experiment has no table for it)."""
    config = make_config(experiment, profile)
    steps = steps_per_epoch(epoch_examples(config), config.batch_size)
    remaining = max(0, config.epochs - epochs_done)
    table = experiments.get(experiment).reference_seconds
    per_step, per_epoch, per_stage = table.get(cpu, table[REFERENCE_CPU])
    return remaining * (steps * per_step + per_epoch) + per_stage


def probe_step_seconds(experiment: str, profile: str, precision: str | None = None,
                       source: str = "bundled") -> float:
    """Seconds of one training step of ``experiment``'s ``profile`` on this machine (its model,
    batch and precision, ``precision`` overriding the profile's), built as training builds it
    and run by ``fit()`` on the data from ``source`` (as ``train``'s ``data``): the median of
    PROBE_STEPS steps after PROBE_WARMUP (a few seconds in all on a 2-core CPU)."""
    import keras

    spec = experiments.get(experiment)
    chosen = resolve_precision(precision or make_config(experiment, profile).precision,
                               spec.bf16_on_cpu, device_kind())
    config, dataset, _, model, _ = build_timed(experiment, chosen, profile=profile, source=source)
    batches = data.training_dataset(dataset.train, config.batch_size, seed=config.seed,
                                    value_range=spec.value_range, with_labels=spec.uses_labels)
    ends: list[float] = []
    timer = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs=None: ends.append(time.perf_counter()))
    model.fit(batches, epochs=1, steps_per_epoch=PROBE_WARMUP + PROBE_STEPS, callbacks=[timer],
              verbose=0)
    del model
    keras.backend.clear_session()  # free it; Keras' global state (layer names) as fresh
    return statistics.median(b - a for a, b in zip(ends[PROBE_WARMUP - 1:], ends[PROBE_WARMUP:]))


def _seconds(text: str) -> int:
    parts = [int(x) for x in text.split(":")]
    return sum(v * 60 ** i for i, v in enumerate(reversed(parts)))


def stage_timings(log: str, profile: str = "quick") -> dict[str, tuple[float, float, float]]:
    """``reference_seconds`` as measured by one main job: its log (``reproduce_all.py``'s
    output, every stage trained from scratch) -> ``{experiment: (seconds per training step,
    per epoch beside the steps, per stage beside the epochs)}`` (rounded as the tables are).
    Each stage runs from its ``training`` line to the next stage's (or the job's ``done``)."""
    starts, fits = [], {}
    for line in log.splitlines():
        started = re.match(r"\[stage \d+/\d+ (\w+): training\] elapsed ([\d:]+)", line)
        if started:
            starts.append((started.group(1), _seconds(started.group(2))))
        fit = re.match(r"trained (\d+) epochs in (\d+) s \(training steps (\d+) s", line)
        if fit and starts:
            fits[starts[-1][0]] = tuple(int(x) for x in fit.groups())
        done = re.match(r"done in ([\d:]+)", line)
        if done:
            starts.append(("", _seconds(done.group(1))))
    out = {}
    for (name, start), (_, end) in zip(starts, starts[1:]):
        if name not in fits:
            continue
        epochs, fit_seconds, step_seconds = fits[name]
        config = make_config(name, profile)
        steps = epochs * steps_per_epoch(epoch_examples(config), config.batch_size)
        out[name] = (float(f"{step_seconds / steps:.3g}"),
                     round((fit_seconds - step_seconds) / epochs, 1),
                     float(max(0, round(end - start - fit_seconds))))
    return out


def overall_progress(plan: "Plan", stage: int):
    """A Keras callback printing the whole job's progress after each epoch, above the model's
    progress bar (built on demand: this module is imported before TensorFlow is)."""
    import keras

    class OverallProgress(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            plan.epoch_done(stage, epoch + 1)
            print(plan.line(stage, f"epoch {epoch + 1} done"), flush=True)

    return OverallProgress()


class Plan:
    def __init__(self, stages, profile, runs_root: Path):
        self.stages = list(stages)
        self.profile = profile
        self.runs_root = runs_root
        self.started = time.perf_counter()
        self.done_epochs = {s: self._epochs_done(s) for s in self.stages}
        self.finished: set[str] = set()
        self.speed = 1.0  # measured / expected time, updated as stages finish
        self.factors: dict[str, float] = {}  # this machine's time / the reference's, per stage
        self.cpu = REFERENCE_CPU  # whose table the estimate reads
        self.estimated = 0.0  # the up-front estimate, seconds
        self._stage_started = {}

    def run_dir(self, experiment: str) -> Path:
        return default_run_dir(experiment, self.profile, self.runs_root)

    def _epochs_done(self, experiment) -> int:
        try:
            return int(RunDir(self.run_dir(experiment)).info().get("epochs_done", 0))
        except (FileNotFoundError, ValueError):
            return 0

    def calibrate(self, precision: str | None = None, probe=None, cpu: str | None = "this",
                  source: str = "bundled") -> str:
        """Choose the table the estimate reads, and say how, for the estimate's line: this
        CPU's own where it was measured (``cpu``: its name in MEASURED_CPUS, None for one
        not measured; default: this machine's); else the reference CPU's, each stage scaled
        by ``probe(stage, profile, precision, source)`` (default :func:`probe_step_seconds`;
        ``precision``: the job's ``--precision``, else the profile's; ``source``: the job's
        ``--data``) over the reference's seconds per step of that stage; stages already
        trained are not probed, and a probe that fails leaves its stage at the reference's
        time.  Only on a CPU and for the quick and full profiles (the smoke profile's stages
        take seconds)."""
        kind = device_kind()
        if kind != "CPU":
            return " (from the 2-core reference CPU; a GPU is faster)"
        if self.profile == "smoke":
            return ""
        cpu = measured_cpu() if cpu == "this" else cpu
        if cpu is not None:
            self.cpu = cpu
            return f" (measured on this kind of CPU, the {CPU_NAMES.get(cpu, cpu)})"
        probe = probe or probe_step_seconds
        started = time.perf_counter()
        failed = []
        for stage in self.stages:
            if self.done_epochs.get(stage, 0) >= make_config(stage, self.profile).epochs:
                continue
            reference = experiments.get(stage).reference_seconds[REFERENCE_CPU][0]
            try:
                seconds = probe(stage, self.profile, precision, source)
            except Exception as error:  # noqa: BLE001 - its stage will say what is wrong
                failed.append(f"{stage}: {type(error).__name__}")
                continue
            self.factors[stage] = max(0.05, min(20.0, seconds / reference))
        spread = ", ".join(f"{s} {f:.2f}" for s, f in self.factors.items())
        unprobed = f"; not probed, the reference's time: {', '.join(failed)}" if failed else ""
        return (f" (a CPU not measured: the {CPU_NAMES[REFERENCE_CPU]}'s times x {spread}, "
                f"each stage's step probed here, {time.perf_counter() - started:.0f} s"
                f"{unprobed}; a guide)")

    def _stage_seconds(self, stage: str, epochs_done: int) -> float:
        return (estimate_seconds(stage, self.profile, epochs_done, self.cpu)
                * self.factors.get(stage, 1.0))

    def remaining_seconds(self) -> float:
        """The estimate of what is left on this machine, corrected by the speed measured so
        far."""
        total = sum(self._stage_seconds(s, self.done_epochs.get(s, 0))
                    for s in self.stages if s not in self.finished)
        return total * self.speed

    def epoch_done(self, stage: int, epochs_done: int):
        experiment = self.stages[stage]
        before = self._stage_seconds(experiment, self.done_epochs[experiment])
        self.done_epochs[experiment] = epochs_done
        after = self._stage_seconds(experiment, epochs_done)
        spent = time.perf_counter() - self._stage_started.get(stage, self.started)
        expected = self._stage_seconds(experiment, 0) - after
        if expected > 0 and spent > 0 and before > after:
            self.speed = max(0.2, min(10.0, spent / expected))

    def start_stage(self, stage: int):
        self._stage_started[stage] = time.perf_counter()

    def line(self, stage: int, what: str) -> str:
        elapsed = time.perf_counter() - self.started
        return (f"[stage {stage + 1}/{len(self.stages)} {self.stages[stage]}: {what}] "
                f"elapsed {fmt_duration(elapsed)}, "
                f"estimated remaining {fmt_duration(self.remaining_seconds())}")
