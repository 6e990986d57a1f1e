"""Run directories and provenance: where a run's files live and how each was made.

A run directory ``runs/<experiment>/<name>/`` holds::

    config.json          experiment config + provenance (profile, data, device, seed, versions)
    history.csv          one row per finished epoch (all metrics, wall time)
    snapshots/epoch_NNN.npz   the arrays every figure is drawn from, after epoch NNN (1-based)
    checkpoint/state.npz      weights, optimizer state, RNG state and epoch of the last epoch
    model/*.keras        the final model(s)
    status.json          "running" / "finished" / "failed: ..." with epochs done
    real_examples.npz    real images some figures show (conditional GANs: ten per class)
    tensorboard/         scalars and the per-epoch sample grid (tensorboard --logdir runs)

Every file is written to a temporary name and renamed, so a killed run never leaves a
half-written file behind.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as _dt
import io
import json
import math
import os
import platform
import sys
import tempfile
import zipfile
import zlib
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from replication import __version__
from replication.config import is_full_schedule
from replication.errors import ReplicationError, damaged
from replication.levers import cpuinfo_fields


def default_run_dir(experiment: str, profile: str, root="runs") -> Path:
    """``<root>/<experiment>/<profile>``: where a profile's run lives (and reproduce_all looks)."""
    return Path(root) / experiment / profile


PARTIAL_MARK = ".partial-"  # in the name of every temporary file atomic_path makes


def remove_partial_files(directory, recursive: bool = False) -> int:
    """Delete temporary files a killed process left behind in ``directory`` (only names made
    by :func:`atomic_path`); return how many.  Finished files are never touched."""
    directory = Path(directory)
    if not directory.is_dir():
        return 0
    pattern = f".*{PARTIAL_MARK}*"
    found = directory.rglob(pattern) if recursive else directory.glob(pattern)
    removed = 0
    for path in found:
        if path.is_file():
            path.unlink(missing_ok=True)
            removed += 1
    return removed


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None):
    """Yield a temporary path beside ``path``; rename it onto ``path`` if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = suffix if suffix is not None else "".join(path.suffixes) or ".tmp"
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}{PARTIAL_MARK}", suffix=suffix,
                               dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600 files; give the usual permissions
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_json(path, data: Any) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


def report_log_line(epoch: int, total: int, logs: dict, keys) -> str:
    """The report's per-epoch log line, ``epoch = 1/60, d_loss=0.479, g_loss=2.511``, from a
    row of a run's history (or fit()'s logs)."""
    parts = [f"{k}={float(logs[k]):.3f}" for k in keys if k in logs]
    return f"epoch = {epoch}/{total}, " + ", ".join(parts)


def read_json(path) -> Any:
    """A JSON file of a run; a damaged one raises :class:`DamagedFileError` (a missing one
    ``FileNotFoundError``, which callers check for)."""
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise damaged(path, f"not valid JSON: {exc}", _RESTORE) from None


_RESTORE = ("restore it from where it came from (git checkout -- FILE for a shipped run) or "
            "retrain the run")


def read_npz(path, todo: str = _RESTORE) -> dict:
    """Every array of an ``.npz`` file (checkpoints, snapshots, reference arrays), read whole;
    a truncated or corrupt file raises :class:`DamagedFileError`."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}
    except FileNotFoundError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, KeyError) as exc:
        problem = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else \
            type(exc).__name__
        raise damaged(path, f"not a complete .npz archive: {problem}", todo) from None


# The widest matrix instructions a CPU has, best first: what decides the training's speed and
# whether bf16 is native (a virtual CPU's model name alone, "AMD EPYC", does not tell).
CPU_FEATURES = ("amx_bf16", "avx512_bf16", "avx512f", "avx2")


def cpu_model(cpuinfo: str | None = None) -> str:
    """The CPU's model name, with its family/model numbers and widest matrix instructions
    where /proc/cpuinfo gives them: ``AMD EPYC (family 23, model 1, avx2)``."""
    fields = cpuinfo_fields(cpuinfo)
    if fields is None:
        return platform.processor() or platform.machine()
    name = fields.get("model name") or platform.processor() or platform.machine()
    flags = set(fields.get("flags", "").split())
    details = [f"family {fields['cpu family']}, model {fields['model']}"] \
        if "cpu family" in fields and "model" in fields else []
    details += [next((f for f in CPU_FEATURES if f in flags), "")] if flags else []
    details = [d for d in details if d]
    return f"{name} ({', '.join(details)})" if details else name


def device_description() -> str:
    """'GPU: <names>' when TensorFlow sees GPUs, else 'CPU: <model>, N cores'."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        names = []
        for gpu in gpus:
            details = tf.config.experimental.get_device_details(gpu)
            names.append(details.get("device_name", gpu.name))
        return f"GPU: {len(gpus)} x {names[0]}"
    return f"CPU: {cpu_model()}, {os.cpu_count()} cores"


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in ("tensorflow", "keras", "numpy", "tensorflow-datasets", "efficientnet",
                 "matplotlib", "imageio"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    versions["replication"] = __version__
    return versions


def command_line(argv=None) -> str:
    """The command that is running, as a user would type it (``python -m replication ...``,
    ``python scripts/x.py ...``)."""
    argv = list(sys.argv if argv is None else argv)
    first = Path(argv[0]) if argv else Path("python")
    if first.name == "__main__.py" and first.parent.name == "replication":
        head = "python -m replication"
    elif first.suffix == ".py":
        head = f"python {first.parent.name + '/' if first.parent.name == 'scripts' else ''}{first.name}"
    else:
        head = first.name
    return " ".join([head, *argv[1:]])


def now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()


def provenance_line(info: dict) -> str:
    """One line saying how an artefact was made, for figure footers."""
    config = info.get("config", {})
    epochs = info.get("epochs_done", "?")
    total = config.get("epochs", "?")
    profile = config.get("profile", "?")
    schedule = f"the {profile}'s schedule" if is_full_schedule(profile) else \
        "SHORT RUN, not the report's schedule"
    date = str(info.get("finished_at") or info.get("started_at", ""))[:10]
    return (f"{info.get('experiment', '?')} | profile {profile} ({schedule}) | "
            f"{epochs}/{total} epochs | seed {config.get('seed', '?')} | "
            f"{config.get('precision', '?')} | {date}\n"
            f"{info.get('data', '?')} | {info.get('device', '?')}")


# The final models of a GAN run in ``model/``: the trained generator (what the report shows),
# the discriminator, and the averaged generator (EMA) when the run averaged.
GENERATOR_FILE = "generator.keras"
DISCRIMINATOR_FILE = "discriminator.keras"
AVERAGED_GENERATOR_FILE = "generator_ema.keras"
CLASSIFIER_FILE = "classifier.keras"  # the evaluation classifier's run, and its shipped copy


# A shipped run (replication.shipping) stores the image arrays that only GIF frames read as
# JPEG (quality 95, no chroma subsampling): key + FRAME_SUFFIX holds the bytes, key +
# SHAPE_SUFFIX the array's shape; load_snapshot gives the arrays back.
FRAME_SUFFIX = "__jpeg"
SHAPE_SUFFIX = "__shape"
FRAME_QUALITY = 95


def _history_row(row: dict) -> dict[str, float]:
    """One epoch of history.csv as numbers; an empty cell (a column added after that epoch, e.g.
    quality tracking switched on at a resume) reads as NaN."""
    if None in row:  # more cells than the header names
        raise ValueError(f"epoch row {row.get('epoch', '?')} has more cells than the header")
    return {k: float(v) if v not in ("", None) else float("nan") for k, v in row.items()}


def decode_frames(data, shape, path="the snapshot"):
    """The images of a shipped snapshot's JPEG grid (see :mod:`replication.shipping`); a grid
    that is not a readable image of that shape raises :class:`DamagedFileError`."""
    from PIL import Image, UnidentifiedImageError

    n, h, w, c = (int(v) for v in shape)
    try:
        grid = np.asarray(Image.open(io.BytesIO(data.tobytes())))
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise damaged(path, f"its image grid is unreadable: {exc}"[:200], _RESTORE) from None
    grid = grid.reshape(grid.shape[0], grid.shape[1], -1)[..., :c]
    cols = grid.shape[1] // w
    rows = grid.shape[0] // h
    if rows * cols < n or grid.shape[2] < c:
        raise damaged(path, f"its image grid holds {rows * cols} of {n} images", _RESTORE)
    images = grid[:rows * h, :cols * w].reshape(rows, h, cols, w, c).transpose(
        0, 2, 1, 3, 4).reshape(-1, h, w, c)
    return np.ascontiguousarray(images[:n])


# The columns of history.csv that together are an epoch's wall time: its training steps (and
# validation), its quality tracking, and its own other work (snapshot, checkpoint, files; runs
# saved before that column existed lack it).
EPOCH_TIME_COLUMNS = ("seconds", "track_seconds", "overhead_seconds")


class RunDir:
    """Paths and metadata of one run directory."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    # paths
    @property
    def config_file(self) -> Path:
        return self.path / "config.json"

    @property
    def history_file(self) -> Path:
        return self.path / "history.csv"

    @property
    def status_file(self) -> Path:
        return self.path / "status.json"

    @property
    def checkpoint_file(self) -> Path:
        return self.path / "checkpoint" / "state.npz"

    @property
    def previous_checkpoint_file(self) -> Path:
        """The checkpoint of the epoch before the last (kept so that a damaged last one can
        be resumed from it)."""
        return self.path / "checkpoint" / "state.previous.npz"

    @property
    def tensorboard_dir(self) -> Path:
        return self.path / "tensorboard"

    @property
    def reference_file(self) -> Path:
        return self.path / "real_examples.npz"

    @property
    def model_dir(self) -> Path:
        return self.path / "model"

    @property
    def snapshot_dir(self) -> Path:
        return self.path / "snapshots"

    def snapshot_file(self, epoch: int) -> Path:
        return self.snapshot_dir / f"epoch_{epoch:03d}.npz"

    def snapshot_epochs(self) -> list[int]:
        if not self.snapshot_dir.exists():
            return []
        return sorted(int(p.stem.split("_")[1]) for p in self.snapshot_dir.glob("epoch_*.npz"))

    def load_snapshot(self, epoch: int) -> dict:
        arrays = read_npz(self.snapshot_file(epoch))
        for key in [k for k in arrays if k.endswith(FRAME_SUFFIX)]:  # a shipped run's frames
            name = key[:-len(FRAME_SUFFIX)]
            arrays[name] = decode_frames(arrays.pop(key), arrays.pop(name + SHAPE_SUFFIX),
                                         self.snapshot_file(epoch))
        return arrays

    # metadata
    def info(self) -> dict:
        if not self.config_file.exists():
            raise FileNotFoundError(f"{self.path} is not a run directory (no config.json)")
        info = read_json(self.config_file)
        if self.status_file.exists():
            info.update(read_json(self.status_file))
        return info

    def history(self) -> list[dict[str, float]]:
        """``history.csv``, one dict per epoch (no file: none); a damaged file (text that is
        not numbers, a row longer than the header, not text at all) raises
        :class:`DamagedFileError` naming it."""
        if not self.history_file.exists():
            return []
        try:
            with open(self.history_file, newline="") as fh:
                return [_history_row(row) for row in csv.DictReader(fh)]
        except (ValueError, UnicodeDecodeError, csv.Error) as exc:
            raise damaged(self.history_file, f"not a history of numbers: {exc}"[:200],
                          _RESTORE) from None

    def training_seconds(self, history: list[dict] | None = None) -> float:
        """The run's training time: every epoch's steps, quality tracking and own work, summed
        from ``history.csv`` (or its rows, already read), so that a run resumed across
        sessions, or copied, counts only the time its epochs took, not the waits between them."""
        return float(sum(value for row in (self.history() if history is None else history)
                         for value in (row.get(key) for key in EPOCH_TIME_COLUMNS)
                         if value is not None and math.isfinite(value)))

    def set_status(self, state: str, epochs_done: int, **extra) -> None:
        data = {"state": state, "epochs_done": epochs_done, "updated_at": now()}
        if self.status_file.exists() and "warnings" not in extra:
            try:  # the collapse warnings stay whatever state follows
                kept = read_json(self.status_file).get("warnings")
            except (OSError, ValueError):
                kept = None
            if kept:
                data["warnings"] = kept
        if state == "finished":
            data["finished_at"] = data["updated_at"]
        data.update(extra)
        write_json(self.status_file, data)


# --------------------------------------------------------------------------------------------
# Shipped runs (pretrained/): the run directories that come with the project

PRETRAINED_DIR = Path(__file__).resolve().parent.parent / "pretrained"


class ShippingError(ReplicationError):
    """A run cannot be shipped, or a shipped run is missing."""


# The schedules a shipped run can have: the report's (``pretrained/<experiment>``, what the
# report's figures are drawn from) and the paper's (``pretrained/<experiment>_paper``).
SHIPPED_SCHEDULES = ("report", "paper")
# The name of the shipped run of the report's recipe at the report's schedule.
DEFAULT_SHIPPED = "report"


def shipped_name(experiment: str, profile: str | None = "report",
                 variant: str | None = None) -> str:
    """The folder under ``pretrained/`` of a shipped run of ``experiment`` trained at
    ``profile``: ``<experiment>`` for the report's recipe at the report's schedule (and the
    short profiles, which only tests ship), ``<experiment>_paper`` for the paper's schedule;
    a named ``variant`` (a recipe that departs from the profile's, docs/recipe.md) adds its
    name: ``cgan_matching``, ``acgan_paper-real-cls``."""
    parts = ([profile] if profile in SHIPPED_SCHEDULES[1:] else []) + ([variant] if variant else [])
    return f"{experiment}_{'-'.join(parts)}" if parts else experiment


def shipped_runs(experiment: str, root=None) -> dict[str, RunDir]:
    """Every shipped run of ``experiment``, by the name ``sample --run`` takes: ``report`` for
    ``pretrained/<experiment>``, the folder's suffix for the others (``paper-real-cls``)."""
    base = Path(root if root is not None else PRETRAINED_DIR)
    found = {}
    if (base / experiment / "config.json").exists():
        found[DEFAULT_SHIPPED] = RunDir(as_written(base / experiment))
    for path in sorted(base.glob(f"{experiment}_*")):
        if (path / "config.json").exists():
            found[path.name[len(experiment) + 1:]] = RunDir(as_written(path))
    return found


def shipped_run(experiment: str, root=None, name: str | None = None) -> RunDir:
    """The shipped run of ``experiment`` called ``name`` (:func:`shipped_runs`); by default the
    report's recipe at the report's schedule, or, where only named variants of it ship, the
    first of those (its folder's name says so).  A clear error naming the ones that ship when
    there is none."""
    runs = shipped_runs(experiment, root)
    if name is None:
        at_report = shipped_at(experiment, "report", root)
        if at_report:
            return at_report[0]
        name = DEFAULT_SHIPPED
    if name in runs:
        return runs[name]
    where = Path(root if root is not None else PRETRAINED_DIR)
    if not runs:
        raise ShippingError(f"no shipped {experiment} run in {where}; pass --run-dir with a run "
                            f"of your own (python -m replication train {experiment})")
    raise ShippingError(f"no shipped {experiment} run {name!r} in {where}; {experiment} ships "
                        f"{', '.join(runs)}; or pass --run-dir with a run of your own")


def shipped_at(experiment: str, profile: str, root=None) -> list[RunDir]:
    """The shipped runs of ``experiment`` trained at ``profile``: the faithful one (named after
    the schedule) first, then the named variants."""
    runs = shipped_runs(experiment, root)
    found = [run for name, run in runs.items()
             if read_json(run.config_file).get("config", {}).get("profile") == profile]
    return sorted(found, key=lambda run: run.path.name != shipped_name(experiment, profile))


def as_written(path: Path) -> Path:
    """``path`` relative to the working directory when it lies inside it (``pretrained/vae``
    from the project root), so that the manifest, the gallery and the figures' footers name the
    shipped run as a user would type it, not by this machine's absolute path."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return path
