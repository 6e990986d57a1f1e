"""``python -m replication sample EXPERIMENT``: a grid of new samples from a trained model.

From a shipped run of the experiment (``pretrained/<experiment>/``, the report's recipe, by
default: what the report trained; another shipped run by its name, ``--run matching`` for
``pretrained/cgan_matching``) or any run directory: the GANs draw N(0, I) noise (and, for the conditional models, class labels: one
class with ``--class`` or every class in turn); the VAEs decode draws of z ~ N(0, I).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from replication import experiments, load_model
from replication.cli import non_negative_int, positive_int
from replication.data import IMAGE_SHAPES
from replication.errors import ReplicationError, refuse_unless_it_fits, run_command
from replication.runs import (RunDir, atomic_path,
                              provenance_line, shipped_run)

class SampleError(ReplicationError):
    """Bad input to ``sample`` (a class the run does not have, a run without that model)."""


def resolve_class(value: str | None, class_names: list[str], experiment: str,
                  conditional: bool) -> int | None:
    """``--class`` as a class index: a name as the dataset spells it (``cat``) or an index."""
    if value is None:
        return None
    if not conditional:
        raise SampleError(f"{experiment} is unconditional: it takes no --class")
    names = list(class_names) or [str(i) for i in range(10)]
    lowered = [n.lower() for n in names]
    if value.lower() in lowered:
        return lowered.index(value.lower())
    if value.isdigit() and int(value) < len(names):
        return int(value)
    raise SampleError(f"{experiment} has no class {value!r}; its classes are "
                      f"{', '.join(names)} (or 0-{len(names) - 1})")


def model_file(run: RunDir, experiment: str, generator: str) -> Path:
    """The final model of ``run`` that ``--generator`` names, or one clear error."""
    files = experiments.get(experiment).model_files()
    if generator not in files:
        raise SampleError(f"{experiment} has no {generator} model; --generator applies to "
                          "the experiments with an averaged model (the GANs)")
    path = run.model_dir / files[generator]
    if not path.exists():
        what = "averaged generator (the run did not average: --ema-half-life 0)" \
            if generator == "averaged" else "final model (is the run finished?)"
        raise SampleError(f"{run.path} has no {what}: {path.name} is missing")
    return path


def sample(experiment: str, *, run_dir=None, name: str | None = None,
           klass: str | None = None, n: int = 64, seed: int = 0, generator: str = "trained", out=None, npz=None) -> Path:
    """Draw ``n`` samples from ``run_dir`` (default: the shipped run ``name``, by default the
    report's recipe, :func:`replication.runs.shipped_run`) and write
    the grid ``out`` (and the arrays ``npz``); return ``out``."""
    spec = experiments.get(experiment)
    run = RunDir(run_dir) if run_dir is not None else shipped_run(experiment, name=name)
    if run_dir is None and name is None and run.path.name != experiment:
        print(f"note: the report recipe's {experiment} run does not ship; sampling from "
              f"{run.path}, a named variant of it (docs/recipe.md)", flush=True)
    try:
        info = run.info()
    except FileNotFoundError as exc:
        raise SampleError(str(exc)) from None
    if info.get("experiment") != experiment:
        raise SampleError(f"{run.path} holds a {info.get('experiment')} run, not {experiment}")
    names = list(info.get("class_names") or [])
    index = resolve_class(klass, names, experiment, spec.conditional)
    shape = IMAGE_SHAPES.get(info["config"].get("dataset"), (32, 32, 3))
    # the model's float32 output and the uint8 images, and the grid's pixels at 120 dpi
    refuse_unless_it_fits(f"--n {n}", n * (9 * int(np.prod(shape)) + 8 * 54 * 54))
    model = load_model(model_file(run, experiment, generator), compile=False)
    cols, rows = int(np.ceil(np.sqrt(n))), None
    if spec.conditional and index is None:  # one row per class
        classes = len(names) or 10
        cols = max(1, round(n / classes))
        n, rows = cols * classes, names or [str(c) for c in range(classes)]
    images, labels = spec.draw(model, info, n, seed=seed, klass=index)
    out = Path(out) if out is not None else default_output(experiment, info, index, generator)
    _write_grid(images, out, cols, rows, _title(spec, info, index, generator, n, seed),
                _footer(run, info))
    if npz is not None:
        with atomic_path(npz, suffix=".npz") as tmp:
            np.savez_compressed(tmp, images=images,
                                **({"labels": labels} if labels is not None else {}))
        print(f"wrote {npz}", flush=True)
    print(f"wrote {out}", flush=True)
    return out


def _class_name(info: dict, index: int) -> str:
    names = info.get("class_names") or []
    return names[index] if index < len(names) else str(index)


def default_output(experiment: str, info: dict, index: int | None, generator: str) -> Path:
    parts = [experiment]
    if index is not None:
        parts.append(_class_name(info, index))
    if generator != "trained":
        parts.append(generator)
    return Path("runs") / "samples" / ("-".join(parts) + ".png")


def _title(spec, info, index, generator, n, seed) -> str:
    what = spec.title
    if index is not None:
        what += f", class {_class_name(info, index)}"
    elif spec.conditional:
        what += ", one row per class"
    if "averaged" in spec.model_files():
        what += f", {generator} generator"
    return f"{n} new samples: {what} (sampling seed {seed})"


def _footer(run: RunDir, info: dict) -> str:
    return f"{provenance_line(info)}\nfrom {run.path}"


def _write_grid(images: np.ndarray, out: Path, cols: int, rows, title: str, footer: str) -> None:
    from replication import plots

    fig = plots.image_grid_figure(images, cols, title=title, row_labels=rows,
                                  size_per_image=0.6)
    try:
        plots.save_figure(fig, out, footer=footer)
    except OSError as exc:
        raise SampleError(f"cannot write {out} ({exc.strerror or exc})") from None


# --------------------------------------------------------------------------------------------
# The verb: python -m replication sample

HELP = "draw a grid of new samples from a trained model (the shipped run by default)"
DESCRIPTION = ("Draw new samples from the shipped run of EXPERIMENT (pretrained/<experiment>/) or "
               "from any run directory: the GANs from N(0, I) noise (the conditional ones for "
               "one class, or one row per class), the VAEs by decoding z ~ N(0, I). Seconds on "
               "a CPU.")


def add_arguments(parser) -> None:
    parser.add_argument("experiment", choices=experiments.names())
    parser.add_argument("--class", dest="klass", metavar="NAME|INDEX",
                        help="cgan/acgan: the class, as the dataset names it (cat) or its index "
                             "(default: one row per class)")
    parser.add_argument("--n", type=positive_int, default=64, metavar="N",
                        help="how many samples (default %(default)s)")
    parser.add_argument("--seed", type=non_negative_int, default=0, metavar="S",
                        help="noise seed (default %(default)s)")
    parser.add_argument("--generator", choices=("trained", "averaged"), default="trained",
                        help="GANs: the trained generator (default; what the report shows) or "
                             "the averaged one (EMA)")
    parser.add_argument("--run", metavar="NAME",
                        help="which shipped run: 'report' (pretrained/<experiment>, the "
                             "report's recipe at its schedule, the default: what the report "
                             "trained) or a named one (pretrained/<experiment>_NAME, e.g. "
                             "'matching' for cgan, 'paper-real-cls' for acgan; "
                             "docs/recipe.md)")
    parser.add_argument("--run-dir", metavar="DIR",
                        help="run directory to sample from instead of a shipped run")
    parser.add_argument("--out", metavar="FILE.png",
                        help="the grid (default: runs/samples/<experiment>[-<class>].png)")
    parser.add_argument("--npz", metavar="FILE",
                        help="also write the images (uint8) and labels as .npz")


def run_cli(args, parser) -> int:

    def run() -> None:
        sample(args.experiment, run_dir=args.run_dir, name=args.run, klass=args.klass,
               n=args.n, seed=args.seed, generator=args.generator, out=args.out, npz=args.npz)

    return run_command(run)
