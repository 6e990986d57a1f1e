"""Q3: the conditional GAN and the AC-GAN: conditioning, the AC-GAN loss, table1, figures."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from replication.__main__ import main
from replication.config import ConfigError
from replication.experiments import make_config
from replication.experiments import get as get_experiment
from replication.models.acgan import TABLE_HEADER, architecture_rows
from replication.models.gan import GAN
from resume_harness import assert_resume_equals_uninterrupted

CIFAR_SHAPE, CIFAR_CLASSES = (32, 32, 3), 10

# SPEC.md, "Q3 - AC-GAN on CIFAR-10": the paper's table, row by row.
SPEC_TABLE = [
    ["G input: 110 × 1 × 1 (100 noise + 10 class)", "", "", "", "", "", ""],
    ["linear", "N/A", "N/A", "384", "no", "0.0", "ReLU"],
    ["transposed conv", "5×5", "2×2", "192", "yes", "0.0", "ReLU"],
    ["transposed conv", "5×5", "2×2", "96", "yes", "0.0", "ReLU"],
    ["transposed conv", "5×5", "2×2", "3", "no", "0.0", "tanh"],
    ["D input: 32 × 32 × 3", "", "", "", "", "", ""],
    ["conv", "3×3", "2×2", "16", "no", "0.5", "LeakyReLU"],
    ["conv", "3×3", "1×1", "32", "yes", "0.5", "LeakyReLU"],
    ["conv", "3×3", "2×2", "64", "yes", "0.5", "LeakyReLU"],
    ["conv", "3×3", "1×1", "128", "yes", "0.5", "LeakyReLU"],
    ["conv", "3×3", "2×2", "256", "yes", "0.5", "LeakyReLU"],
    ["conv", "3×3", "1×1", "512", "yes", "0.5", "LeakyReLU"],
    ["linear", "N/A", "N/A", "11", "no", "0.0", "soft-sigmoid"],
]
# The last class grid also has the averaged generator's grid beside it (figNN_ema.png).
Q3_FILES = {"cgan": ["fig13.png", "fig14.png"] + [f"fig{i}.png" for i in range(15, 22)]
            + ["fig20_ema.png", "cgan.gif"],
            "acgan": ["table1.md", "table1.png"] + [f"fig{i}.png" for i in range(22, 29)]
            + ["fig27_ema.png", "acgan.gif"]}


def _networks(experiment, **overrides):
    config = make_config(experiment, "report", **overrides)
    keras.utils.set_random_seed(0)
    return config, *get_experiment(experiment).networks(config, CIFAR_SHAPE, CIFAR_CLASSES)


def test_table1_matches_spec_row_by_row():
    _, generator, discriminator = _networks("acgan")
    assert TABLE_HEADER == ["operation", "kernel", "strides", "feature maps", "BN?", "dropout",
                            "nonlinearity"]
    rows = architecture_rows(generator, discriminator)
    assert len(rows) == len(SPEC_TABLE)
    for got, want in zip(rows, SPEC_TABLE):
        assert got == want


def test_acgan_weights_and_hyperparameters_follow_the_paper():
    config, generator, discriminator = _networks("acgan")
    assert (config.batch_size, config.beta_1, config.beta_2, config.leaky_slope) == (100, 0.5, 0.999, 0.2)
    assert config.learning_rate in (1e-4, 2e-4, 3e-4)
    for layer in generator.layers + discriminator.layers:
        if hasattr(layer, "kernel_initializer"):
            init = layer.kernel_initializer
            assert isinstance(init, keras.initializers.RandomNormal) and init.stddev == 0.02
            assert isinstance(layer.bias_initializer, keras.initializers.Zeros)
    assert make_config("acgan", "paper").epochs * 50_000 // 100 == 50_000
    with pytest.raises(ConfigError, match="1e-4, 2e-4 or 3e-4"):
        make_config("acgan", "report", learning_rate=5e-4)


def test_activation_noise_option_adds_gaussian_noise_layers():
    _, _, plain = _networks("acgan")
    _, _, noisy = _networks("acgan", activation_noise=0.1)
    assert not any(isinstance(l, keras.layers.GaussianNoise) for l in plain.layers)
    noise = [l for l in noisy.layers if isinstance(l, keras.layers.GaussianNoise)]
    assert len(noise) == 7 and all(l.stddev == 0.1 for l in noise)


@pytest.mark.parametrize("experiment", ["cgan", "acgan"])
def test_conditioning_really_conditions(experiment):
    _, generator, _ = _networks(experiment)
    # Class-conditional BatchNorm starts as plain BatchNorm (gamma 1, beta 0 for every class),
    # so an untrained conditional-BN generator ignores the label: give the per-class tables
    # distinct rows, as training does.
    rng = np.random.default_rng(1)
    for layer in generator.layers:
        if isinstance(layer, keras.layers.Embedding):
            shape = layer.get_weights()[0].shape
            layer.set_weights([rng.normal(1.0, 0.3, size=shape).astype("float32")])
    noise = np.random.default_rng(0).standard_normal((1, 100)).astype("float32")
    outputs = [np.asarray(generator([noise, np.array([c], "int32")], training=False))
               for c in (3, 3, 7)]
    np.testing.assert_array_equal(outputs[0], outputs[1])  # same label and noise: same image
    assert np.abs(outputs[0] - outputs[2]).mean() > 1e-4     # only the label changed


def test_cgan_discriminator_sees_the_label():
    _, _, discriminator = _networks("cgan")
    image = np.random.default_rng(0).uniform(-1, 1, (1, 32, 32, 3)).astype("float32")
    a = discriminator([image, np.array([1], "int32")], training=False)
    b = discriminator([image, np.array([8], "int32")], training=False)
    assert float(np.abs(np.asarray(a) - np.asarray(b)).max()) > 1e-6


def test_acgan_loss_terms_match_a_hand_computation():
    """D minimises -(L_S + L_C), G minimises -(L_C - L_S) (non-saturating source term)."""
    real_out = np.array([[1.5, 2.0, 0.0, -1.0], [-0.5, 0.1, 0.3, 0.2]], "float32")
    fake_out = np.array([[0.3, 0.0, 1.0, 0.5], [-2.0, 1.0, -1.0, 0.0]], "float32")
    labels, fake_labels = np.array([0, 2]), np.array([1, 0])

    class Fixed(keras.layers.Layer):
        """A 'discriminator' that returns given outputs, one batch per call."""

        def __init__(self, outputs):
            super().__init__()
            self.outputs = [tf.constant(o) for o in outputs]
            self.calls = 0

        def call(self, x, training=None):
            out = self.outputs[self.calls % len(self.outputs)]
            self.calls += 1
            return out

    def log_softmax(z):
        z = z.astype("float64")
        return z - np.log(np.exp(z).sum(axis=1, keepdims=True))

    def softplus(z):
        return np.log1p(np.exp(z.astype("float64")))

    ce = lambda out, y: -log_softmax(out[:, 1:])[np.arange(len(y)), y].mean()
    expected_d = (softplus(-real_out[:, 0]).mean() + softplus(fake_out[:, 0]).mean()
                  + ce(real_out, labels) + ce(fake_out, fake_labels))
    expected_g = softplus(-fake_out[:, 0]).mean() + ce(fake_out, fake_labels)

    gan = GAN(keras.Sequential([keras.layers.Identity()]), Fixed([real_out, fake_out]),
              noise_dim=2, num_classes=3, conditioning="auxiliary")
    gan.compile(d_optimizer=keras.optimizers.SGD(), g_optimizer=keras.optimizers.SGD())
    real_src, real_cls = gan.discriminate(tf.zeros((2, 1)))
    fake_src, fake_cls = gan.discriminate(tf.zeros((2, 1)))
    # The model's own objectives (what train_step differentiates), not a recomputation.
    terms = dict(labels=labels, real_cls=real_cls, fake_labels=fake_labels, fake_cls=fake_cls)
    d_loss = gan.d_objective(real_src, fake_src, **terms)
    g_loss = gan.g_objective(fake_src, fake_labels=fake_labels, fake_cls=fake_cls)
    assert float(d_loss) == pytest.approx(expected_d, rel=1e-5)
    assert float(g_loss) == pytest.approx(expected_g, rel=1e-5)
    # Swapping the real and the fake labels changes D's loss: each label set meets its logits.
    swapped = gan.d_objective(real_src, fake_src, **{**terms, "labels": fake_labels,
                                                      "fake_labels": labels})
    assert float(swapped) != pytest.approx(expected_d, rel=1e-3)


def test_acgan_train_step_reports_class_accuracies(acgan_smoke_run):
    from replication.runs import RunDir

    row = RunDir(acgan_smoke_run).history()[-1]
    for key in ("d_loss", "g_loss", "d_acc_real", "d_acc_fake", "cls_acc_real", "cls_acc_fake"):
        assert np.isfinite(row[key])
    assert 0.0 <= row["cls_acc_real"] <= 1.0


@pytest.mark.parametrize("experiment", ["cgan", "acgan"])
def test_figures_and_table_from_smoke_runs(experiment, cgan_smoke_run, acgan_smoke_run, tmp_path):
    run = {"cgan": cgan_smoke_run, "acgan": acgan_smoke_run}[experiment]
    assert main(["figures", experiment, "--run-dir", str(run), "--out", str(tmp_path)]) == 0
    for name in Q3_FILES[experiment]:
        assert (tmp_path / name).stat().st_size > 500, name
    manifest = json.loads((tmp_path / "manifest.json").read_text())["files"]
    assert set(Q3_FILES[experiment]) == set(manifest)
    if experiment == "acgan":
        table = (tmp_path / "table1.md").read_text()
        for row in SPEC_TABLE:
            assert "| " + " | ".join(row) + " |" in table


@pytest.mark.parametrize("experiment", ["cgan", "acgan"])
def test_killed_conditional_runs_resume_to_the_same_state(experiment, tmp_path):
    # (Quality tracking off: the DCGAN's resume test covers the resumed curves.)
    assert_resume_equals_uninterrupted(tmp_path, experiment, kill_at=(1, 1), epochs=2,
                                       train_examples=100, batch_size=25, track_samples=0)
