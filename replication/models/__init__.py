"""Model families: ``vae``, ``efficientnet_vae``, ``gan`` (the shared adversarial core),
``losses``, ``dcgan`` (also the conditional GAN's networks), ``acgan``, and ``classifier``
(the evaluation's own classifiers).

Importing this package registers the project's serializable Keras classes, so that
``keras.saving.load_model`` can read the ``.keras`` files a run writes;
:func:`replication.load_model` does both.
"""

from replication.backend import import_tensorflow

import_tensorflow()  # whatever imports the models loads TensorFlow: without its start-up lines

from replication.models import classifier  # noqa: E402,F401  (registers its loss and LR schedule)
from replication.models import vae  # noqa: E402,F401  (registers replication>VAE)

try:  # EfficientNet's own layers ('swish', 'FixedDropout'), for effnet_vae's saved models
    import efficientnet.tfkeras  # noqa: F401
except ImportError:  # pragma: no cover - a declared dependency; only effnet_vae needs it
    pass


def load_model(path, **kwargs):
    """``keras.saving.load_model`` with the project's classes registered (importing this
    package does that); see :func:`replication.load_model`."""
    import keras

    return keras.saving.load_model(path, **kwargs)
