"""The report's figures, by figure id, drawn from run directories (never by retraining).

``draw_experiment("vae", run_dir, out)`` writes every figure of an experiment into ``out`` (by
default the run's profile's own folder: ``figures/`` is the report profile's) and records each
file in ``out/manifest.json`` with how it was made.  ``FIGURES`` lists every id with its
caption, in the report's order; the per-figure scripts in ``scripts/`` and the gallery read it.

* :mod:`~replication.figures.core` – the figure registry and :class:`Context`;
* :mod:`~replication.figures.vae` – Q1 and the Q1 bonus;
* :mod:`~replication.figures.gan` – Q2 and Q3, with the project's additions;
* :mod:`~replication.figures.manifest` – drawing into a folder, ``manifest.json``.
"""

from replication.experiments import of_report
from replication.figures import gan as _gan  # noqa: F401  (registers fig09-fig28, table1)
from replication.figures import vae as _vae  # noqa: F401  (registers fig01-fig08)
from replication.figures.core import FIGURES, Context, FigureError, FigureSpec, figure
from replication.figures.gan import AVERAGED_SUFFIX
from replication.figures.manifest import (draw_experiment, figures_folder, figures_of,
                                          manifest_entry, script_main, update_manifest)


def _in_report_order() -> None:
    """Order ``FIGURES`` as the experiment registry lists them (the report's order)."""
    order = [fid for spec in of_report() for fid in spec.figures]
    missing = sorted(set(order) ^ set(FIGURES))
    if missing:
        raise RuntimeError(f"figures registered and declared differ: {', '.join(missing)}")
    ordered = {fid: FIGURES[fid] for fid in order}
    FIGURES.clear()
    FIGURES.update(ordered)


_in_report_order()

__all__ = ["FIGURES", "AVERAGED_SUFFIX", "Context", "FigureError", "FigureSpec", "figure",
           "draw_experiment", "figures_folder", "figures_of", "manifest_entry", "script_main",
           "update_manifest"]
