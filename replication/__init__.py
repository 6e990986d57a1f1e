"""Replication of a report on generative models (VAE, EfficientNet-VAE, DCGAN, CGAN, AC-GAN).

``python -m replication --help`` lists the commands; ``replication.train.train`` is the one
training entry point and ``replication.figures`` regenerates the report's figures.
"""

import os as _os

_os.environ.setdefault("KERAS_BACKEND", "tensorflow")
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"

# Register the custom Keras classes, so `import replication` is all that loading a saved
# `.keras` model needs.
from replication import models as _models  # noqa: E402,F401
