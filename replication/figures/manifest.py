"""Drawing an experiment's figures into a folder, and ``manifest.json``: where each file came
from (run, profile, epochs, data, device, precision, seed, versions, dates)."""

from __future__ import annotations

from pathlib import Path

from replication.cli import Parser
from replication.errors import run_command
from replication.figures.core import FIGURES, Context, FigureError, FigureSpec
from replication.runs import RunDir, default_run_dir, now, read_json, remove_partial_files, write_json

REPORT_FOLDER = Path("figures")  # the report profile's figures, committed


def figures_of(experiment: str) -> list[FigureSpec]:
    return [spec for spec in FIGURES.values() if spec.experiment == experiment]


def figures_folder(profile: str, run_dir=None, runs_root="runs") -> Path:
    """Where a profile's figures go by default.  ``figures/`` is the report profile's alone (the
    committed figures a user compares with the report); ``quick`` and ``paper`` draw into
    ``figures/<profile>/`` with their own gallery; ``smoke`` (tests, seconds) into the run
    directory, or into ``<runs>/figures-smoke`` for a whole reproduce - both git-ignored."""
    if profile == "report":
        return REPORT_FOLDER
    if profile == "smoke":
        return Path(run_dir) / "figures" if run_dir is not None else \
            Path(runs_root) / "figures-smoke"
    return REPORT_FOLDER / profile


def _refuse_mixing(out: Path, profile: str) -> None:
    """A folder holds one profile's figures: drawing a short run over report-profile figures
    would silently replace what a user compares with the report."""
    path = out / "manifest.json"
    if profile == "report" or not path.exists():
        return
    try:
        files = read_json(path).get("files", {})
    except ValueError:
        return
    if any(entry.get("profile") == "report" for entry in files.values()):
        raise FigureError(f"{out} holds the report profile's figures; a {profile}-profile run "
                          f"draws into {figures_folder(profile)} by default (or choose another "
                          "--out)")


def draw_experiment(experiment: str, run_dir=None, out=None, only=None) -> list[Path]:
    """Draw the figures of ``experiment`` from ``run_dir`` into ``out`` (default: the run's
    profile's folder, :func:`figures_folder`); update the manifest."""
    specs = figures_of(experiment)
    if only:
        unknown = sorted(set(only) - {s.id for s in specs})
        if unknown:
            raise FigureError(f"{experiment} has no figure {', '.join(unknown)}; it has "
                              f"{', '.join(s.id for s in specs)}")
        specs = [s for s in specs if s.id in only]
    run = RunDir(run_dir if run_dir is not None else default_run_dir(experiment, "quick"))
    if not run.path.exists():
        raise FigureError(f"run directory {run.path} does not exist; train first with "
                          f"`python -m replication train {experiment} --run-dir {run.path}`")
    ctx = Context(run)
    if ctx.info.get("experiment") != experiment:
        raise FigureError(f"{run.path} holds a {ctx.info.get('experiment')} run, not {experiment}")
    profile = ctx.config.get("profile", "")
    out = Path(out) if out is not None else figures_folder(profile, run.path)
    _refuse_mixing(out, profile)
    return draw_figures(ctx, specs, out)


def draw_figures(ctx: Context, specs, out: Path) -> list[Path]:
    """Draw ``specs`` from ``ctx`` into ``out`` and record them in its manifest."""
    remove_partial_files(out)  # left by a drawing process that was killed
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FigureError(f"cannot create the output folder {out} ({exc.strerror})") from None
    written = []
    entries = {}
    for spec in specs:
        path = out / spec.filename
        ctx.shown = set()
        try:
            extra = spec.draw(ctx, path) or []  # a figure may also write companion files
        except OSError as exc:
            raise FigureError(f"cannot write {path} ({exc.strerror or exc}); nothing half-written "
                              "was left behind") from None
        for file in [path, *extra]:
            print(f"wrote {file}", flush=True)
            written.append(file)
            entries[file.name] = manifest_entry(spec, ctx)
    update_manifest(out, entries)
    return written


def manifest_entry(spec: FigureSpec, ctx: Context) -> dict:
    info = ctx.info
    return {
        "id": spec.id,
        "caption": spec.caption,
        "experiment": spec.experiment,
        "run": str(ctx.run.path),
        "profile": ctx.config.get("profile"),
        "epochs_run": ctx.last_epoch,
        "epochs_planned": ctx.total_epochs,
        "epochs_shown": sorted(ctx.shown),  # the snapshots it was drawn from (none: the model)
        "run_state": info.get("state"),
        "data": info.get("data"),
        "device": info.get("device"),
        "seed": ctx.config.get("seed"),
        "precision": ctx.config.get("precision"),
        "versions": info.get("versions"),
        "run_started_at": info.get("started_at"),
        "run_command": info.get("command"),
        **({"promoted_from": info["promoted_from"]["run"]} if info.get("promoted_from") else {}),
        "drawn_at": now(),
    }


def update_manifest(out: Path, entries: dict) -> None:
    path = Path(out) / "manifest.json"
    manifest = {"files": {}}
    if path.exists():
        try:
            manifest = read_json(path)
        except ValueError:
            print(f"warning: {path} was unreadable and is rebuilt", flush=True)
    manifest.setdefault("files", {}).update(entries)
    manifest["files"] = {k: manifest["files"][k] for k in sorted(
        manifest["files"], key=lambda name: _order(name))}
    write_json(path, manifest)


def _order(filename: str) -> tuple:
    """Sort key: the report's order of figure ids, each companion file (table1.png,
    fig11_ema.png) right after its figure."""
    for i, spec in enumerate(FIGURES.values()):
        if spec.filename == filename:
            return (i, 0, filename)
    stem = Path(filename).stem
    for i, spec in enumerate(FIGURES.values()):
        own = Path(spec.filename).stem
        if stem == own or stem.startswith(own + "_"):
            return (i, 1, filename)
    return (len(FIGURES), 0, filename)


def script_main(figure_id: str, argv=None) -> int:
    """Entry point of the thin per-figure scripts in ``scripts/``: draw one figure (bad flags
    and every :class:`~replication.errors.ReplicationError` as one line, exit code 2)."""
    spec = FIGURES[figure_id]
    parser = Parser(description=f"{spec.id}: {spec.caption}")
    parser.add_argument("--run-dir", help=f"run directory (default: runs/{spec.experiment}/quick)")
    parser.add_argument("--out", help="output folder (default: figures/ for a report-profile "
                                      "run, figures/<profile>/ for quick and paper, the run "
                                      "directory for smoke)")
    args = parser.parse_args(argv)

    def draw() -> None:
        draw_experiment(spec.experiment, args.run_dir, args.out, only=[figure_id])

    return run_command(draw)

