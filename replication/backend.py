"""Importing TensorFlow (and Keras) without its start-up lines.

TensorFlow 2.21 writes a few lines to stderr while its libraries load ("All log messages
before absl::InitializeLog() is called are written to STDERR", oneDNN and CUDA notices).
They come from C++ code that logs before any log level is read, so ``TF_CPP_MIN_LOG_LEVEL``
does not silence them; :func:`import_tensorflow` points file descriptor 2 at the null device
for the duration of the import and the first device scan instead.  Every command of the
project calls it (through :func:`replication.errors.run_command`) after its arguments are
parsed, so ``--help`` and bad flags never load TensorFlow at all.

``REPLICATION_TF_LOGS=1`` in the environment keeps TensorFlow's own lines (and its INFO log
level) for debugging.
"""

from __future__ import annotations

import os
import sys

LOGS_VARIABLE = "REPLICATION_TF_LOGS"


def tensorflow_logs_wanted() -> bool:
    return os.environ.get(LOGS_VARIABLE, "").strip().lower() not in ("", "0", "false", "no")


def configure_environment() -> None:
    """Environment defaults read when TensorFlow loads (called by ``import replication``)."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    if not tensorflow_logs_wanted():
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # warnings and INFO lines at run time


def import_tensorflow() -> None:
    """Import TensorFlow and Keras once, without the start-up lines (see the module doc).

    A failing import still raises its Python exception (printed after stderr is back)."""
    if "tensorflow" in sys.modules and "keras" in sys.modules:
        return
    configure_environment()
    if tensorflow_logs_wanted():
        import keras  # noqa: F401
        return
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no usable stderr (a daemon): nothing to keep quiet
        import keras  # noqa: F401
        return
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, 2)
        finally:
            os.close(null)
        import tensorflow as tf
        import keras  # noqa: F401

        # The device scan logs too ("failed call to cuInit" on machines without a GPU).
        # Listing physical devices leaves logical-device configuration still possible.
        tf.config.list_physical_devices()
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
