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

import sys
import tempfile
import time
from pathlib import Path

from replication import experiments, gallery, study
from replication.config import DEFAULT_PROFILE, PROFILES, ConfigError, is_full_schedule
from replication.experiments import changed_from_profile, make_config
from replication.cli import (add_data_flag, add_encoder_weights_flag, add_precision_flags,
                             add_strategy_flags, progress_verbosity, script_main)
from replication.estimate import Plan, fmt_duration, overall_progress
from replication.errors import run_command
from replication.evaluate import table_rows, update_table
from replication.runs import (RunDir, ShippingError, device_description, read_json, shipped_at,
                              shipped_run, shipped_runs)
from replication.train import train
from replication.vocabulary import comma_list

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
    print(f"redrawn from the shipped runs in {fmt_duration(time.perf_counter() - started)}", flush=True)
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
    reference = plan.calibrate(args.precision, source=args.data)
    plan.estimated = plan.remaining_seconds()
    print(f"estimated time: {fmt_duration(plan.estimated)}{reference}", flush=True)
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
    print(f"done in {fmt_duration(time.perf_counter() - plan.started)} (estimated up front: "
          f"{fmt_duration(plan.estimated)})", flush=True)
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
        lines.append(f"  {experiment:<11} {fmt_duration(seconds):>8}  {info.get('epochs_done', '?')} "
                     f"epochs, {info['config'].get('precision', 'fp32')}, {info.get('device', '?')}"
                     + (f" (promoted from {origin})" if origin else ""))
    lines.append(f"  {'total':<11} {fmt_duration(total):>8}")
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
