"""Q1: the variational autoencoder on MNIST - its settings, profiles, networks and figures."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from replication.config import ExperimentConfig
from replication.experiments.base import Built, Experiment, save_keras
from replication.generation import decode_prior


@dataclass(frozen=True)
class VAEConfig(ExperimentConfig):
    """Q1: convolutional VAE with a 2-D latent space on MNIST (Kingma & Welling 2013).

    The report fixes the objective (ELBO with cross-entropy reconstruction and KL); the project fixes
    the silent parts: 2-D latent, convolutional encoder/decoder, Bernoulli decoder, Adam,
    30 epochs, batch 128.
    """

    experiment: str = "vae"
    dataset: str = "mnist"
    epochs: int = 30
    batch_size: int = 128
    learning_rate: float = 1e-3
    latent_dim: int = 2
    conv_filters: tuple[int, ...] = (32, 64)
    kernel_size: int = 3
    dense_units: int = 256
    # Figures (fig02-fig06): sizes of the per-epoch snapshots.
    manifold_size: int = 20          # fig02: n x n grid over the latent plane
    manifold_quantile: float = 0.05  # grid spans the N(0,1) quantiles [q, 1-q] on each axis
    num_samples: int = 64            # fig03: decoded z ~ N(0, I)
    num_reconstructions: int = 10    # fig03b
    num_interpolations: int = 6      # fig04: rows
    interpolation_steps: int = 10    # fig04: columns
    latent_points: int = 10_000      # fig06: encoded test images in the scatter


# The schedules of the profiles (replication.config.PROFILES): smoke and quick shrink only the
# schedule and the data, never the architecture; report and paper are the dataclass defaults.
PROFILES = {
    "smoke": dict(epochs=2, train_examples=2048, eval_examples=1024, latent_points=1024),
    "quick": dict(epochs=3, train_examples=40_000),
}


class VAEExperiment(Experiment):
    config_class = VAEConfig
    profiles = PROFILES
    title = "VAE"
    family = "vae"
    section = "Q1 — Variational autoencoder (MNIST)"
    report_shows = "new digits, latent space"
    headline_figure = "fig02"
    figures = ("fig01", "fig02", "fig03", "fig03b", "fig04", "fig05", "fig06", "vae_grid.gif",
               "vae_latent.gif")
    overview = ("manifold", "the decoder over the 2-D latent plane")
    value_range = "unit"
    uses_labels = False
    validates = True
    bf16_on_cpu = True
    likelihood = True
    reference_seconds = {"zen4": (0.055, 0.8, 3.0), "zen5": (0.0374, 0.3, 3.0),
                         "xeon207": (0.0267, 0.3, 2.0)}
    report_captions = {
        "fig01": "Fig. 1. A sketch of the relation between the variables z and x in the problem.",
        "fig02": "Fig. 2: A generated sample image.",
        "fig03": "Fig. 3: A generated sample image.",
        "fig03b": "Fig. 3 (the second one so numbered): A generated sample image.",
        "fig04": "Fig. 4: A generated sample image.",
        "fig05": "Fig. 5: The loss plot of training the VAE network.",
        "fig06": "Fig. 6: Showing the latent space of the VAE network.",
        "vae_grid.gif": "(text) How the outputs change is given in the file vae_grid.gif.",
        "vae_latent.gif": "(text) The changes of the latent space during training are given in "
                          "the file vae_latent.gif.",
    }

    def networks(self, config, image_shape, num_classes: int = 0):
        from replication.models.vae import build_vae

        return build_vae(config, image_shape)

    def build(self, config, dataset) -> Built:
        import keras

        model = self.networks(config, dataset.image_shape, dataset.num_classes)
        model.compile(optimizer=keras.optimizers.Adam(config.learning_rate))
        # Over every variable (an EfficientNet-VAE's backbone is frozen only from the first
        # epoch on), so unfreezing later needs no new optimizer.
        return Built(model, {"vae": model.optimizer}, {"vae": model.trainable_variables})

    def snapshot_fn(self, config, dataset):
        from replication.snapshots import VAESnapshot

        return VAESnapshot(config, dataset.test if dataset.test is not None else dataset.train)

    def model_files(self) -> dict[str, str]:
        return {"trained": f"{self.name}.keras"}

    def draw(self, model, info: dict, n: int, *, seed: int = 0, klass: int | None = None):
        return decode_prior(model, n, info["config"]["latent_dim"], seed), None

    def loading_example(self, folder: str, settings: dict) -> list[str]:
        return ["import numpy as np",
                "import replication  # registers the VAE's own Keras class",
                f"vae = replication.load_model(\"pretrained/{folder}/model/"
                f"{self.model_files()['trained']}\", compile=False)",
                "rng = np.random.default_rng(0)",
                f"z = rng.standard_normal((16, {settings.get('latent_dim', '?')}))"
                ".astype(\"float32\")  # the prior, N(0, I)",
                "images = vae.decode(z)  # pixel probabilities in [0, 1], 28x28x1"]

    def save_final(self, model, model_dir: Path) -> list[Path]:
        return [save_keras(model, model_dir / self.model_files()["trained"])]


EXPERIMENT = VAEExperiment()
