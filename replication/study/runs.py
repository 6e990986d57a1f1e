"""The studies' runs: where each lives (``<runs>/<experiment>/study/<variant>-s<seed>``),
training them one after another, finding them on disk, promoting one to the profile's run and
recording their text files in the repository (:data:`RECORDS`)."""

from __future__ import annotations

import shutil
from pathlib import Path

from replication.config import ConfigError
from replication.experiments import changed_from_profile
from replication.runs import RunDir, atomic_path, default_run_dir, now, read_json, write_json
from replication.study.variants import Variant, chosen, variants_of
from replication.train import train

FIGURES_DIR = "figures/studies"  # the studies' figures
RECORDS = Path(FIGURES_DIR) / "records"  # the study runs' text files, committed


def run_dir(experiment: str, variant: str, seed: int, root="runs", profile="report") -> Path:
    """``<root>/<experiment>/study/<variant>-s<seed>``; another profile than the report's (a
    smoke try of the machinery) goes to ``study-<profile>`` so it never mixes with the study."""
    folder = "study" if profile == "report" else f"study-{profile}"
    return Path(root) / experiment / folder / f"{variant}-s{seed}"


def run(experiment: str, variants: list[Variant], seeds, root="runs", quiet=True,
        stop_after: int | None = None, profile: str = "report") -> None:
    """Train the study's runs one after another.  ``stop_after`` pauses each run after that
    epoch (a screening pass: every variant to a third of the schedule first); the same call
    without it later continues them to the end of the schedule."""
    for seed in seeds:
        for variant in variants:
            path = run_dir(experiment, variant.name, seed, root, profile)
            state = RunDir(path).info().get("state") if (path / "config.json").exists() else None
            if state == "finished":
                print(f"study: {path} is finished", flush=True)
                continue
            print(f"study: training {path} ({variant.describe()}, seed {seed})", flush=True)
            train(experiment, profile, run_dir=path, resume=state is not None,
                  verbose=2 if quiet else 1, seed=seed, precision="auto", stop_after=stop_after,
                  **variant.settings)


def study_runs(experiment: str, root="runs", profile="report",
               variants=None) -> list[tuple[Variant, int, RunDir]]:
    """Every run of the study present on disk (any seed, not only the default ones), in the
    study's order: variant by variant, seed by seed; only the ``variants`` named, if given."""
    out = []
    for variant in variants_of(experiment):
        if variants is not None and variant.name not in variants:
            continue
        folder = run_dir(experiment, variant.name, 0, root, profile).parent
        found = []
        for path in folder.glob(f"{variant.name}-s*"):
            seed = path.name[len(variant.name) + 2:]
            if seed.isascii() and seed.isdigit() and (path / "history.csv").exists():
                found.append((int(seed), path))
        out += [(variant, seed, RunDir(path)) for seed, path in sorted(found)]
    return out


def promote(experiment: str, variant: str, seed: int, root="runs", profile="report") -> Path:
    """Copy the finished study run ``<variant>-s<seed>`` to ``<root>/<experiment>/<profile>``
    (a copy, the study keeps its run), recording ``promoted_from`` in its ``config.json``.

    Refused with a ConfigError, nothing written: an unfinished source, a target that exists
    (never overwritten), or a run whose settings are not the profile's current ones (the same
    test as reproduce_all's, which would refuse to draw from it)."""
    chosen(experiment, variant)  # an unknown variant: one clear error
    source = RunDir(run_dir(experiment, variant, seed, root, profile))
    if not source.config_file.exists():
        raise ConfigError(f"{source.path} does not exist: train it first "
                          f"(python scripts/study.py run {experiment} --variants {variant} "
                          f"--seeds {seed})")
    info = source.info()
    if info.get("state") != "finished":
        raise ConfigError(f"{source.path} is not finished ({info.get('state')}, epoch "
                          f"{info.get('epochs_done')} of {info['config']['epochs']}); "
                          "finish it first")
    listed = changed_from_profile(info["config"], experiment, profile, "the profile's:")
    if listed:
        raise ConfigError(f"{source.path} differs from the {profile} profile's current settings "
                          f"in {listed}; only a run at the profile's settings can stand for it "
                          "(make the variant the default first, or keep it a study run)")
    target = default_run_dir(experiment, profile, root)
    if target.exists():
        raise ConfigError(f"{target} already exists; move it away first (it is never "
                          "overwritten)")
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    shutil.copytree(source.path, partial)
    config = read_json(partial / "config.json")
    config["promoted_from"] = {"run": str(source.path), "variant": variant, "seed": seed,
                               "at": now()}
    write_json(partial / "config.json", config)
    partial.rename(target)
    return target


RECORD_FILES = ("config.json", "status.json", "history.csv", "metrics.json")


def record(experiment: str, root="runs", out=FIGURES_DIR, profile="report",
           variants=None, seeds=None) -> list[Path]:
    """Copy every study run's :data:`RECORD_FILES` (those it has) to
    ``<out>/records/<experiment>/study/<run>/``, the layout of a runs root, so the records read
    as runs with ``--runs <out>/records``; only the runs of ``variants`` (names) and ``seeds``
    where given.  A record is replaced whole (files of an older copy that the run no longer
    has are removed), each file written atomically."""
    runs = [(variant, seed, run) for variant, seed, run in study_runs(experiment, root, profile)
            if (variants is None or variant.name in variants)
            and (seeds is None or seed in seeds)]
    if not runs:
        named = ", ".join(filter(None, (
            variants and f"variants {','.join(variants)}",
            seeds is not None and f"seeds {','.join(map(str, seeds))}")))
        raise ConfigError(f"no study runs of {experiment}{f' ({named})' if named else ''} "
                          f"under {run_dir(experiment, '', 0, root, profile).parent}")
    written = []
    for variant, seed, run in runs:
        target = run_dir(experiment, variant.name, seed, Path(out) / "records", profile)
        target.mkdir(parents=True, exist_ok=True)
        for name in RECORD_FILES:
            source, copy = run.path / name, target / name
            if source.exists():
                with atomic_path(copy) as tmp:
                    Path(tmp).write_bytes(source.read_bytes())
            elif copy.exists():
                copy.unlink()
        written.append(target)
    return written
