"""The four GAN losses the report discusses, written on the discriminator's raw outputs.

``d(real, fake)`` is the discriminator's (critic's) loss and ``g(fake)`` the generator's, both
to be *minimised*; ``real``/``fake`` are the discriminator's outputs (logits, or critic values)
on a batch of real and of generated images.  With ``D = sigmoid(logit)``:

* ``minimax`` (Goodfellow et al. 2014): D: ``-log D(x) - log(1 - D(G(z)))``;
  G: ``log(1 - D(G(z)))`` (the saturating form of the original objective).
* ``non-saturating`` (same paper, the heuristic used in practice; the default):
  D as above; G: ``-log D(G(z))``.
* ``least-squares`` (LSGAN, Mao et al. 2017, a=0, b=c=1 on the raw output ``o``):
  D: ``½(o_real - 1)² + ½ o_fake²``; G: ``½(o_fake - 1)²``.
* ``wasserstein`` (WGAN-GP, Gulrajani et al. 2017): critic: ``o_fake - o_real`` (+ gradient
  penalty, added by the training core); G: ``-o_fake``.  Needs several critic updates per
  generator update (``GANConfig.critic_steps``).
* ``hinge`` (Lim & Ye 2017; SNGAN, BigGAN): D: ``max(0, 1 - o_real) + max(0, 1 + o_fake)``;
  G: ``-o_fake``.  One D update per G update; no target to smooth.

One-sided label smoothing (Salimans et al. 2016) replaces the real target 1 by ``t < 1``:
BCE against ``t`` for the sigmoid losses, ``½(o_real - t)²`` for least squares.

All return batch means.  ``log D = -softplus(-logit)`` and ``log(1 - D) = -softplus(logit)``
keep them finite for any logit.  :func:`discriminator_objective` and
:func:`generator_objective` put a loss together with the stabilisers (label smoothing,
wrong-label pairs) and the AC-GAN's class terms (the paper's, real-only, or with TAC-GAN's
twin classifier).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from keras import ops

from replication.vocabulary import GAN_LOSSES, LossTraits, unknown


@dataclass(frozen=True)
class GANLoss:
    """One loss, split into D's term on real outputs (with a target, for one-sided label
    smoothing), D's term on fake outputs, and G's term."""

    name: str
    d_real: Callable      # d_real(real_outputs, target) -> scalar
    d_fake: Callable      # d_fake(fake_outputs) -> scalar
    g: Callable           # g(fake_outputs) -> scalar

    @property
    def traits(self) -> LossTraits:
        """What the loss implies (critic, gradient penalty, threshold): the vocabulary's."""
        return GAN_LOSSES[self.name]

    @property
    def needs_gradient_penalty(self) -> bool:
        return self.traits.gradient_penalty

    def d(self, real, fake, real_target: float = 1.0):
        """D's loss on a real and a fake batch; ``real_target`` below 1 smooths the real
        labels (one-sided: the fakes' target stays 0)."""
        return self.d_real(real, real_target) + self.d_fake(fake)


def _bce_real(real, target):
    # Cross-entropy of sigmoid(real) against the target t: t·softplus(-x) + (1-t)·softplus(x).
    loss = ops.softplus(-real)
    if target != 1.0:
        loss = target * loss + (1.0 - target) * ops.softplus(real)
    return ops.mean(loss)


def _bce_fake(fake):
    return ops.mean(ops.softplus(fake))


def _wasserstein_real(real, target):
    if target != 1.0:
        raise ValueError("the wasserstein critic has no targets to smooth")
    return -ops.mean(real)


def _hinge_real(real, target):
    if target != 1.0:
        raise ValueError("the hinge loss has margins, not targets to smooth")
    return ops.mean(ops.relu(1.0 - real))


LOSSES: dict[str, GANLoss] = {
    "minimax": GANLoss("minimax", _bce_real, _bce_fake,
                       lambda fake: -ops.mean(ops.softplus(fake))),
    "non-saturating": GANLoss("non-saturating", _bce_real, _bce_fake,
                              lambda fake: ops.mean(ops.softplus(-fake))),
    "least-squares": GANLoss(
        "least-squares",
        lambda real, target: 0.5 * ops.mean(ops.square(real - target)),
        lambda fake: 0.5 * ops.mean(ops.square(fake)),
        lambda fake: 0.5 * ops.mean(ops.square(fake - 1.0))),
    "wasserstein": GANLoss(
        "wasserstein", _wasserstein_real, lambda fake: ops.mean(fake),
        lambda fake: -ops.mean(fake)),
    "hinge": GANLoss("hinge", _hinge_real, lambda fake: ops.mean(ops.relu(1.0 + fake)),
                     lambda fake: -ops.mean(fake)),
}
assert set(LOSSES) == set(GAN_LOSSES), "every loss of the vocabulary is written here, once"



def class_loss(labels, logits):
    """Mean sparse cross-entropy of class ``logits`` against integer ``labels``."""
    return ops.mean(ops.sparse_categorical_crossentropy(labels, logits, from_logits=True))


def discriminator_objective(loss, real_src, fake_src, *, real_label=1.0, wrong_src=None,
                            labels=None, real_cls=None, fake_labels=None, fake_cls=None,
                            fake_twin=None, class_loss_on="all", class_weight=1.0):
    """D's loss to minimise (before any gradient penalty), from its outputs.

    * source term: ``loss.d_real(real_src, real_label) + loss.d_fake(fake_src)``; with
      ``wrong_src`` (D's outputs on real images paired with a wrong label, the matching-aware
      discriminator) the fake term is the mean of the generated and the mismatched pairs';
    * AC-GAN class term (when ``real_cls`` is given): cross-entropy on the real images'
      labels, plus, by ``class_loss_on``, on the generated images' labels ("all"), nothing
      more ("real"), or the twin head's cross-entropy on the generated images' labels
      (``fake_twin``, "twin"), times ``class_weight`` (1: the paper's sum).
    """
    fake_term = loss.d_fake(fake_src)
    if wrong_src is not None:
        fake_term = 0.5 * (fake_term + loss.d_fake(wrong_src))
    total = loss.d_real(real_src, real_label) + fake_term
    if real_cls is not None:
        classes = class_loss(labels, real_cls)
        if class_loss_on == "all":
            classes += class_loss(fake_labels, fake_cls)
        elif class_loss_on == "twin":
            classes += class_loss(fake_labels, fake_twin)
        total += class_weight * classes
    return total


def generator_objective(loss, fake_src, *, fake_labels=None, fake_cls=None, fake_twin=None):
    """G's loss to minimise: ``loss.g(fake_src)``, plus the AC-GAN class term on its own
    samples when ``fake_cls`` is given (whatever D's class loss uses), minus the twin head's
    cross-entropy on them when ``fake_twin`` is given (TAC-GAN)."""
    total = loss.g(fake_src)
    if fake_cls is not None:
        total += class_loss(fake_labels, fake_cls)
    if fake_twin is not None:
        total -= class_loss(fake_labels, fake_twin)
    return total


def get_loss(name: str) -> GANLoss:
    try:
        return LOSSES[name]
    except KeyError:
        raise ValueError(unknown("GAN loss", name, LOSSES)) from None


def real_decision_threshold(loss: GANLoss) -> float:
    """Output value above which the discriminator calls an image real (for its accuracy)."""
    return loss.traits.real_threshold
