"""The figure registry and what a figure function may read (:class:`Context`).

Each figure is registered by id with its file name, caption, the companion files it may
also write (``extras``) and the lines it adds to the gallery (``gallery``); which experiment
draws it comes from the experiment registry (:mod:`replication.experiments`).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from replication import plots
from replication.data import DATASET_TITLES
from replication.errors import ReplicationError
from replication.experiments import experiment_of_figure
from replication.runs import RunDir, provenance_line


class FigureError(ReplicationError):
    """A figure cannot be drawn from the given run directory; the message says why."""


@dataclass(frozen=True)
class FigureSpec:
    id: str
    filename: str
    caption: str          # the report's caption, in English
    draw: Callable        # draw(ctx, path) -> list of companion files written (or None)
    extras: tuple[str, ...] = ()   # companion files it may write beside ``filename``
    gallery: tuple[Callable, ...] = ()  # hook(out, spec, entry, run) -> extra gallery lines

    @property
    def experiment(self) -> str:
        return experiment_of_figure(self.id)


FIGURES: dict[str, FigureSpec] = {}


def figure(id: str, filename: str, caption: str, extras=(), gallery=()):
    """Register the decorated ``draw(ctx, path)`` as figure ``id``."""
    def register(fn):
        FIGURES[id] = FigureSpec(id, filename, caption, fn, tuple(extras), tuple(gallery))
        return fn
    return register


class Context:
    """What a figure function may read: the run directory, its info and its snapshots."""

    def __init__(self, run: RunDir):
        self.run = run
        try:
            self.info = run.info()
        except FileNotFoundError as exc:
            raise FigureError(str(exc)) from None
        self.config = self.info["config"]
        self.epochs = run.snapshot_epochs()
        if not self.epochs:
            raise FigureError(f"{run.path} has no snapshots yet: train at least one epoch first")
        self.history = run.history()
        self._cache: dict[int, dict] = {}
        # What the figures read: epoch -> {snapshot array: read by a still figure (True) or
        # only by GIF frames (False)}; a shipped run keeps just these (replication.shipping).
        self.reads: dict[int, dict[str, bool]] = {}
        # The epochs the figure being drawn reads (the manifest's ``epochs_shown``).
        self.shown: set[int] = set()
        self._drawing_frames = False

    @property
    def footer(self) -> str:
        line = provenance_line(self.info)
        if self.info.get("state") != "finished":
            line += f" | run {self.info.get('state', 'unfinished')}"
        return line

    @property
    def last_epoch(self) -> int:
        return self.epochs[-1]

    @property
    def total_epochs(self) -> int:
        return int(self.config["epochs"])

    def snapshot(self, epoch: int | None = None) -> dict:
        epoch = self.last_epoch if epoch is None else epoch
        if epoch not in self._cache:
            try:
                self._cache[epoch] = self.run.load_snapshot(epoch)
            except (OSError, ValueError) as exc:
                raise FigureError(f"snapshot of epoch {epoch} in {self.run.path} is unreadable "
                                  f"({exc}); retrain that run with --resume") from None
        self.shown.add(epoch)
        return _Reads(self._cache[epoch], self.reads.setdefault(epoch, {}),
                      still=not self._drawing_frames)

    @contextlib.contextmanager
    def for_frames(self):
        """Reads inside this block feed GIF frames only (a shipped run may store them in a
        lighter form)."""
        before, self._drawing_frames = self._drawing_frames, True
        try:
            yield
        finally:
            self._drawing_frames = before

    def nearest_epoch(self, wanted: int) -> int:
        """The snapshot epoch closest to ``wanted`` (short runs have fewer epochs)."""
        return min(self.epochs, key=lambda e: (abs(e - wanted), e))

    @property
    def dataset_title(self) -> str:
        """MNIST / CIFAR-10, or what a user's folder was used as."""
        name = self.config.get("dataset", "")
        return DATASET_TITLES.get(name, name)

    @property
    def class_names(self) -> list[str]:
        return list(self.info.get("class_names") or [])

    @property
    def num_classes(self) -> int:
        return len(self.class_names) or 10

    def history_column(self, key: str):
        return np.array([row.get(key, np.nan) for row in self.history], dtype=float)


class _Reads(dict):
    """A snapshot that notes which arrays are read, and whether by a still figure."""

    def __init__(self, arrays: dict, log: dict, still: bool):
        super().__init__(arrays)
        self._log, self._still = log, still

    def __getitem__(self, key):
        self._log[key] = self._log.get(key, False) or self._still
        return super().__getitem__(key)


def epoch_gif(ctx: Context, path: Path, make_figure, dpi: int = 80):
    """A GIF with one frame per snapshot epoch, each frame a figure with the provenance line."""
    frames = []
    with ctx.for_frames():
        for epoch in ctx.epochs:
            fig = make_figure(epoch)
            plots.add_footer(fig, ctx.footer, inside=True)
            frames.append(plots.figure_to_array(fig, dpi=dpi))
    plots.save_gif(frames, path)
