"""Q2: the DCGAN on CIFAR-10 (or MNIST) - its settings, profiles, networks and figures."""

from __future__ import annotations

from dataclasses import dataclass

from replication.config import GANConfig
from replication.experiments.base import GANExperiment
from replication.vocabulary import GAN_LOSSES


@dataclass(frozen=True)
class DCGANConfig(GANConfig):
    """Q2: DCGAN (Radford et al. 2015) on CIFAR-10 (MNIST with ``dataset='mnist'``).

    Widths follow the common 32x32 DCGAN (G: 4x4x256 -> 128 -> 64 -> C; D: 64 -> 128 -> 256),
    chosen so that the report's 60 epochs fit in a background run on a 2-core CPU.
    """

    experiment: str = "dcgan"
    dataset: str = "cifar10"
    epochs: int = 60
    batch_size: int = 128
    gen_filters: tuple[int, ...] = (256, 128, 64)
    disc_filters: tuple[int, ...] = (64, 128, 256)
    kernel_size: int = 4


PROFILES = {
    "smoke": dict(epochs=2, batch_size=32, train_examples=256, eval_examples=256,
                  num_fixed_noise=16, track_samples=200),
    "quick": dict(epochs=4, train_examples=32_000, track_samples=1000),
}
# On 28x28x1 MNIST a step is much cheaper: the quick profile trains two full epochs there
# (937 steps; not timed in the main job, which trains on CIFAR-10).
DATASET_PROFILES = {("mnist", "quick"): dict(epochs=2, train_examples=60_000)}


class DCGANExperiment(GANExperiment):
    config_class = DCGANConfig
    profiles = PROFILES
    dataset_profiles = DATASET_PROFILES
    title = "DCGAN"
    section = "Q2 — DCGAN"
    report_shows = "samples after the last epoch"
    headline_figure = "fig11"
    figures = ("fig09", "fig10", "fig11", "fig12", "dcgan.gif")
    reference_seconds = {"zen4": (0.195, 2.3, 12.0), "zen5": (0.128, 2.5, 2.0),
                         "xeon207": (0.106, 2.5, 3.0)}
    published = ({"source": "PyTorch-StudioGAN benchmark", "IS": 6.11, "FID": 48.29},)
    report_captions = {
        "fig09": "Fig. 9: The all-convolutional structure of the generator network.",
        "fig10": "Fig. 10: A sample image generated after the first epoch.",
        "fig11": "Fig. 11: A sample image generated after the last epoch.",
        "fig12": "Fig. 12: The model's loss function.",
        "dcgan.gif": "(not in the report's text; the fixed-noise samples after every epoch)",
    }

    def networks(self, config, image_shape, num_classes: int = 0):
        from replication.models import dcgan

        generator = dcgan.build_generator(image_shape, config.noise_dim, config.gen_filters,
                                          config.kernel_size, config.init_stddev,
                                          fused_norm=config.fused_batchnorm)
        discriminator = dcgan.build_discriminator(
            image_shape, config.disc_filters, config.kernel_size, config.init_stddev,
            config.leaky_slope, norm="layer" if GAN_LOSSES[config.loss].critic else "batch",
            fused_norm=config.fused_batchnorm)
        return generator, discriminator


EXPERIMENT = DCGANExperiment()
