"""replication/zero_shot.py: ImageNet Lite0 as the independent judge of a conditional run's
samples."""

from __future__ import annotations

import pytest


def test_lite0_judges_a_conditional_runs_samples(cgan_smoke_run):
    """The independent judge of the conditional GANs: class-balanced samples of the run's
    generators, each put in a CIFAR-10 class by ImageNet Lite0 zero-shot."""
    from replication.zero_shot import CIFAR10_CLASSES, zero_shot_generated

    for generator in ("trained", "averaged"):
        result = zero_shot_generated(cgan_smoke_run, n=20, generator=generator, input_size=64,
                                     batch_size=10)
        assert result["n"] == 20 and result["generator"] == generator
        assert 0.0 <= result["agreement"] <= 1.0 and 0.0 <= result["agreement_max_rule"] <= 1.0
        for rule in ("", "_max_rule"):
            per_class = result[f"per_class_agreement{rule}"]
            assert list(per_class) == list(CIFAR10_CLASSES)
            # 2 samples per class: the classes' shares average to the overall one
            assert sum(per_class.values()) / 10 == pytest.approx(result[f"agreement{rule}"])
