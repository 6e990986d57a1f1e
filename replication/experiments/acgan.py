"""Q3: the AC-GAN on CIFAR-10, the paper's table - its settings, profiles, networks, figures."""

from __future__ import annotations

from dataclasses import dataclass

from replication.config import ConfigError, GANConfig
from replication.experiments.base import GANExperiment
from replication.vocabulary import CLASS_LOSSES, unknown

# The paper's table: its learning rates and activation-noise options; D's class loss: on all
# images (the paper) or on real ones only.
LEARNING_RATES = (1e-4, 2e-4, 3e-4)
ACTIVATION_NOISE = (0.0, 0.1, 0.2)


@dataclass(frozen=True)
class ACGANConfig(GANConfig):
    """Q3: AC-GAN (Odena et al. 2016), the paper's CIFAR-10 architecture table exactly.

    Adam with one of the table's learning rates {1e-4, 2e-4, 3e-4} and beta_1 0.5, beta_2 0.999;
    batch 100; LeakyReLU 0.2; dropout 0.5 in D; weights N(0, 0.02), biases 0; activation noise
    std from the table's options {0, 0.1, 0.2}.  ``report``: the report's ~18 epochs of 500
    iterations; ``paper``: the paper's 50,000 iterations (100 epochs).
    """

    experiment: str = "acgan"
    dataset: str = "cifar10"
    epochs: int = 18
    batch_size: int = 100
    learning_rate: float = 2e-4
    gen_linear_maps: int = 384
    gen_filters: tuple[int, ...] = (192, 96)
    gen_kernel_size: int = 5
    disc_filters: tuple[int, ...] = (16, 32, 64, 128, 256, 512)
    disc_strides: tuple[int, ...] = (2, 1, 2, 1, 2, 1)
    disc_kernel_size: int = 3
    dropout: float = 0.5
    activation_noise: float = 0.0
    # D's class loss: "all" (the paper: on real and generated images) or "real" (on real
    # images only, as Keras' mnist_acgan example and StudioGAN do; a departure from the
    # paper's loss).  G's class loss on its own samples is the same either way.
    class_loss: str = "all"
    # The weight of D's class term against its source term: 1, the paper's sum; Keras'
    # mnist_acgan weighs the real images' class loss 2.  G's class term keeps weight 1.
    class_weight: float = 1.0
    # Beyond the paper's table (each a departure from it, off by default; issue-level levers
    # against lost classes, docs/studies.md): spectral normalisation of D's convolutions and
    # linear layer (Miyato et al. 2018), and D without its BatchNorm (as SNGAN's D).
    spectral_norm: bool = False
    d_batchnorm: bool = True

    def validate(self) -> None:
        super().validate()
        for name in ("learning_rate", "d_learning_rate", "g_learning_rate"):
            value = getattr(self, name)
            if value is not None and value not in LEARNING_RATES:
                what = "" if name == "learning_rate" else f" per network, got " \
                    f"{name.replace('_', '-')}"
                raise ConfigError(f"the AC-GAN table allows learning rates 1e-4, 2e-4 or 3e-4"
                                  f"{what or ', got'} {value}")
        if self.activation_noise not in ACTIVATION_NOISE:
            raise ConfigError("the AC-GAN table allows activation noise "
                              f"{', '.join(map(str, ACTIVATION_NOISE))}, "
                              f"got {self.activation_noise}")
        if not self.class_weight > 0:
            raise ConfigError(f"the class-loss weight must be positive, got {self.class_weight}")
        if self.class_loss not in CLASS_LOSSES:
            raise ConfigError(unknown("class loss", self.class_loss, CLASS_LOSSES))


PROFILES = {
    "smoke": dict(epochs=2, batch_size=25, train_examples=250, eval_examples=250,
                  track_samples=200),
    "quick": dict(epochs=3, train_examples=20_000, track_samples=1000),
    "paper": dict(epochs=100),  # 50,000 iterations of batch 100 on the 50,000 images
}


class ACGANExperiment(GANExperiment):
    config_class = ACGANConfig
    profiles = PROFILES
    title = "AC-GAN"
    section = "Q3 — AC-GAN (CIFAR-10)"
    report_shows = "a row per class"
    headline_figure = "fig27"
    conditioning = "auxiliary"
    overview = ("samples", "one row per class")
    figures = ("table1", "fig22", "fig23", "fig24", "fig25", "fig26", "fig27", "fig28",
               "acgan.gif")
    reference_seconds = {"zen4": (0.352, 3.0, 13.0), "zen5": (0.27, 3.3, 5.0),
                         "xeon207": (0.29, 4.0, 6.0)}
    published = ({"source": "AC-GAN paper (Odena et al. 2017)", "IS": 8.25},
                 {"source": "PyTorch-StudioGAN benchmark", "IS": 7.33, "FID": 31.72})
    report_captions = {
        "table1": "(table) The network built as the paper proposes for the cifar10 data.",
        "fig22": "Fig. 22: Sample images created by the ACGAN network at stage 1.",
        "fig23": "Fig. 23: Sample images created by the ACGAN network at stage 6.",
        "fig24": "Fig. 24: Sample images created by the ACGAN network at stage 9.",
        "fig25": "(Fig. 25) epoch 13",
        "fig26": "(Fig. 26) epoch 17",
        "fig27": "Fig. 27: Sample images created by the ACGAN network at stage 18.",
        "fig28": "Fig. 28: The model's loss plot.",
        "acgan.gif": "(not in the report's text; fixed noise x fixed classes after every epoch)",
    }

    def compile_options(self, config) -> dict:
        return {"class_loss_on": config.class_loss, "class_weight": config.class_weight}

    def networks(self, config, image_shape, num_classes: int = 10):
        from replication.models import acgan

        return (acgan.build_generator(config, num_classes, image_shape),
                acgan.build_discriminator(config, num_classes, image_shape))


EXPERIMENT = ACGANExperiment()
