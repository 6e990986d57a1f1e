"""``train(experiment, profile, ...)``: the one training entry point.

config -> data -> models (+ optimizers) -> ``fit()`` with :class:`replication.callbacks.EpochEnd`
-> run directory.  Resuming restores weights, optimizer state, RNG state and epoch from the
last checkpoint; the data order of each epoch depends only on ``(seed, epoch)``, so a resumed
run ends with the same weights as an uninterrupted one.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

from replication import data as data_lib
from replication import experiments
from replication.checkpoint import CheckpointError, build_optimizers, load_state
from replication.config import DEFAULT_PROFILE, ConfigError, replace
from replication.distribute import is_chief, make_strategy
from replication.cli import add_gan_arguments, add_train_arguments, progress_verbosity
from replication.errors import DamagedFileError, RunError, refuse_unless_it_fits, run_command
from replication.experiments import config_from_dict, make_config
from replication.levers import precision_policy, resolve_precision, resolve_xla
from replication.runs import (EPOCH_TIME_COLUMNS, RunDir, atomic_path, command_line,
                              default_run_dir, device_description, now, package_versions,
                              read_json, remove_partial_files, write_json)


class TrainingError(RunError):
    """Training could not go on; the message says why and what was kept."""


def prepare_run(experiment: str, profile: str, run_dir, resume: bool, overrides: dict,
                data_source: str, chief: bool = True):
    """Resolve the config and run directory (refusing to clobber an existing run, to resume a
    run that does not exist, or to change a resumed run's settings)."""
    run = RunDir(run_dir if run_dir is not None else default_run_dir(experiment, profile))
    if resume and not run.path.exists():
        raise ConfigError(f"--resume: there is no run in {run.path} (the folder does not exist); "
                          "check the path, or drop --resume to start a new run")
    if run.config_file.exists() and (resume or chief):
        if not resume:
            raise ConfigError(
                f"{run.path} already holds a run; pass --resume to continue it or choose "
                "another --run-dir")
        return _resumed_config(run, experiment, overrides, data_source), run
    if resume:
        print(f"resume: {run.path} holds no run yet (no config.json); starting it", flush=True)
    return make_config(experiment, profile, **overrides), run


def _resumed_config(run: RunDir, experiment: str, overrides: dict, data_source: str):
    saved = read_json(run.config_file)
    if saved.get("experiment") != experiment:
        raise ConfigError(f"{run.path} holds a {saved.get('experiment')} run, not {experiment}")
    config = config_from_dict(saved["config"])
    changed = {k: v for k, v in overrides.items()
               if v is not None and k != "epochs" and getattr(config, k, v) != v
               and not (k == "precision" and v == "auto")}  # auto: whatever it resolved to
    if changed:
        raise ConfigError(
            f"--resume keeps the run's settings; cannot change {', '.join(sorted(changed))} "
            "(only --epochs may be raised)")
    if data_source != saved.get("data_source"):
        raise ConfigError(f"--resume must use the run's data source {saved.get('data_source')!r}")
    if overrides.get("epochs"):
        config = replace(config, epochs=overrides["epochs"])
    return config


def build_model(spec, config, dataset, distribution=None):
    """``spec``'s model and optimizers for ``config`` (an :class:`~replication.experiments.
    base.Built`), ready to train: seeded, under the config's precision policy and the
    ``distribution`` strategy's scope, XLA as ``config.xla`` resolves on this device (``auto``:
    Keras decides, which turns it on for GPUs), the optimizers' variables built so that a
    checkpoint can be restored into them.  Training and the benchmark build through it."""
    import keras

    keras.utils.set_random_seed(config.seed)
    scope = distribution.scope() if distribution is not None else contextlib.nullcontext()
    with precision_policy(config.precision), scope:
        built = spec.build(config, dataset)
        xla = resolve_xla(config.xla)
        if xla != "auto":  # (assigning "auto" itself would read as truthy: XLA on)
            built.model.jit_compile = xla
        build_optimizers(built.model, built.optimizers, built.optimizer_variables)
    return built


def train(experiment: str, profile: str = DEFAULT_PROFILE, *, run_dir=None, data: str = "bundled",
          resume: bool = False, verbose: int | str = 1, callbacks=(), strategy: str = "default",
          devices=None, stop_after: int | None = None, **overrides) -> RunDir:
    """Train ``experiment`` under ``profile`` and return its run directory.

    ``overrides`` are config fields (``epochs``, ``batch_size``, ``seed``, ``dataset``, ...);
    ``None`` values are ignored; ``callbacks`` are added to ``fit()``'s; ``stop_after`` pauses
    the run after that epoch of its schedule (the schedule itself is unchanged, so ``resume``
    later continues it as if uninterrupted).  ``strategy`` is a tf.distribute strategy name
    (:mod:`replication.distribute`); only the chief writes files.
    Raises ``ConfigError`` / ``DataError`` / ``StrategyError`` for bad input and
    :class:`TrainingError` when training cannot go on (diverged, interrupted, a write
    refused); the last good checkpoint is kept.

    The steps: prepare (config, run directory, strategy, data) -> build (models, optimizers)
    -> restore (checkpoint) -> record (config.json, reference arrays) -> inputs -> callbacks
    -> fit and finish.
    """
    session = _Session(experiments.get(experiment), is_chief(), verbose)
    session.prepare(experiment, profile, run_dir, resume, overrides, data, strategy, devices)
    session.build()
    session.restore(resume)
    session.record(data, strategy)
    if session.start_epoch >= session.config.epochs:
        print(f"{session.run.path}: all {session.config.epochs} epochs already done", flush=True)
        if session.chief:
            _finish(session.spec, session.model, session.run, session.config.epochs)
        return session.run
    if stop_after is not None and session.start_epoch >= stop_after:
        print(f"{session.run.path}: paused at epoch {session.start_epoch} (asked to stop after "
              f"{stop_after})", flush=True)
        return session.run
    train_ds, validation, steps = session.inputs()
    epoch_end, all_callbacks = session.callbacks(data, callbacks)
    session.fit(train_ds, validation, steps, epoch_end, all_callbacks, stop_after)
    return session.run


class _Session:
    """The state one call of :func:`train` builds up, step by step."""

    def __init__(self, spec, chief: bool, verbose):
        self.spec, self.chief, self.verbose = spec, chief, verbose

    def prepare(self, experiment, profile, run_dir, resume, overrides, data, strategy, devices):
        config, self.run = prepare_run(experiment, profile, run_dir, resume, overrides, data,
                                       self.chief)
        if config.precision == "auto":  # recorded as the concrete choice in config.json
            config = replace(config, precision=resolve_precision("auto", self.spec.bf16_on_cpu))
        self.config = config
        self.distribution = make_strategy(strategy, devices)
        self.replicas = self.distribution.num_replicas_in_sync
        if config.batch_size % self.replicas:
            raise ConfigError(f"batch size {config.batch_size} does not split evenly over "
                              f"{self.replicas} replicas")
        # a batch's images in float32 and, roughly, the networks' activations on it (fifty
        # copies): refused before any data is read or a folder is made
        shape = data_lib.IMAGE_SHAPES.get(config.dataset, (32, 32, 3))
        refuse_unless_it_fits(f"--batch-size {config.batch_size}",
                              config.batch_size * int(np.prod(shape)) * 4 * 50)
        self.spec.preflight(config)
        self.dataset = data_lib.load(config.dataset, data)
        examples = len(self.dataset.train.take(config.train_examples))
        if config.batch_size > examples:
            raise ConfigError(f"batch size {config.batch_size} is larger than the "
                              f"{examples:,} training examples: not one step per epoch")
        self.device = device_description()
        where = (f"{self.device}, strategy {strategy} ({self.replicas} "
                 f"replica{'s' * (self.replicas > 1)})")
        print(f"run: {self.run.path} | {experiment} | profile {config.profile} | {where}",
              flush=True)

    def build(self):
        self.built = build_model(self.spec, self.config, self.dataset, self.distribution)
        self.model = self.built.model

    def restore(self, resume: bool):
        self.start_epoch = 0
        if not resume:
            return
        last, previous = self.run.checkpoint_file, self.run.previous_checkpoint_file
        candidates = [path for path in (last, previous) if path.exists()]
        for path in candidates:
            try:
                with self.distribution.scope():
                    self.start_epoch = load_state(path, self.model, self.built.optimizers)
            except DamagedFileError as exc:
                if path == candidates[-1]:
                    raise CheckpointError(
                        f"{exc}. There is no earlier good checkpoint, so {self.run.path} "
                        "cannot resume: start the run again in a new --run-dir (nothing in "
                        "this one was deleted)") from None
                aside = path.with_name(path.stem + ".damaged.npz")
                if self.chief:  # only the chief writes (other workers read the same files)
                    os.replace(path, aside)  # kept for a look, out of the rotation
                print(f"warning: {exc}. Moved it to {aside.name} and resuming from the "
                      f"checkpoint of the epoch before it, {previous}", flush=True)
                continue
            print(f"resume: restored {path} after epoch {self.start_epoch}", flush=True)
            return

    def record(self, data: str, strategy: str):
        """config.json (how the run is made) and the real images its figures show."""
        if not self.chief:
            return
        remove_partial_files(self.run.path, recursive=True)  # left by a killed run
        if not self.run.config_file.exists():
            write_json(self.run.config_file, {
                "experiment": self.spec.name,
                "config": self.config.to_dict(),
                "data": self.dataset.description,
                "data_source": data,
                "class_names": list(self.dataset.class_names),
                "device": self.device,
                "strategy": strategy,
                "replicas": self.replicas,
                "versions": package_versions(),
                "command": command_line(),
                "started_at": now(),
            })
        reference = self.spec.reference_arrays(self.config, self.dataset)
        if reference is not None and not self.run.reference_file.exists():
            with atomic_path(self.run.reference_file, suffix=".npz") as tmp:
                np.savez_compressed(tmp, **reference)

    def inputs(self):
        config, spec, dataset = self.config, self.spec, self.dataset
        train_split = dataset.train.take(config.train_examples)
        steps = data_lib.steps_per_epoch(len(train_split), config.batch_size)
        train_ds = data_lib.training_dataset(
            train_split, config.batch_size, seed=config.seed, value_range=spec.value_range,
            start_epoch=self.start_epoch, epochs=config.epochs, with_labels=spec.uses_labels)
        validation = None
        if spec.validates and dataset.test is not None:
            validation = data_lib.evaluation_dataset(
                dataset.test.take(config.eval_examples), config.batch_size,
                value_range=spec.value_range, with_labels=spec.uses_labels)
        return train_ds, validation, steps

    def callbacks(self, data: str, extra=()):
        import keras

        from replication.callbacks import EpochEnd, ReportLogLine

        config, spec, run = self.config, self.spec, self.run
        tracker = spec.tracker(config, self.dataset, data) if self.chief else None
        epoch_end = EpochEnd(run, self.built.optimizers, spec.snapshot_fn(config, self.dataset),
                             self.start_epoch, is_chief=self.chief, tracker=tracker,
                             num_classes=self.dataset.num_classes)
        out = [epoch_end]
        if self.chief:
            out.append(keras.callbacks.TensorBoard(
                log_dir=str(run.tensorboard_dir), write_graph=False, profile_batch=0))
        if spec.log_keys:
            # An explicit progress bar placed before the log line, so the line follows the bar.
            out += [keras.callbacks.ProgbarLogger(),
                    ReportLogLine(config.epochs, spec.log_keys,
                                  follow=lambda: epoch_end.epoch_lines)]
        return epoch_end, out + spec.callbacks(config) + list(extra)

    def fit(self, train_ds, validation, steps, epoch_end, all_callbacks, stop_after=None):
        run, config = self.run, self.config
        last = config.epochs if stop_after is None else min(config.epochs, stop_after)
        self._status("running", self.start_epoch)
        started = time.perf_counter()
        try:
            self.model.fit(train_ds, epochs=last, initial_epoch=self.start_epoch,
                           steps_per_epoch=steps, validation_data=validation,
                           callbacks=all_callbacks, verbose=self.verbose, shuffle=False)
        except KeyboardInterrupt:
            self._status("interrupted", epoch_end.epochs_done)
            raise TrainingError(
                f"interrupted after {epoch_end.epochs_done} finished epochs; continue with "
                f"--resume --run-dir {run.path}") from None
        if epoch_end.failure is not None:
            self._status(f"failed: {epoch_end.failure}", epoch_end.epochs_done)
            kept = (f"the checkpoint after epoch {epoch_end.epochs_done} is kept in {run.path}"
                    if epoch_end.epochs_done else f"nothing was finished in {run.path}")
            if epoch_end.write_failed:
                raise TrainingError(f"{epoch_end.failure}; {kept} - free space (or fix the "
                                    "folder), then continue with --resume")
            raise TrainingError(f"training diverged ({epoch_end.failure}); {kept} - lower the "
                                "learning rate or change --seed")
        print(f"trained {epoch_end.epochs_done - self.start_epoch} epochs in "
              f"{time.perf_counter() - started:.0f} s{_time_split(run, self.start_epoch)}",
              flush=True)
        if epoch_end.epochs_done < config.epochs:
            self._status("paused", epoch_end.epochs_done)
            print(f"paused after epoch {epoch_end.epochs_done} of {config.epochs}; continue "
                  f"with --resume --run-dir {run.path}", flush=True)
        elif self.chief:
            _finish(self.spec, self.model, run, epoch_end.epochs_done)

    def _status(self, state: str, epochs_done: int) -> None:
        """Update status.json, saying so (and going on) if even that write is refused."""
        if not self.chief:
            return
        try:
            self.run.set_status(state, epochs_done)
        except OSError as exc:
            print(f"warning: could not update {self.run.status_file} "
                  f"({exc.strerror or exc})", file=sys.stderr, flush=True)


def _time_split(run: RunDir, start_epoch: int) -> str:
    """Where this invocation's epochs spent their time (history.csv's columns), so that what
    fit() took beyond them (its start and end) shows."""
    rows = [r for r in run.history() if r.get("epoch", 0) > start_epoch]
    sums = {key: sum(r[key] for r in rows if math.isfinite(r.get(key, math.nan)))
            for key in EPOCH_TIME_COLUMNS}
    if not rows:
        return ""
    return (f" (training steps {sums['seconds']:.0f} s, quality tracking "
            f"{sums['track_seconds']:.0f} s, snapshots and checkpoints "
            f"{sums['overhead_seconds']:.0f} s)")


def _finish(spec, model, run: RunDir, epochs_done: int) -> None:
    try:
        paths = spec.save_final(model, run.model_dir)
    except OSError as exc:
        raise TrainingError(f"cannot write the final models into {run.model_dir} "
                            f"({exc.strerror or exc}); every epoch's checkpoint is kept in "
                            f"{run.path} - free space, then rerun with --resume") from None
    run.set_status("finished", epochs_done, models=[str(Path(p).name) for p in paths])
    print("saved " + ", ".join(str(p) for p in paths), flush=True)


# --------------------------------------------------------------------------------------------
# The verb: python -m replication train

DESCRIPTION = ("Train one experiment with fit(); writes config.json, history.csv, per-epoch "
               "snapshots, checkpoints and the final .keras model(s) to the run directory.")
HELP = "train one experiment into a run directory"


def add_arguments(parser) -> None:
    add_train_arguments(parser)
    add_gan_arguments(parser)


def run_cli(args, parser) -> int:
    """Every flag whose name is a setting of some experiment's config is an override of it
    (None: the profile's value); the others say how to run (data, run directory, resume,
    strategy, output)."""
    settings = experiments.setting_names()
    overrides = {name: value for name, value in vars(args).items()
                 if name in settings and name not in ("experiment", "profile")}

    def run() -> None:
        train(args.experiment, args.profile, run_dir=args.run_dir, data=args.data,
              resume=args.resume, verbose=progress_verbosity(args.quiet),
              strategy=args.strategy, devices=args.devices, **overrides)

    return run_command(run)
