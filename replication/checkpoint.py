"""Training state checkpoints: everything needed to continue a run exactly.

One ``.npz`` holds, for the model and each of its optimizers, the value of every variable in
tracking order (weights, BatchNorm statistics, ``SeedGenerator`` states, Adam moments and
iteration counts) plus the number of finished epochs.  Unlike ``BackupAndRestore`` it covers
models with several optimizers (the GANs), and restoring checks every shape so a checkpoint
from a different architecture is refused instead of half-loaded.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from replication.errors import RunError
from replication.runs import atomic_path, read_npz


class CheckpointError(RunError):
    pass


def _groups(model, optimizers: dict):
    groups = {"model": list(model.variables)}
    for role, optimizer in optimizers.items():
        groups[f"optimizer.{role}"] = list(optimizer.variables)
    return groups


def build_optimizers(model, optimizers: dict, variables: dict | None = None) -> None:
    """Create every optimizer's slot variables now (fit() would only build ``model.optimizer``).

    ``variables`` maps a role to the variables that optimizer updates (default: all trainable).
    """
    for role, optimizer in optimizers.items():
        if not optimizer.built:
            targets = (variables or {}).get(role, model.trainable_variables)
            optimizer.build(targets)


def save_state(path, model, optimizers: dict, epoch: int, previous=None) -> None:
    """Write the checkpoint ``path`` whole (or not at all).  With ``previous``, the checkpoint
    it replaces is kept there (one epoch older), so a damaged last checkpoint still leaves a
    run resumable."""
    arrays = {"epoch": np.asarray(epoch, dtype=np.int64)}
    for group, variables in _groups(model, optimizers).items():
        for i, variable in enumerate(variables):
            arrays[f"{group}/{i:04d}"] = np.asarray(variable.numpy())
        arrays[f"{group}/paths"] = np.asarray([v.path for v in variables])
    path = Path(path)
    with atomic_path(path, suffix=".npz") as tmp:
        np.savez(tmp, **arrays)
        if previous is not None and path.exists():  # the new one is complete: rotate
            os.replace(path, previous)


def load_state(path, model, optimizers: dict) -> int:
    """Restore a checkpoint written by :func:`save_state`; return the number of finished epochs.

    The optimizers must already be built (see :func:`build_optimizers`).
    """
    path = Path(path)
    npz = read_npz(path, todo="resume from an earlier checkpoint or start the run again")
    if "epoch" not in npz:
        raise CheckpointError(f"checkpoint {path} has no epoch count: it was not written by "
                              "this project")
    for group, variables in _groups(model, optimizers).items():
        key = f"{group}/paths"
        if key not in npz:
            raise CheckpointError(f"checkpoint {path} has no state for {group}")
        saved_paths = [str(p) for p in npz[key]]
        if len(saved_paths) != len(variables):
            raise CheckpointError(
                f"checkpoint {path}: {group} has {len(saved_paths)} variables, the model "
                f"{len(variables)}; it was written by a different architecture")
        for i, variable in enumerate(variables):
            value = npz[f"{group}/{i:04d}"]
            if tuple(value.shape) != tuple(variable.shape):
                raise CheckpointError(
                    f"checkpoint {path}: {variable.path} has shape {value.shape}, the model "
                    f"{tuple(variable.shape)}; it was written by a different architecture")
        for i, variable in enumerate(variables):
            variable.assign(npz[f"{group}/{i:04d}"])
    return int(npz["epoch"])
