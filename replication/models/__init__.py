"""Model families: ``vae``, ``gan`` (shared adversarial core and losses), ``dcgan``.

Importing this package registers the project's serializable Keras classes, so that
``keras.saving.load_model`` can read the ``.keras`` files a run writes.
"""

from replication.models import vae  # noqa: F401  (registers replication>VAE)
