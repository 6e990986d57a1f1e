"""One error policy for every command: a :class:`ReplicationError` is a message for the user,
printed as one line (``error: ...``) with its exit code, never as a traceback.

* exit code **2** – the input was wrong (a flag, a value, a path, a file): nothing was started
  or nothing was changed;
* exit code **1** – a run could not go on (diverged, interrupted, a disk that refused a write):
  the message says what was kept and how to continue.

Every command's ``main`` goes through :func:`run_command`.
"""

from __future__ import annotations

import os
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


def available_memory() -> int:
    """Bytes this machine can still give a process: ``MemAvailable`` of /proc/meminfo, or the
    physical memory where there is no /proc."""
    try:
        with open("/proc/meminfo") as info:
            for line in info:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def refuse_unless_it_fits(what: str, nbytes: float, available: int | None = None) -> None:
    """One line (exit code 2) before the work starts when ``what`` (a size the user asked for,
    as its flag says it) needs more than 80 % of the memory this machine has available."""
    available = available_memory() if available is None else available
    if nbytes > 0.8 * available:
        raise ReplicationError(f"{what} needs about {nbytes / 2 ** 30:.1f} GiB of memory; this "
                               f"machine has {available / 2 ** 30:.1f} GiB available: ask for "
                               "less")


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
    except OSError as exc:  # a file or folder the command could not write (or read)
        where = exc.filename or "a file"
        print(f"error: {where}: {exc.strerror or exc} ({type(exc).__name__}); nothing already "
              "written was removed" + (f"; {hint}" if hint else ""), file=sys.stderr)
        return 2 if isinstance(exc, FileNotFoundError) else 1
    except MemoryError:
        print("error: the machine ran out of memory; ask for fewer samples or a smaller batch"
              + (f"; {hint}" if hint else ""), file=sys.stderr)
        return 1
