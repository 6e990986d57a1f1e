"""replication/experiments/base.py: a GAN experiment wires its config's options into the model
and its optimizers, and saves the generators and the averaged generator."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from replication import experiments
from replication.config import ConfigError
from replication.experiments import make_config
from tests.helpers.builds import built as _smoke_built
from tests.helpers.builds import config_and_model as _built
from tests.helpers.objectives import (FAKE, FAKE_CLS, FAKE_LABELS, LABELS, REAL, REAL_CLS,
                                      cross_entropy, softplus, value)


@pytest.mark.parametrize("experiment, overrides, expected", [
    ("dcgan", dict(real_label=0.9), dict(real_label=0.9, class_loss_on="all",
                                          mismatched_labels=False)),
    ("cgan", dict(mismatched_labels=True), dict(real_label=1.0, mismatched_labels=True)),
    ("acgan", dict(class_loss="real"), dict(class_loss_on="real", mismatched_labels=False,
                                            class_weight=1.0)),
    ("acgan", dict(class_loss="real", class_weight=2.0), dict(class_weight=2.0)),
])
def test_config_options_reach_the_model(experiment, overrides, expected):
    config, gan = _built(experiment, **overrides)
    for name, wanted in expected.items():
        assert getattr(gan, name) == wanted, name
    # The model's own D objective is the hand-checked function with the config's options.
    if experiment == "dcgan":
        t = 0.9
        by_hand = np.mean(t * softplus(-REAL) + (1 - t) * softplus(REAL)) + np.mean(softplus(FAKE))
        assert value(gan.d_objective(REAL, FAKE)) == pytest.approx(by_hand, rel=1e-5)
    if experiment == "acgan":
        got = gan.d_objective(REAL, FAKE, labels=LABELS, real_cls=REAL_CLS,
                              fake_labels=FAKE_LABELS, fake_cls=FAKE_CLS)
        by_hand = np.mean(softplus(-REAL)) + np.mean(softplus(FAKE)) + \
            config.class_weight * cross_entropy(LABELS, REAL_CLS)
        assert value(got) == pytest.approx(by_hand, rel=1e-5)


def test_ttur_sets_each_optimizer_rate_and_the_acgan_keeps_to_the_papers_rates():
    _, gan = _built("dcgan", d_learning_rate=4e-4, g_learning_rate=1e-4)
    assert float(gan.d_optimizer.learning_rate) == pytest.approx(4e-4)
    assert float(gan.g_optimizer.learning_rate) == pytest.approx(1e-4)
    _, gan = _built("dcgan")
    assert float(gan.d_optimizer.learning_rate) == float(gan.g_optimizer.learning_rate) == \
        pytest.approx(2e-4)
    _, gan = _built("acgan", d_learning_rate=3e-4)
    assert float(gan.d_optimizer.learning_rate) == pytest.approx(3e-4)
    assert float(gan.g_optimizer.learning_rate) == pytest.approx(2e-4)
    with pytest.raises(ConfigError, match="AC-GAN table"):
        make_config("acgan", "smoke", d_learning_rate=4e-4)


def test_generators_and_the_averaged_generator_reload(tmp_path):
    built = _smoke_built("acgan")
    paths = experiments.get("acgan").save_final(built.model, tmp_path)
    assert sorted(p.name for p in paths) == ["discriminator.keras", "generator.keras",
                                             "generator_ema.keras"]
    noise = np.random.default_rng(0).standard_normal((3, 100)).astype(np.float32)
    labels = np.array([0, 4, 9], np.int32)
    for path, model in ((tmp_path / "generator.keras", built.model.generator),
                        (tmp_path / "generator_ema.keras", built.model.averaged_generator())):
        loaded = keras.saving.load_model(path)
        np.testing.assert_allclose(loaded([noise, labels], training=False),
                                   model([noise, labels], training=False), atol=1e-5)


def test_a_gan_run_trains_with_fused_batchnorm_and_saves_keras_own_layer(acgan_smoke_run):
    """A new GAN run's networks use the fused BatchNorm; its saved generators (trained and
    averaged) and discriminator hold Keras' own layer, so they load without the project's
    classes; a run saved before the setting existed resumes with Keras' layer."""
    import json
    import zipfile

    from replication.experiments import config_from_dict
    from replication.models.layers import FusedBatchNormalization
    from replication.runs import RunDir

    run = RunDir(acgan_smoke_run)
    saved = json.loads(run.config_file.read_text())["config"]
    assert saved["fused_batchnorm"] is True
    files = sorted(run.model_dir.glob("*.keras"))
    assert len(files) == 3  # generator, averaged generator, discriminator
    for path in files:
        with zipfile.ZipFile(path) as archive:
            text = archive.read("config.json").decode()
        assert '"BatchNormalization"' in text and "Fused" not in text, path.name
    config = config_from_dict(saved)
    generator, discriminator = experiments.get("acgan").networks(config, (32, 32, 3))
    assert any(isinstance(l, FusedBatchNormalization) for l in generator.layers)
    older = config_from_dict({k: v for k, v in saved.items() if k != "fused_batchnorm"})
    generator, _ = experiments.get("acgan").networks(older, (32, 32, 3))
    norms = [l for l in generator.layers if isinstance(l, keras.layers.BatchNormalization)]
    assert norms and not any(isinstance(l, FusedBatchNormalization) for l in norms)
