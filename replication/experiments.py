"""What differs between experiments, behind one small interface used by ``train``.

Each experiment says which value range its images use, how its models and optimizers are
built from the config, what to snapshot after each epoch for the figures, which metrics form
the report's log line, and how its final models are saved.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import keras


@dataclass
class Built:
    """A model ready for ``fit()``, with its optimizers by role (all of them checkpointed)."""

    model: keras.Model
    optimizers: dict
    optimizer_variables: dict  # role -> variables that optimizer updates


class Experiment:
    name: str = ""
    value_range: str = "unit"      # "unit" = [0, 1] images, "tanh" = [-1, 1]
    uses_labels: bool = True       # training batches are (image, label) pairs
    validates: bool = False        # fit() gets the test split as validation data
    log_keys: tuple[str, ...] | None = None  # metrics of the report's per-epoch log line

    def build(self, config, dataset) -> Built:
        raise NotImplementedError

    def snapshot_fn(self, config, dataset) -> Callable | None:
        return None

    def save_final(self, model, model_dir: Path) -> list[Path]:
        raise NotImplementedError


class VAEExperiment(Experiment):
    name = "vae"
    value_range = "unit"
    uses_labels = False
    validates = True

    def build(self, config, dataset) -> Built:
        from replication.models.vae import build_vae

        model = build_vae(config, dataset.image_shape)
        model.compile(optimizer=keras.optimizers.Adam(config.learning_rate))
        return Built(model, {"vae": model.optimizer}, {"vae": model.trainable_variables})

    def snapshot_fn(self, config, dataset):
        from replication.models.vae import VAESnapshot

        return VAESnapshot(config, dataset.test if dataset.test is not None else dataset.train)

    def save_final(self, model, model_dir: Path) -> list[Path]:
        from replication.runs import atomic_path

        path = model_dir / f"{self.name}.keras"
        with atomic_path(path, suffix=".keras") as tmp:
            model.save(tmp)
        return [path]


EXPERIMENTS: dict[str, Experiment] = {
    "vae": VAEExperiment(),
}


def get(name: str) -> Experiment:
    return EXPERIMENTS[name]
