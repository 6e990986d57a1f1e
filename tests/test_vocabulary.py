"""replication/vocabulary.py: each GAN loss's traits are what its formula and the training core
do with it, and the vocabulary is light (no TensorFlow)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from replication.config import ConfigError
from replication import experiments
from replication.experiments import make_config
from replication.vocabulary import GAN_LOSSES


def test_importing_the_vocabulary_loads_nothing_heavy():
    code = ("import sys, replication.vocabulary; "
            "print(any(m in sys.modules for m in ('tensorflow', 'keras', 'matplotlib')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "False"


def test_the_losses_and_their_traits_are_one_list():
    from replication.models import losses

    assert set(losses.LOSSES) == set(GAN_LOSSES)
    for name, loss in losses.LOSSES.items():
        traits = GAN_LOSSES[name]
        assert loss.needs_gradient_penalty == traits.gradient_penalty
        assert losses.real_decision_threshold(loss) == traits.real_threshold
    # the threshold is where D's loss on one real output is indifferent between the targets
    ls = losses.LOSSES["least-squares"]
    at = np.array([GAN_LOSSES["least-squares"].real_threshold], np.float32)
    assert float(ls.d_real(at, 1.0)) == pytest.approx(float(ls.d_fake(at)))


@pytest.mark.parametrize("name", sorted(GAN_LOSSES))
def test_a_critic_takes_layer_norm_several_updates_and_no_smoothing(name):
    traits = GAN_LOSSES[name]
    config = make_config("dcgan", "smoke", loss=name)
    _, discriminator = experiments.get("dcgan").networks(config, (32, 32, 3))
    kinds = {type(layer).__name__ for layer in discriminator.layers}
    assert ("LayerNormalization" in kinds) == traits.critic
    if traits.smoothable:
        make_config("dcgan", "smoke", loss=name, real_label=0.9)
    else:
        with pytest.raises(ConfigError, match=f"no meaning for the {name} critic"):
            make_config("dcgan", "smoke", loss=name, real_label=0.9)
