"""The project's words and their traits, once, in a module that loads nothing heavy.

The configs validate against these, the command line offers them as choices, and the models and
experiments read the traits instead of testing names:

- :data:`GAN_LOSSES`: each GAN loss and what follows from it (a critic or a classifier, a
  gradient penalty, the output at which D calls an image real);
- :data:`CLASS_LOSSES`: where the AC-GAN's discriminator takes its class loss;
- :data:`AUGMENTATIONS`: the differentiable augmentations of D's inputs (DiffAugment);
- :data:`LABEL_DESIGNS`: how the conditional GAN's label enters each network;
- :data:`EFFNET_ENCODERS`: the EfficientNet-VAE's encoder backbones.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LossTraits:
    """What a GAN loss implies beyond its formula (:mod:`replication.models.losses`)."""

    name: str
    # An unbounded critic rather than a real/fake classifier: it has no targets (so no label
    # smoothing), takes several updates per generator update and LayerNorm instead of
    # BatchNorm (WGAN-GP, Gulrajani et al. 2017).
    critic: bool = False
    gradient_penalty: bool = False  # the training core adds WGAN-GP's penalty on D
    real_threshold: float = 0.0     # D's output above which it calls an image real (accuracy)
    targets: bool = True            # D's real term has a target (a margin loss has none)
    source: str = ""

    @property
    def smoothable(self) -> bool:
        """Whether one-sided label smoothing (a real target below 1) has a meaning."""
        return self.targets and not self.critic


GAN_LOSSES: dict[str, LossTraits] = {loss.name: loss for loss in (
    LossTraits("minimax", source="Goodfellow et al. 2014, the saturating form"),
    LossTraits("non-saturating", source="Goodfellow et al. 2014, the heuristic used in practice"),
    LossTraits("least-squares", real_threshold=0.5, source="LSGAN, Mao et al. 2017"),
    LossTraits("wasserstein", critic=True, gradient_penalty=True,
               source="WGAN-GP, Gulrajani et al. 2017"),
    # The margin loss of SNGAN and BigGAN: one D update per G update and BatchNorm allowed,
    # so not a critic here; its margins leave no target to smooth.
    LossTraits("hinge", targets=False,
               source="Lim & Ye 2017; Miyato et al. 2018 (SNGAN), Brock et al. 2019 (BigGAN)"),
)}

# The AC-GAN discriminator's class loss: on real and generated images (the AC-GAN paper's), or
# on real images only (Keras' mnist_acgan, StudioGAN; a departure from the paper), or "twin":
# on real images only, with a twin classifier head learning the generated images' labels,
# whose cross-entropy G's loss subtracts (TAC-GAN, Gong et al. 2019; also a departure).
CLASS_LOSSES = ("all", "real", "twin")

# DiffAugment (Zhao et al. 2020): differentiable augmentations applied to every input of D, real
# and generated, in D's and G's updates alike (replication.models.augment). Their order in a
# policy is this order, whatever order a user writes them in.
AUGMENTATIONS = ("color", "translation", "cutout")


@dataclass(frozen=True)
class LabelDesign:
    """How a conditional GAN's label enters its generator and its discriminator
    (:mod:`replication.models.dcgan` builds each way)."""

    name: str
    generator: str      # "concat": a one-hot label beside the noise; "cbn": class-conditional BN
    discriminator: str  # "planes": one-hot planes beside the image; "projection": Miyato &
    #                     Koyama 2018's projection; "late": one-hot joined after the convolutions


LABEL_DESIGNS: dict[str, LabelDesign] = {design.name: design for design in (
    LabelDesign("input-concat", "concat", "planes"),
    LabelDesign("projection", "cbn", "projection"),
    LabelDesign("projection-d", "concat", "projection"),
    LabelDesign("late-concat", "concat", "late"),
)}

# The EfficientNet-VAE's encoders: B0 (Keras' application) and Lite0 (ImageNet weights offline).
EFFNET_ENCODERS = ("efficientnet-b0", "efficientnet-lite0")


def augmentation_policy(text: str | tuple | list) -> tuple[str, ...]:
    """A DiffAugment policy (``"translation,cutout"`` or a sequence of names) in the canonical
    order of :data:`AUGMENTATIONS`; ValueError for a name it does not have."""
    names = comma_list(text) if isinstance(text, str) else [n for n in text if n]
    for name in names:
        if name not in AUGMENTATIONS:
            raise ValueError(unknown("augmentation", name, AUGMENTATIONS))
    return tuple(name for name in AUGMENTATIONS if name in names)


def comma_list(text: str | None) -> list[str]:
    """The one reading of a comma-separated list a user writes (``a, b,`` -> ``["a", "b"]``):
    items stripped, empty ones dropped; ``None`` or blank -> ``[]``."""
    return [item.strip() for item in (text or "").split(",") if item.strip()]


def unknown(kind: str, value, choices) -> str:
    """The one message for a word a vocabulary does not have."""
    return f"unknown {kind} {value!r}; choose one of {', '.join(choices)}"
