"""Trained runs that ship with the project: ``pretrained/<experiment>/`` (a run at the
paper's schedule: ``pretrained/<experiment>_paper/``; a named variant, a recipe that departs
from its profile's: ``pretrained/<experiment>[_paper]-<variant>``, as
:func:`replication.runs.shipped_name` says).  A run that departs from its profile's settings
ships only under a variant name, so that no departure ships as the report's recipe
(docs/recipe.md).

A shipped run is a small run directory, readable by everything that reads runs (figures,
``evaluate.py``, ``python -m replication sample``, :func:`replication.load_model`):

* ``config.json`` (how the run was made; its ``command`` the ``train`` command that trains it
  again from a clean clone, :func:`reproduce_command`; plus a ``shipped`` block: from which
  run and by which command it was trained, its variant and departures, when it shipped, how
  the weights are stored and how far the stored generator's images are from the original's),
  ``status.json`` (listing the models that ship), ``README.md`` (its model card,
  :mod:`replication.cards`), ``history.csv``, ``metrics.json`` (``evaluate.py``'s numbers) and, for the
  conditional GAN, ``real_examples.npz``;
* ``model/``: the final model(s) a user samples from - the VAE, or the trained and the averaged
  generator (no discriminator, no optimizer state, no checkpoint) - as standard ``.keras``
  files whose weights are stored in float16 (half the bytes; Keras reads them back into the
  float32 variables the model was trained with);
* ``snapshots/``: every epoch's file with just the arrays the figures read (found by drawing
  them): losslessly where a still figure reads them (the first and last epoch, the class
  grids' epochs...), and what only GIF frames read lighter: images as JPEG (quality 95, no
  chroma subsampling: a mean error of about 3 levels of 255, of the order of what the GIF's
  256-colour palette changes anyway), float arrays (the latent scatter's points) as float16.

``python scripts/ship_runs.py RUN_DIR...`` writes them; ``python scripts/reproduce_all.py
--pretrained`` redraws every figure from them.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from replication import experiments, load_model
from replication.cards import write_card
from replication.cli import by_flag, script_main, settings_words, train_flags
from replication.errors import run_command
from replication.extractors import ship_classifier
from replication.runs import (FRAME_QUALITY, FRAME_SUFFIX,
                              PRETRAINED_DIR, SHAPE_SUFFIX, RunDir, ShippingError,
                              atomic_path, command_line, decode_frames, now, read_json,
                              shipped_name, write_json)

# What a command that trains a run again leaves to the profile (the run's identity).
_IDENTITY = ("experiment", "profile")

WEIGHTS_FILE = "model.weights.h5"  # inside a .keras archive
CONFIG_FILE = "config.json"  # inside a .keras archive
OPTIMIZER_GROUP = "optimizer"  # a compiled model's optimizer state in WEIGHTS_FILE


def model_files(experiment: str) -> tuple[str, ...]:
    """The final models a shipped run keeps: what a user samples from (the first one is
    required; the averaged generator ships when the run averaged)."""
    return tuple(experiments.get(experiment).model_files().values())


def store_float16(source: Path, target: Path) -> None:
    """Copy the ``.keras`` file ``source`` to ``target`` for inference: every float32 weight
    stored as float16, and a compiled model's optimizer left out - its state (Adam's two
    moments: twice the weights' size, as the VAE saves it) and its ``compile_config``, so that
    ``keras.saving.load_model`` reads the file as an uncompiled model, without warnings.  The
    layers' config and layout are unchanged."""
    import h5py

    with zipfile.ZipFile(source) as archive, atomic_path(target, suffix=".keras") as tmp:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as out:
            for item in archive.infolist():
                data = archive.read(item.filename)
                if item.filename == WEIGHTS_FILE:
                    data = _half_weights(h5py, data)
                elif item.filename == CONFIG_FILE:
                    config = json.loads(data)
                    config.pop("compile_config", None)
                    data = json.dumps(config).encode()
                out.writestr(item.filename, data)


def _half_weights(h5py, data: bytes) -> bytes:
    """The HDF5 weights file ``data`` rewritten with float32 datasets as float16, without its
    top-level ``optimizer`` group (a new file: HDF5 does not give back the space of replaced
    datasets)."""
    def copy(src, dst):
        for key, value in src.attrs.items():
            dst.attrs[key] = value
        for name, item in src.items():
            if src.name == "/" and name == OPTIMIZER_GROUP:
                continue
            if isinstance(item, h5py.Group):
                copy(item, dst.create_group(name))
                continue
            array = item[()]
            if isinstance(array, np.ndarray) and array.dtype == np.float32:
                array = array.astype(np.float16)
            made = dst.create_dataset(name, data=array)
            for key, value in item.attrs.items():
                made.attrs[key] = value

    with tempfile.TemporaryDirectory() as scratch:
        source, halved = Path(scratch) / "weights.h5", Path(scratch) / "half.h5"
        source.write_bytes(data)
        with h5py.File(source, "r") as src, h5py.File(halved, "w") as dst:
            copy(src, dst)
        return halved.read_bytes()


def figure_reads(run: RunDir, experiment: str) -> dict[int, dict[str, bool]]:
    """Which snapshot arrays the figures read: epoch -> {array: read by a still figure?},
    found by drawing every figure of the run into a scratch folder."""
    from replication.figures import Context, figures_of, schedule
    from replication.figures.manifest import draw_figures

    ctx = Context(run)
    with tempfile.TemporaryDirectory() as scratch, contextlib.redirect_stdout(io.StringIO()):
        draw_figures(ctx, figures_of(experiment), Path(scratch))
        if ctx.config.get("profile") == schedule.PROFILE and experiments.get(experiment).conditional:
            schedule.draw_schedule_figures(ctx, None, Path(scratch))  # the gallery's section
    return ctx.reads


def encode_frames(images):
    """``(N, H, W, C)`` uint8 images (C = 1 or 3) as one JPEG of their grid: ``(bytes, shape)``."""
    from PIL import Image

    from replication.plots import tile  # matplotlib: loaded only when shipping

    c = images.shape[-1]
    grid = tile(images, int(np.ceil(np.sqrt(len(images)))), pad=0, pad_value=0)
    buffer = io.BytesIO()
    Image.fromarray(grid[..., 0] if c == 1 else grid).save(
        buffer, "JPEG", quality=FRAME_QUALITY, subsampling=0, optimize=True)
    return np.frombuffer(buffer.getvalue(), np.uint8), np.asarray(images.shape)



def _thin_snapshots(run: RunDir, target: RunDir, experiment: str) -> dict:
    """Copy the snapshots with only the arrays the figures read: those a still figure reads
    losslessly, the images only GIF frames read as JPEG frames.  Returns what was done."""
    reads = figure_reads(run, experiment)
    target.snapshot_dir.mkdir(parents=True, exist_ok=True)
    errors, framed = [], 0
    for epoch in run.snapshot_epochs():
        wanted = reads.get(epoch, {})
        arrays = {k: v for k, v in run.load_snapshot(epoch).items() if k in wanted}
        for key in [k for k, v in arrays.items() if not wanted[k] and v.dtype == np.float32]:
            arrays[key] = arrays[key].astype(np.float16)  # frame data: points in a scatter
        for key in [k for k, v in arrays.items()
                    if not wanted[k] and v.dtype == np.uint8 and v.ndim == 4]:
            images = arrays.pop(key)
            data, shape = encode_frames(images)
            arrays[key + FRAME_SUFFIX], arrays[key + SHAPE_SUFFIX] = data, shape
            errors.append(np.abs(decode_frames(data, shape).astype(np.int16) -
                                 images.astype(np.int16)).mean())
            framed += 1
        with atomic_path(target.snapshot_file(epoch), suffix=".npz") as tmp:
            np.savez_compressed(tmp, **arrays)
    return {"kept": "the arrays the figures read: lossless where a still figure reads them",
            "lossless_epochs": sorted(e for e, keys in reads.items() if any(keys.values())),
            "gif_frames": f"{framed} image arrays read only by GIF frames, stored as JPEG "
                          f"quality {FRAME_QUALITY} without chroma subsampling (mean error "
                          f"{np.mean(errors) if errors else 0:.2f} of 255); float arrays "
                          "read only by GIF frames (the latent scatter's points) as float16"}


def pixel_difference(original: Path, shipped: Path, info: dict, n: int = 200) -> int:
    """Largest difference, in 8-bit pixel levels, between the images of the original and of the
    shipped model on the same ``n`` inputs (generators: noise and labels; VAEs: decoded prior
    draws)."""
    spec = experiments.get(info["experiment"])
    a, b = load_model(original, compile=False), load_model(shipped, compile=False)
    first, _ = spec.draw(a, info, n, seed=12345)
    second, _ = spec.draw(b, info, n, seed=12345)
    return int(np.abs(first.astype(np.int16) - second.astype(np.int16)).max())


def reproduce_command(config: dict) -> str:
    """The ``train`` command that trains the run whose ``config.json`` is ``config`` again from
    a clean clone: its profile, and every setting in which it differs from that profile's
    current defaults (its seed, the precision it trained at, a variant's departures, a setting
    whose default changed since)."""
    saved = experiments.config_from_dict(config["config"])
    default = experiments.make_config(saved.experiment, saved.profile).to_dict()
    changed = {k: v for k, v in saved.to_dict().items()
               if k not in _IDENTITY and v != default.get(k)}
    settable, unset = by_flag(changed)
    command = f"python -m replication train {saved.experiment} --profile {saved.profile}"
    command += f" {train_flags(settable)}" if settable else ""
    if unset:  # a test's data subset: said, so that the command does not claim it
        command += f"  # and, set by no flag: {settings_words(unset)}"
    return command


# Settings that are not the recipe: which draw of the randomness a run is, the instruments
# that watch it (the per-epoch quality tracking, the fixed-noise grid) and the data subsets of
# the short profiles (the full schedules use whole splits).
NOT_RECIPE = ("seed", "track_samples", "num_fixed_noise", "train_examples", "eval_examples")


def departures(config: dict) -> str | None:
    """How a run departs from its profile's recipe, as ``"setting value (profile value), ..."``
    (every setting but :data:`NOT_RECIPE`, the schedule's length and the speed levers, which
    change no result by design: :data:`replication.config.NOT_SETTINGS`), or None."""
    saved = experiments.config_from_dict(config["config"])
    changed = experiments.settings_changed(saved, experiments.make_config(saved.experiment,
                                                                          saved.profile))
    words = [f"{k} {old!r} (profile {new!r})" for k, (old, new) in sorted(changed.items())
             if k not in NOT_RECIPE]
    return ", ".join(words) or None


def _check_variant(run: RunDir, config: dict, variant: str | None) -> str | None:
    """The run's departures from its profile's recipe, once ``variant`` is right for them: a
    name where it departs, none where it does not (else one clear error)."""
    departs = departures(config)
    profile = config["config"].get("profile")
    if departs and not variant:
        raise ShippingError(f"{run.path} departs from the {profile} profile's recipe "
                            f"({departs}); ship it as a named variant: --variant NAME")
    if variant and not departs:
        raise ShippingError(f"{run.path} trains the {profile} profile's own recipe; ship it "
                            "without --variant")
    if variant is not None and (not variant or not all(c.isalnum() or c == "-" for c in variant)):
        raise ShippingError(f"a variant name is letters, digits and '-', got {variant!r}")
    return departs


def _finished(run_dir) -> tuple[RunDir, dict]:
    """The run in ``run_dir`` and its info, or one clear error: not a run, not finished."""
    run = RunDir(run_dir)
    try:
        info = run.info()
    except FileNotFoundError as exc:
        raise ShippingError(str(exc)) from None
    if info.get("state") != "finished":
        raise ShippingError(f"{run.path} is not finished ({info.get('state')}); only finished "
                            "runs ship")
    return run, info


def ship_run(run_dir, dest=None, root=None, variant: str | None = None) -> Path:
    """Copy the finished run ``run_dir`` into ``dest`` (default: ``pretrained/`` and the name
    :func:`replication.runs.shipped_name` gives) as a shipped run (see the module doc); return
    the folder.  A run that departs from its profile's settings ships only as a named
    ``variant``, and a ``variant`` must depart."""
    run, info = _finished(run_dir)
    experiment = info["experiment"]
    config = read_json(run.config_file)
    departs = _check_variant(run, config, variant)
    target = RunDir(Path(dest) if dest is not None else
                    Path(root if root is not None else PRETRAINED_DIR)
                    / shipped_name(experiment, info["config"].get("profile"), variant))
    if target.path.resolve() == run.path.resolve():
        raise ShippingError(f"{run.path} is already where it would be shipped")
    required, *optional = model_files(experiment)
    if not (run.model_dir / required).exists():
        raise ShippingError(f"{run.model_dir} has no {required}")
    models = [required] + [name for name in optional if (run.model_dir / name).exists()]
    staging = target.path.with_name(f".{target.path.name}.shipping")
    shutil.rmtree(staging, ignore_errors=True)
    staged = RunDir(staging)
    staging.mkdir(parents=True)
    try:
        for file in (run.history_file, run.reference_file, run.path / "metrics.json"):
            if file.exists():
                shutil.copy2(file, staging / file.name)
        write_json(staged.status_file, {**read_json(run.status_file), "models": models})
        snapshots = _thin_snapshots(run, staged, experiment)
        differences = {}
        for name in models:
            store_float16(run.model_dir / name, staged.model_dir / name)
            differences[name] = pixel_difference(run.model_dir / name, staged.model_dir / name,
                                                 info)
        config["shipped"] = {
            "from_run": str(run.path),
            "trained_by": config.get("command", ""),
            "variant": variant,
            "departures": departs,
            "shipped_at": now(),
            "command": command_line(),
            "weights": "float16 storage (float32 variables once loaded)",
            "max_pixel_difference": differences,
            "snapshots": snapshots,
            "left_out": experiments.get(experiment).left_out_when_shipped,
        }
        config["command"] = reproduce_command(config)
        write_json(staged.config_file, config)
        if target.path.exists():
            shutil.rmtree(target.path)
        staging.rename(target.path)
        write_card(target.path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target.path


def folder_bytes(path) -> int:
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())


HELP = ("copy finished runs into pretrained/ (or a classifier run into the package's "
        "classifiers)")
DESCRIPTION = ("Copy finished runs into pretrained/<experiment>/ (a paper-profile run into "
               "pretrained/<experiment>_paper/; a run that departs from its profile's recipe "
               "only as a named variant, --variant NAME: pretrained/<experiment>_NAME/; models with float16 weights, "
               "the snapshots the figures read, history, metrics, config); a finished "
               "classifier run becomes the package's evaluation classifier of its dataset "
               "(replication/assets/classifiers/<dataset>/).")


def main(argv=None) -> int:
    return script_main("python scripts/ship_runs.py", sys.modules[__name__], argv)


def add_arguments(parser) -> None:
    parser.add_argument("runs", nargs="+", metavar="RUN_DIR")
    parser.add_argument("--variant", metavar="NAME",
                        help="ship runs that depart from their profile's recipe under this "
                             "name (pretrained/<experiment>[_paper]-NAME; refused for a run "
                             "that trains its profile's own recipe)")
    parser.add_argument("--root", metavar="DIR",
                        help="where the shipped runs go (default: pretrained/ of the project; "
                             "a classifier: DIR/<dataset>/ instead of the package's folder)")


def run_cli(args, parser) -> int:
    def ship() -> None:
        for path in args.runs:
            if _experiment_of(path) == "classifier":
                dest = None
                if args.root:
                    dest = Path(args.root) / read_json(Path(path) / "config.json")[
                        "config"]["dataset"]
                print(f"shipped {ship_classifier(path, dest)}", flush=True)
                continue
            folder = ship_run(path, root=args.root, variant=args.variant)
            differences = read_json(Path(folder) / "config.json")["shipped"][
                "max_pixel_difference"]
            print(f"{path} -> {folder}: {folder_bytes(folder) / 2**20:.1f} MB; largest pixel "
                  f"difference of the float16 models: {differences}", flush=True)

    return run_command(ship)


def _experiment_of(path) -> str | None:
    config = Path(path) / "config.json"
    return read_json(config).get("experiment") if config.exists() else None
