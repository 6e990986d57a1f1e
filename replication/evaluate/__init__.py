"""Quantitative evaluation of finished runs (``python -m replication evaluate``; what it
measures: :data:`replication.evaluate.cli.DESCRIPTION`).

The package: :mod:`~replication.evaluate.vae` (the VAE bounds), :mod:`~replication.evaluate.gan`
(sampling and the GAN metrics), :mod:`~replication.evaluate.table` (the comparison table) and
:mod:`~replication.evaluate.cli` (the command, with the one rule for reusing earlier results).
"""

from replication.evaluate.cli import main, reusable
from replication.evaluate.gan import evaluate_gan, sample_metrics
from replication.evaluate.table import render_table, table_rows, update_table
from replication.evaluate.vae import evaluate_vae

__all__ = ["main", "reusable", "evaluate_gan", "evaluate_vae", "sample_metrics",
           "render_table", "table_rows", "update_table"]
