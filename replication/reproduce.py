"""``scripts/reproduce_all.py``: train every experiment and regenerate every figure and the gallery.

Each experiment is one stage: train into ``runs/<experiment>/<profile>/`` (a finished run is
reused, an interrupted one resumed from its last checkpoint; one started at other settings
than the profile's current ones is refused), then draw its figures into the
profile's folder (``figures/`` for the report profile, ``figures/quick/`` for quick, ...).
``--pretrained`` trains nothing and redraws everything from the runs shipped in
``pretrained/``.  Overall progress (stage k of n, elapsed, estimated remaining) is printed above
each model's own progress bar, and after every epoch.
"""

from __future__ import annotations

import re
import sys
import tempfile
import time
from pathlib import Path

from replication import experiments, gallery, study
from replication.config import DEFAULT_PROFILE, PROFILES, ConfigError, is_full_schedule
from replication.experiments import changed_from_profile, make_config
from replication.cli import (add_data_flag, add_encoder_weights_flag, add_precision_flags,
                             add_strategy_flags, progress_verbosity, script_main)
from replication.data import epoch_examples, steps_per_epoch
from replication.levers import (CPU_NAMES, device_kind, matmul_peak, measured_cpu,
                                resolve_precision)
from replication.errors import run_command
from replication.evaluate import table_rows, update_table
from replication.runs import (RunDir, ShippingError, default_run_dir, device_description,
                              read_json, shipped_at, shipped_run, shipped_runs)
from replication.train import train
from replication.vocabulary import comma_list

# The up-front estimate of a stage: each experiment's ``reference_seconds`` (per training step
# at the profile's batch size, per epoch beside the steps, per stage), measured per kind of CPU
# (replication.levers.MEASURED_CPUS) at the quick profile's precision by its main job
# (docs/results.md#the-quick-profile); on a CPU not measured, the Zen 4's times scaled by the
# Zen 4's matmul peak at the stage's precision over this CPU's (measured in seconds before the
# first stage; a rough guide: between the Zen 4 and the Zen 5 the main job's stages sped up
# 1.5-1.7x while the peak went 1.07x in fp32 and 2.0x in bf16).  Once a stage has run,
# measured epoch times replace the estimate.
REFERENCE_CPU = "zen4"
# The Zen 4's matmul peak in FLOP/s, the median of docs/bench/2026-12-07-zen4/'s rows.
REFERENCE_CPU_DEVICE = "AMD EPYC (family 25, model 17, avx512_bf16), 2 cores"
REFERENCE_MATMUL_PEAK = {"fp32": 223.5e9, "bf16": 403.7e9}
# The probe: the benchmark's measure (replication.levers.matmul_peak), fewer repeats.
PROBE_REPEATS = 3


def _fmt(seconds: float) -> str:
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

    def calibrate(self, precision: str | None = None, probe=None, cpu: str | None = "this"
                  ) -> str:
        """Choose the table the estimate reads, and say how, for the estimate's line: this
        CPU's own where it was measured (``cpu``: its name in MEASURED_CPUS, None for one
        not measured; default: this machine's); else the reference CPU's, each stage scaled
        by the reference's matmul peak over this CPU's at the stage's precision
        (``precision``: the job's ``--precision``, else each profile's; ``probe(precision)``
        measures the peak).  Only on a CPU and for the quick and full profiles (the smoke
        profile's stages take seconds)."""
        kind = device_kind()
        if kind != "CPU":
            return " (from the 2-core reference CPU; a GPU is faster)"
        if self.profile == "smoke":
            return ""
        cpu = measured_cpu() if cpu == "this" else cpu
        if cpu is not None:
            self.cpu = cpu
            return f" (measured on this kind of CPU, the {CPU_NAMES.get(cpu, cpu)})"
        probe = probe or (lambda p: matmul_peak(p, repeats=PROBE_REPEATS))
        peaks: dict[str, float] = {}
        for stage in self.stages:
            config = make_config(stage, self.profile)
            chosen = resolve_precision(precision or config.precision,
                                       experiments.get(stage).bf16_on_cpu, kind)
            if chosen not in peaks:
                peaks[chosen] = probe(chosen)
            reference = REFERENCE_MATMUL_PEAK.get(chosen)
            if reference and peaks[chosen] > 0:
                self.factors[stage] = max(0.1, min(20.0, reference / peaks[chosen]))
        measured = ", ".join(f"{p} {v / 1e9:.0f}" for p, v in sorted(peaks.items()))
        known = ", ".join(f"{p} {REFERENCE_MATMUL_PEAK[p] / 1e9:.0f}" for p in sorted(peaks)
                          if p in REFERENCE_MATMUL_PEAK)
        return (f" (a CPU not measured: the {CPU_NAMES[REFERENCE_CPU]}'s times scaled by "
                f"matmul peak, GFLOP/s: this CPU {measured}, the reference {known}; a rough "
                "guide)")

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
                f"elapsed {_fmt(elapsed)}, estimated remaining {_fmt(self.remaining_seconds())}")


HELP = ("train every experiment (or some) and redraw every figure, or redraw them from the "
        "shipped runs (--pretrained)")
DESCRIPTION = ("Train every experiment of the report (or the chosen ones) and regenerate every "
               "figure, table and GIF into the profile's figures folder, with its gallery "
               "README.md. Finished runs are reused; interrupted ones resume. --pretrained "
               "redraws everything from the shipped runs instead.")


def add_arguments(parser) -> None:
    parser.add_argument("--profile", choices=PROFILES, default=DEFAULT_PROFILE,
                        help=f"schedule for every experiment (default: {DEFAULT_PROFILE}, minutes on 2 CPU "
                             "cores)")
    parser.add_argument("--only", metavar="EXPERIMENTS",
                        help=f"comma-separated subset of {','.join(experiments.names())}")
    add_data_flag(parser)
    add_strategy_flags(parser)
    add_precision_flags(parser)
    add_encoder_weights_flag(parser, auto=True)
    parser.add_argument("--runs", default="runs", metavar="DIR", help="runs root (default %(default)s)")
    parser.add_argument("--out", metavar="DIR",
                        help="figures folder (default: figures/ for the report profile, which "
                             "only report-profile runs draw into; figures/quick/ and "
                             "figures/paper/ for those profiles; RUNS/figures-smoke for smoke)")
    parser.add_argument("--quiet", action="store_true",
                        help="one line per epoch, no progress bar (the default when the output "
                             "is a file or a pipe)")
    parser.add_argument("--pretrained", action="store_true",
                        help="train nothing: redraw every report figure, GIF, the evaluation "
                             "table and the gallery from the runs shipped in pretrained/ "
                             "(about a minute), into --out (default figures/)")


def _encoder_weights(choice: str, config) -> str:
    """``--encoder-weights`` of the EfficientNet-VAE: ``auto`` is imagenet when the config's
    encoder can have its ImageNet weights here (Lite0's come offline from a package), else
    none, said loudly."""
    if choice != "auto":
        return choice
    from replication.models.efficientnet_vae import EncoderWeightsError, build_backbone

    try:
        build_backbone(config.encoder_input_size, "imagenet", config.encoder)
        return "imagenet"
    except EncoderWeightsError as exc:
        print(f"WARNING: {exc}. reproduce_all continues with --encoder-weights none: the "
              "EfficientNet-VAE encoder is randomly initialised, NOT pretrained; its figures and "
              "config.json say so.", flush=True)
        return "none"


def _unwritable(folder: Path) -> str | None:
    """Why ``folder`` cannot take our files (checked before hours of training), or None."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-test-"):
            pass
    except OSError as exc:
        return f"cannot create the output folder {folder} ({exc.strerror or exc})"
    return None


def main(argv=None) -> int:
    return script_main("python scripts/reproduce_all.py", sys.modules[__name__], argv)


def run_cli(args, parser) -> int:
    stages = _stages(args, parser)
    if args.pretrained:
        return run_command(lambda: _redraw_pretrained(args, stages))
    return run_command(lambda: _reproduce(args, stages),
                       hint="rerun the same command to continue")


def _stages(args, parser) -> list[str]:
    stages = experiments.names()  # the report's experiments, in the report's order
    if not args.only:
        return list(stages)
    chosen = comma_list(args.only)
    if not chosen:
        parser.error(f"--only: name at least one of {', '.join(stages)}")
    unknown = [s for s in chosen if s not in stages]
    if unknown:
        parser.error(f"unknown experiment(s) {', '.join(unknown)}; choose from "
                     f"{', '.join(stages)}")
    return [s for s in stages if s in chosen]


def _overview(runs: dict, out, profile: str = "report") -> Path | None:
    """The front picture, when this invocation drew every experiment it shows (a partial one
    never replaces a whole one); after a short profile's runs, with the shipped report runs
    beside them."""
    from replication.figures.overview import draw_overview, panels

    if not set(panels()) <= set(runs):
        return None
    beside = None
    if not is_full_schedule(profile):
        beside = {}
        for experiment in panels():
            try:
                beside[experiment] = shipped_run(experiment).path
            except ShippingError:
                pass
    return draw_overview(runs, out, beside)


def shipped_table(runs: dict, out) -> Path | None:
    """The evaluation table of ``out`` made anew from the shipped runs' ``metrics.json``: for
    each experiment of ``runs`` (experiment -> the run its figures come from) that run first,
    then every other run of it that ships."""
    rows = []
    for experiment, run in runs.items():
        for shipped in [run] + [r for r in shipped_runs(experiment).values()
                                if r.path != run.path]:
            metrics = shipped.path / "metrics.json"
            if metrics.exists():
                rows += table_rows(str(shipped.path), read_json(metrics))
    return update_table(Path(out), rows, fresh=True) if rows else None


def _redraw_pretrained(args, stages) -> int:
    """``--pretrained``: every figure, the evaluation table and the gallery from the shipped
    runs (their profile is the report's), without training."""
    from replication.figures import draw_experiment, figures_folder

    started = time.perf_counter()
    runs = {experiment: shipped_run(experiment) for experiment in stages}  # all, or one error
    out = Path(args.out) if args.out is not None else \
        figures_folder(runs[stages[0]].info()["config"]["profile"])
    problem = _unwritable(out)
    if problem:
        raise ConfigError(problem)
    for experiment, run in runs.items():
        print(f"[{experiment}] drawing from the shipped run {run.path}", flush=True)
        draw_experiment(experiment, run.path, out)
    table = shipped_table(runs, out)
    if table is not None:
        print(f"evaluation table: {table}", flush=True)
    _overview({experiment: run.path for experiment, run in runs.items()}, out)
    _paper_schedule_sections(runs, out)
    print(f"gallery: {gallery.build(out)}", flush=True)
    print(f"redrawn from the shipped runs in {_fmt(time.perf_counter() - started)}", flush=True)
    return 0


def _paper_schedule_sections(runs: dict, out) -> None:
    """The gallery's section on each shipped run at the paper's schedule, beside the report
    run drawn here (and the study runs recorded at that schedule)."""
    from replication.figures import Context, schedule

    for experiment, report in runs.items():
        if not experiments.get(experiment).conditional:
            continue
        shipped = shipped_at(experiment, schedule.PROFILE)
        if not shipped:
            continue
        paper = shipped[0]
        print(f"[{experiment}] the paper's schedule, from {paper.path}", flush=True)
        others = tuple(schedule.schedule_runs(experiment, study.RECORDS))
        schedule.draw_schedule_figures(Context(paper), report, out, others)


def _reproduce(args, stages) -> int:
    from replication.figures import draw_experiment, figures_folder

    if args.out is None:
        args.out = str(figures_folder(args.profile, runs_root=args.runs))
    problem = _unwritable(Path(args.out)) or _unwritable(Path(args.runs))
    if problem:
        raise ConfigError(problem)
    plan = Plan(stages, args.profile, Path(args.runs))
    device = device_description()
    print(f"reproduce_all: {len(stages)} stage(s) ({', '.join(stages)}), profile {args.profile}, "
          f"data {args.data}, strategy {args.strategy}, on {device}; figures into {args.out}",
          flush=True)
    reference = plan.calibrate(args.precision)
    plan.estimated = plan.remaining_seconds()
    print(f"estimated time: {_fmt(plan.estimated)}{reference}", flush=True)
    drawn = {}
    for k, experiment in enumerate(stages):
        plan.start_stage(k)
        run = _train_stage(args, plan, k, experiment)
        plan.finished.add(experiment)
        print(plan.line(k, "drawing figures"), flush=True)
        draw_experiment(experiment, run.path, args.out)
        drawn[experiment] = run.path
    overview = _overview(drawn, args.out, args.profile)
    made = gallery.build(args.out)
    print("\n".join(training_times(drawn)), flush=True)
    print(f"done in {_fmt(time.perf_counter() - plan.started)} (estimated up front: "
          f"{_fmt(plan.estimated)})", flush=True)
    if overview is not None:
        print(f"look at: {overview} (the results at a glance)", flush=True)
    print(f"every figure, how it was made: the gallery {made}", flush=True)
    return 0


def training_times(runs: dict) -> list[str]:
    """What the runs behind the figures cost to train, from their own epochs (summed epoch and
    tracking times of each ``history.csv``): the profile's training time even where a run was
    resumed across sessions or promoted from a study, which the wall time of this invocation
    does not show."""
    lines = ["training time of these runs (summed epoch times from each history.csv):"]
    total = 0.0
    for experiment, path in runs.items():
        run = RunDir(path)
        info = run.info()
        seconds = run.training_seconds()
        total += seconds
        origin = info.get("promoted_from", {}).get("run")
        lines.append(f"  {experiment:<11} {_fmt(seconds):>8}  {info.get('epochs_done', '?')} "
                     f"epochs, {info['config'].get('precision', 'fp32')}, {info.get('device', '?')}"
                     + (f" (promoted from {origin})" if origin else ""))
    lines.append(f"  {'total':<11} {_fmt(total):>8}")
    return lines


def _refuse_other_settings(run, config) -> None:
    """A run started before a profile default changed would resume (or be drawn) with its old
    settings, and the figures would not show the profile's current choices: stop and say so."""
    listed = changed_from_profile(read_json(run.config_file)["config"], config.experiment,
                                  config.profile)
    if listed:
        raise ConfigError(
            f"{run.path} was started with other settings than the {config.profile} profile's "
            f"current ones: {listed}; move that folder away to train at the current settings, or "
            "use --runs DIR for a fresh set of runs")


def _train_stage(args, plan: Plan, k: int, experiment: str):
    """Train (or resume, or reuse) one stage's run; return its run directory."""
    run = RunDir(plan.run_dir(experiment))
    state = run.info().get("state") if run.config_file.exists() else None
    config = make_config(experiment, args.profile)
    if run.config_file.exists():
        _refuse_other_settings(run, config)
    if state == "finished" and plan.done_epochs[experiment] >= config.epochs:
        print(plan.line(k, "reusing the finished run, drawing only"), flush=True)
        return run
    print(plan.line(k, "resuming" if run.config_file.exists() else "training"), flush=True)
    extra = {}
    if experiments.get(experiment).pretrained_encoder and not run.config_file.exists():
        extra["encoder_weights"] = _encoder_weights(args.encoder_weights, config)
    train(experiment, args.profile, run_dir=run.path, data=args.data,
          resume=run.config_file.exists(), verbose=progress_verbosity(args.quiet),
          strategy=args.strategy, devices=args.devices, precision=args.precision, xla=args.xla,
          callbacks=[overall_progress(plan, k)], **extra)
    return run
