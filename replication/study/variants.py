"""The studies' variants: per experiment, the settings each variant trains with and why
(:data:`STUDIES`), the profile's own settings first."""

from __future__ import annotations

from dataclasses import dataclass, field

from replication.cli import train_flags
from replication.config import ConfigError
from replication.experiments.effnet_vae import EffNetVAEConfig
from replication.vocabulary import comma_list

SEEDS = (0, 1)


def _cgan(label_conditioning: str, mismatched_labels: bool, batch_size: int) -> dict:
    """A conditional GAN study variant's settings, all three named."""
    return dict(label_conditioning=label_conditioning, mismatched_labels=mismatched_labels,
                batch_size=batch_size)


def _effnet(encoder_weights: str, freeze_encoder_epochs: int) -> dict:
    """An EfficientNet-VAE study variant's settings: always the Lite0 encoder."""
    return dict(encoder="efficientnet-lite0", encoder_weights=encoder_weights,
                freeze_encoder_epochs=freeze_encoder_epochs)


# The variants of each study, the profile's settings first: (name, config overrides, why).  The
# report is silent on every setting they change; the AC-GAN's come first from the paper's own
# table (a learning rate per network, activation noise), and its real-only class loss departs
# from the paper's loss and stays an option.
STUDIES: dict[str, tuple[tuple[str, dict, str], ...]] = {
    # The Q1 VAE: its report recipe over seeds (the report states the objective; the network
    # and schedule are the project's documented choices).
    "vae": (
        ("baseline", {}, "the profile's settings"),
    ),
    "dcgan": (
        ("baseline", {}, "the profile's settings"),
        ("smooth", {"real_label": 0.9},
         "one-sided label smoothing against the dominant D behind the collapse"),
        ("keras-bn", {"fused_batchnorm": False},
         "Keras' own BatchNorm layer: the fused kernel (a speed lever) must train the same"),
    ),
    # Every CGAN variant names all the settings it studies (the report profile's defaults
    # changed with this study; a variant must mean the same run before and after).
    "cgan": tuple((name, _cgan(*settings), why) for name, settings, why in (
        ("input-concat", ("input-concat", False, 128),
         "the one-hot label at both inputs (the design before this study)"),
        ("matching", ("input-concat", True, 128),
         "wrong-label pairs as fakes, so D must read the label"),
        ("projection", ("projection", False, 128),
         "projection D and class-conditional BatchNorm in G (the field's cGAN standard)"),
        ("projection-d", ("projection-d", False, 128),
         "projection D with G's input concatenation (tells the two halves apart)"),
        ("late-concat", ("late-concat", False, 128),
         "the label joined to D's 4x4 features (Reed et al. 2016)"),
        ("projection-matching", ("projection", True, 128),
         "projection design with wrong-label pairs as fakes"),
        ("projection-b64", ("projection", False, 64),
         "projection design in batches of 64: twice the updates for the same images"),
        ("projection-matching-b64", ("projection", True, 64),
         "projection design, wrong-label pairs, batches of 64"),
    )),
    # The bonus VAE's pretrained encoder: every variant names the encoder, its weights and its
    # freezing (the report used pretrained weights and is silent on freezing them).
    EffNetVAEConfig.experiment: tuple((name, _effnet(*settings), why) for name, settings, why in (
        ("imagenet", ("imagenet", 0),
         "Lite0 with its ImageNet weights, trained end to end from the first step"),
        ("imagenet-frozen-2", ("imagenet", 2),
         "Lite0 with its ImageNet weights frozen for two epochs (the head and decoder settle "
         "first), then fine-tuned"),
        ("random", ("none", 0),
         "Lite0 from random initialisation: what the pretrained weights add"),
    )),
    "acgan": (
        ("baseline", {}, "the profile's settings"),
        ("noise", {"activation_noise": 0.1},
         "the paper's activation noise option against a D that wins"),
        ("slow-d", {"d_learning_rate": 1e-4},
         "the paper's lowest rate for D only, against a D that wins"),
        ("fast-d", {"d_learning_rate": 3e-4},
         "the paper's highest rate for D only (TTUR's faster D, within the paper's set)"),
        ("real-cls", {"class_loss": "real"},
         "D's class loss on real images only (departs from the paper's loss)"),
        ("real-cls-w2", {"class_loss": "real", "class_weight": 2.0},
         "real-cls with D's class loss weighed 2, as Keras' mnist_acgan does: a stronger "
         "classifier in D for G to follow"),
        ("keras-bn", {"fused_batchnorm": False},
         "Keras' own BatchNorm layer: the fused kernel (a speed lever) must train the same"),
        # The field's stabilisers of D at the paper's networks, on the shipped recipe
        # (real-cls); each departs from the paper's table or loss (docs/recipe.md).
        ("real-cls-sn", {"class_loss": "real", "spectral_norm": True},
         "real-cls with spectral normalisation of D's weights (Miyato et al. 2018)"),
        ("real-cls-da", {"class_loss": "real", "diff_augment": "translation,cutout"},
         "real-cls with DiffAugment on every input of D (Zhao et al. 2020)"),
        ("real-cls-sn-da", {"class_loss": "real", "spectral_norm": True,
                            "diff_augment": "translation,cutout"},
         "both: the best of a short pilot outside the project (3,000 iterations, one seed, "
         "its own classifier: FID 36 and 7 classes, against 86 and 3 for real-cls alone)"),
        ("hinge-sn-da", {"class_loss": "real", "spectral_norm": True,
                         "diff_augment": "translation,cutout", "loss": "hinge"},
         "real-cls-sn-da with the hinge loss (SNGAN, BigGAN, StudioGAN's AC-GAN)"),
        ("tac-sn-da", {"class_loss": "twin", "spectral_norm": True,
                       "diff_augment": "translation,cutout"},
         "a twin classifier on the generated images (TAC-GAN, Gong et al. 2019), with SN "
         "and DiffAugment"),
    ),
}


@dataclass(frozen=True)
class Variant:
    name: str
    settings: dict = field(default_factory=dict)  # config overrides
    why: str = ""

    def describe(self) -> str:
        if not self.settings:
            return "the profile's settings"
        return train_flags(self.settings)


def variants_of(experiment: str) -> list[Variant]:
    """The study's variants (:data:`STUDIES`), the profile's settings first."""
    return [Variant(name, dict(settings), why) for name, settings, why in STUDIES[experiment]]


def studied() -> tuple[str, ...]:
    return tuple(STUDIES)


def chosen(experiment: str, names: str | None) -> list[Variant]:
    """The variants ``names`` (comma-separated) of the study, or all of them; one clear error
    for a name it does not have."""
    variants = variants_of(experiment)
    if not names:
        return variants
    known = {v.name: v for v in variants}
    wanted = comma_list(names)
    unknown = [n for n in wanted if n not in known]
    if unknown:
        raise ConfigError(f"{experiment} has no study variant {', '.join(unknown)}; "
                          f"it has {', '.join(known)}")
    return [known[n] for n in wanted]
