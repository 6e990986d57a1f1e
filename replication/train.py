"""``train(experiment, profile, ...)``: the one training entry point.

config -> data -> models (+ optimizers) -> ``fit()`` with :class:`replication.callbacks.EpochEnd`
-> run directory.  Resuming restores weights, optimizer state, RNG state and epoch from the
last checkpoint; the data order of each epoch depends only on ``(seed, epoch)``, so a resumed
run ends with the same weights as an uninterrupted one.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from replication import data as data_lib
from replication.config import ConfigError, config_from_dict, make_config, replace
from replication.runs import (RunDir, atomic_path, default_run_dir, device_description, now,
                              package_versions, read_json, remove_partial_files, write_json)


class TrainingError(RuntimeError):
    """Training could not go on; the message says why and what was kept."""


def prepare_run(experiment: str, profile: str, run_dir, resume: bool, overrides: dict,
                data_source: str, chief: bool = True):
    """Resolve the config and run directory (refusing to clobber an existing run)."""
    run = RunDir(run_dir if run_dir is not None else default_run_dir(experiment, profile))
    if run.config_file.exists() and (resume or chief):
        if not resume:
            raise ConfigError(
                f"{run.path} already holds a run; pass --resume to continue it or choose "
                "another --run-dir")
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
    else:
        config = make_config(experiment, profile, **overrides)
    return config, run


def train(experiment: str, profile: str = "quick", *, run_dir=None, data: str = "bundled",
          resume: bool = False, verbose: int | str = 1, callbacks=(), strategy: str = "default",
          devices=None, **overrides) -> RunDir:
    """Train ``experiment`` under ``profile`` and return its run directory.

    ``overrides`` are config fields (``epochs``, ``batch_size``, ``seed``, ``dataset``, ...);
    ``None`` values are ignored; ``callbacks`` are added to ``fit()``'s.  ``strategy`` is a
    tf.distribute strategy name (:mod:`replication.distribute`); only the chief writes files.
    Raises ``ConfigError`` / ``DataError`` / ``StrategyError`` for bad input and
    :class:`TrainingError` when training diverges (the last good checkpoint is kept).
    """
    import keras

    from replication import experiments
    from replication.callbacks import EpochEnd, ReportLogLine
    from replication.checkpoint import build_optimizers, load_state
    from replication.distribute import is_chief, make_strategy
    from replication.levers import precision_policy, resolve_precision, resolve_xla

    chief = is_chief()
    config, run = prepare_run(experiment, profile, run_dir, resume, overrides, data, chief)
    spec = experiments.get(experiment)
    if config.precision == "auto":  # recorded as the concrete choice in config.json
        config = replace(config, precision=resolve_precision("auto", experiment))
    distribution = make_strategy(strategy, devices)
    replicas = distribution.num_replicas_in_sync
    if config.batch_size % replicas:
        raise ConfigError(f"batch size {config.batch_size} does not split evenly over "
                          f"{replicas} replicas")
    spec.preflight(config)
    dataset = data_lib.load(config.dataset, data)
    device = device_description()
    where = f"{device}, strategy {strategy} ({replicas} replica{'s' * (replicas > 1)})"
    print(f"run: {run.path} | {experiment} | profile {config.profile} | {where}", flush=True)

    keras.utils.set_random_seed(config.seed)
    with precision_policy(config.precision), distribution.scope():
        built = spec.build(config, dataset)
        model = built.model
        xla = resolve_xla(config.xla)
        if xla != "auto":  # (assigning "auto" itself would read as truthy: XLA on)
            model.jit_compile = xla
        build_optimizers(model, built.optimizers, built.optimizer_variables)
        start_epoch = 0
        if resume and run.checkpoint_file.exists():
            start_epoch = load_state(run.checkpoint_file, model, built.optimizers)
            print(f"resume: restored {run.checkpoint_file} after epoch {start_epoch}", flush=True)
    if chief:
        remove_partial_files(run.path, recursive=True)  # left by a killed run
    if chief and not run.config_file.exists():
        write_json(run.config_file, {
            "experiment": experiment,
            "config": config.to_dict(),
            "data": dataset.description,
            "data_source": data,
            "class_names": list(dataset.class_names),
            "device": device,
            "strategy": strategy,
            "replicas": replicas,
            "versions": package_versions(),
            "command": " ".join(sys.argv),
            "started_at": now(),
        })
    reference = spec.reference_arrays(config, dataset)
    if chief and reference is not None and not run.reference_file.exists():
        import numpy as np

        with atomic_path(run.reference_file, suffix=".npz") as tmp:
            np.savez_compressed(tmp, **reference)
    if start_epoch >= config.epochs:
        print(f"{run.path}: all {config.epochs} epochs already done", flush=True)
        if chief:
            _finish(spec, model, run, config.epochs)
        return run

    train_split = dataset.train.take(config.train_examples)
    steps = data_lib.steps_per_epoch(len(train_split), config.batch_size)
    train_ds = data_lib.training_dataset(
        train_split, config.batch_size, seed=config.seed, value_range=spec.value_range,
        start_epoch=start_epoch, epochs=config.epochs, with_labels=spec.uses_labels)
    validation = None
    if spec.validates and dataset.test is not None:
        validation = data_lib.evaluation_dataset(
            dataset.test.take(config.eval_examples), config.batch_size,
            value_range=spec.value_range, with_labels=spec.uses_labels)

    tracker = spec.tracker(config, dataset, data) if chief else None
    epoch_end = EpochEnd(run, built.optimizers, spec.snapshot_fn(config, dataset), start_epoch,
                         is_chief=chief, tracker=tracker, num_classes=dataset.num_classes)
    all_callbacks = [epoch_end]
    if chief:
        all_callbacks.append(keras.callbacks.TensorBoard(
            log_dir=str(run.tensorboard_dir), write_graph=False, profile_batch=0))
    if spec.log_keys:
        # An explicit progress bar placed before the log line, so the line follows the bar.
        all_callbacks += [keras.callbacks.ProgbarLogger(),
                          ReportLogLine(config.epochs, spec.log_keys,
                                        follow=lambda: epoch_end.epoch_lines)]
    all_callbacks += spec.callbacks(config) + list(callbacks)
    if chief:
        run.set_status("running", start_epoch)
    started = time.perf_counter()
    try:
        model.fit(train_ds, epochs=config.epochs, initial_epoch=start_epoch,
                  steps_per_epoch=steps, validation_data=validation, callbacks=all_callbacks,
                  verbose=verbose, shuffle=False)
    except KeyboardInterrupt:
        if chief:
            run.set_status("interrupted", epoch_end.epochs_done)
        raise TrainingError(
            f"interrupted after {epoch_end.epochs_done} finished epochs; continue with --resume "
            f"--run-dir {run.path}") from None
    if epoch_end.failure is not None:
        if chief:
            run.set_status(f"failed: {epoch_end.failure}", epoch_end.epochs_done)
        raise TrainingError(
            f"training diverged ({epoch_end.failure}); the checkpoint after epoch "
            f"{epoch_end.epochs_done} is kept in {run.path} - lower the learning rate or "
            "change --seed")
    print(f"trained {epoch_end.epochs_done - start_epoch} epochs in "
          f"{time.perf_counter() - started:.0f} s", flush=True)
    if chief:
        _finish(spec, model, run, epoch_end.epochs_done)
    return run


def _finish(spec, model, run: RunDir, epochs_done: int) -> None:
    paths = spec.save_final(model, run.model_dir)
    run.set_status("finished", epochs_done, models=[str(Path(p).name) for p in paths])
    print("saved " + ", ".join(str(p) for p in paths), flush=True)
