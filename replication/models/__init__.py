"""Model families: ``vae``, ``efficientnet_vae``, ``gan`` (the shared adversarial core),
``losses``, ``dcgan`` (also the conditional GAN's networks), ``acgan``, and ``classifier``
(the evaluation's own classifiers).

Importing this package registers the project's serializable Keras classes, so that
``keras.saving.load_model`` can read the ``.keras`` files a run writes;
:func:`replication.load_model` does both.
"""

import zipfile
from pathlib import Path

from replication.backend import import_tensorflow
from replication.errors import MissingFileError, ReplicationError, damaged

import_tensorflow()  # whatever imports the models loads TensorFlow: without its start-up lines

from replication.models import classifier  # noqa: E402,F401  (registers its loss and LR schedule)
from replication.models import vae  # noqa: E402,F401  (registers replication>VAE)

try:  # EfficientNet's own layers ('swish', 'FixedDropout'), for effnet_vae's saved models
    import efficientnet.tfkeras  # noqa: F401
except ImportError:  # pragma: no cover - a declared dependency; only effnet_vae needs it
    pass


def load_model(path, **kwargs):
    """``keras.saving.load_model`` with the project's classes registered (importing this
    package does that); see :func:`replication.load_model`.  A missing file raises
    :class:`~replication.errors.MissingFileError` (a ``FileNotFoundError``); a truncated or
    corrupt one :class:`~replication.errors.DamagedFileError`
    naming it (Keras itself would call it "not found")."""
    import keras

    path = Path(path)
    if not path.is_file():
        raise MissingFileError(f"{path}: no such model file (a run that has not finished, or "
                               "a record of one without its weights)")
    todo = ("restore it (git checkout -- FILE for a shipped model) or retrain the run that "
            "wrote it")
    try:
        return keras.saving.load_model(path, **kwargs)
    except Exception as exc:  # noqa: BLE001 - Keras raises many kinds for one bad archive
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
    # Only now is the archive read a second time: to say whether it is damaged.
    try:
        with zipfile.ZipFile(path) as archive:
            broken = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise damaged(path, f"not a complete .keras archive: {exc}", todo) from None
    if broken is not None:
        raise damaged(path, f"its member {broken} fails its checksum", todo)
    raise ReplicationError(f"{path} cannot be loaded as a Keras model ({first}); {todo}")
