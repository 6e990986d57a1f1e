"""One error policy for every command: a :class:`ReplicationError` is a message for the user,
printed as one line (``error: ...``) with its exit code, never as a traceback.

* exit code **2** – the input was wrong (a flag, a value, a path, a file): nothing was started
  or nothing was changed;
* exit code **1** – a run could not go on (diverged, interrupted, a disk that refused a write):
  the message says what was kept and how to continue.

Every command's ``main`` goes through :func:`run_command`.
"""

from __future__ import annotations

import sys
from typing import Callable

from replication.backend import import_tensorflow


class ReplicationError(Exception):
    """A failure the user can act on; ``str(error)`` is the whole message."""

    exit_code = 2


class DamagedFileError(ReplicationError):
    """A file is there but cannot be read whole (truncated, corrupt, not what its name says);
    the message names it, says what is wrong and what to do.  Nothing is deleted."""


class MissingFileError(ReplicationError, FileNotFoundError):
    """A file a command needs is not there; still a ``FileNotFoundError`` for the callers that
    look for one, and one line (exit code 2) for a command that does not."""


def damaged(path, problem: str, todo: str) -> DamagedFileError:
    """The one wording of a damaged file's message."""
    return DamagedFileError(f"{path} is damaged ({problem}); {todo}")


class RunError(ReplicationError):
    """A run stopped; what it finished is kept (exit code 1)."""

    exit_code = 1


def run_command(command: Callable[[], int | None], *, hint: str = "") -> int:
    """Call ``command``; turn a :class:`ReplicationError` into one line on stderr and its exit
    code (``hint`` is appended to run errors, e.g. how to continue).  TensorFlow is imported
    first, without its start-up lines (:mod:`replication.backend`): every command calls this
    after parsing its arguments, so ``--help`` and bad flags never load it."""
    try:
        import_tensorflow()
        return command() or 0
    except ReplicationError as exc:
        suffix = f"; {hint}" if hint and isinstance(exc, RunError) else ""
        print(f"error: {exc}{suffix}", file=sys.stderr)
        return exc.exit_code
