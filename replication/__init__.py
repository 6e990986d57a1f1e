"""Replication of a report on generative models (VAE, EfficientNet-VAE, DCGAN, CGAN, AC-GAN).

``python -m replication --help`` lists the commands; :func:`replication.train.train` is the
one training entry point, :mod:`replication.figures` regenerates the report's figures, and
:func:`load_model` reads any model the project saves (a run's ``model/*.keras`` or a shipped
run in ``pretrained/``).

Importing the package is light (it does not load TensorFlow), so the command line answers
``--help`` at once; TensorFlow is loaded, quietly, when a command or :func:`load_model` first
needs it (:mod:`replication.backend`).
"""

from replication.backend import configure_environment as _configure_environment
from replication.backend import import_tensorflow as _import_tensorflow

_configure_environment()

__version__ = "0.1.0"


def load_model(path, **kwargs):
    """Load a ``.keras`` model saved by this project (the VAEs, generators, discriminators,
    classifiers), registering the project's own Keras classes first.  Keyword arguments go to
    ``keras.saving.load_model`` (e.g. ``compile=False``).  A model shipped with float16 weights
    comes back with float32 variables, as it was trained."""
    _import_tensorflow()
    from replication.models import load_model as _load

    return _load(path, **kwargs)
