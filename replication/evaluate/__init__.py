"""``scripts/evaluate.py RUN_DIR...``: quantitative evaluation of finished runs.

Writes ``RUN_DIR/metrics.json`` for each run and, with ``--table DIR``, the comparison table
``DIR/metrics.md`` + ``DIR/metrics.json`` (which the gallery shows) beside the published
numbers (the papers and benchmarks the README cites).

* **VAEs** (``vae``, ``effnet_vae``): test-set negative ELBO, the importance-weighted bound
  (IWAE, ``--iwae-samples`` k, default 1000) and the reconstruction error, in nats per image.
* **GANs** (``dcgan``, ``cgan``, ``acgan``): ``--samples`` N generated images (default 10,000;
  class-balanced for the conditional models) against the whole real test split, through the
  ``--extractor`` (``classifier``: the project's own classifier, offline, default;
  ``inception``: Keras InceptionV3 with ImageNet weights): FID, KID (mean ± sd over subsets),
  Inception Score (the *classifier score* with the classifier extractor), class coverage, and
  for the conditional models the conditional accuracy (share of the samples generated for
  class c that the classifier puts in class c).  Two reference rows go with every model: the
  real training split against the test split (the floor any generator can reach) and the
  untrained generator (the ceiling).

The package: :mod:`~replication.evaluate.vae` (the VAE bounds), :mod:`~replication.evaluate.gan`
(sampling and the GAN metrics), :mod:`~replication.evaluate.table` (the comparison table) and
:mod:`~replication.evaluate.cli` (the command, with the one rule for reusing earlier results).
"""

from replication.evaluate.cli import main, reusable
from replication.evaluate.gan import evaluate_gan, generate, sample_metrics
from replication.evaluate.table import render_table, table_rows, update_table
from replication.evaluate.vae import evaluate_vae

__all__ = ["main", "reusable", "evaluate_gan", "evaluate_vae", "generate", "sample_metrics",
           "render_table", "table_rows", "update_table"]
