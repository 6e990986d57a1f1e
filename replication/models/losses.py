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

All return batch means.  ``log D = -softplus(-logit)`` and ``log(1 - D) = -softplus(logit)``
keep them finite for any logit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from keras import ops


@dataclass(frozen=True)
class GANLoss:
    name: str
    d: Callable
    g: Callable
    needs_gradient_penalty: bool = False


def _bce_d(real, fake):
    return ops.mean(ops.softplus(-real)) + ops.mean(ops.softplus(fake))


LOSSES: dict[str, GANLoss] = {
    "minimax": GANLoss("minimax", _bce_d, lambda fake: -ops.mean(ops.softplus(fake))),
    "non-saturating": GANLoss("non-saturating", _bce_d, lambda fake: ops.mean(ops.softplus(-fake))),
    "least-squares": GANLoss(
        "least-squares",
        lambda real, fake: 0.5 * ops.mean(ops.square(real - 1.0)) + 0.5 * ops.mean(ops.square(fake)),
        lambda fake: 0.5 * ops.mean(ops.square(fake - 1.0))),
    "wasserstein": GANLoss(
        "wasserstein",
        lambda real, fake: ops.mean(fake) - ops.mean(real),
        lambda fake: -ops.mean(fake),
        needs_gradient_penalty=True),
}


def get_loss(name: str) -> GANLoss:
    try:
        return LOSSES[name]
    except KeyError:
        raise ValueError(f"unknown GAN loss {name!r}; choose one of {', '.join(LOSSES)}") from None


def real_decision_threshold(loss: GANLoss) -> float:
    """Output value above which the discriminator calls an image real (for its accuracy)."""
    return 0.5 if loss.name == "least-squares" else 0.0
