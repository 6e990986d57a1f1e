"""Behaviour a maintainer would otherwise break without noticing: refused checkpoints and
settings, config overrides, loss details, save/reload of every custom object, and the error
policy (a refused write, a mistyped --resume)."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from replication import experiments
from replication.__main__ import main
from replication.checkpoint import CheckpointError, build_optimizers, load_state, save_state
from replication.config import ConfigError
from replication.experiments import make_config
from replication.data import Dataset, Split
from replication.errors import ReplicationError, RunError, run_command
from replication.models.gan import GAN
from replication.models.losses import LOSSES, real_decision_threshold
from replication.runs import PARTIAL_MARK, RunDir


def _tiny(shape=(32, 32, 3), classes=10):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (64, *shape), dtype=np.uint8)
    return Dataset("cifar10", "test", "random", Split(images, np.arange(64) % classes), None,
                   tuple(map(str, range(classes))))


def _built(experiment, dataset=None, **overrides):
    config = make_config(experiment, "smoke", **overrides)
    keras.utils.set_random_seed(0)
    built = experiments.get(experiment).build(config, dataset or _tiny())
    build_optimizers(built.model, built.optimizers, built.optimizer_variables)
    return built


def _partial_files(folder):
    return [p for p in folder.rglob("*") if PARTIAL_MARK in p.name]


# --- checkpoints and --resume ----------------------------------------------------------------

def test_a_checkpoint_of_another_architecture_is_refused(tmp_path):
    dcgan = _built("dcgan")
    path = tmp_path / "state.npz"
    save_state(path, dcgan.model, dcgan.optimizers, epoch=1)
    wider = _built("dcgan", gen_filters=(128, 64, 32))  # same layers, other shapes
    with pytest.raises(CheckpointError, match="different architecture"):
        load_state(path, wider.model, wider.optimizers)
    acgan = _built("acgan")  # other layers altogether
    with pytest.raises(CheckpointError, match="different architecture"):
        load_state(path, acgan.model, acgan.optimizers)


def test_resume_refuses_changed_settings_but_may_raise_epochs(tmp_path, capsys):
    run = tmp_path / "run"
    base = ["train", "dcgan", "--profile", "smoke", "--dataset", "mnist", "--run-dir", str(run),
            "--quiet"]
    args = base + ["--epochs", "1"]
    assert main(args) == 0
    capsys.readouterr()
    assert main(args + ["--resume", "--real-label", "0.9"]) == 2
    err = capsys.readouterr().err
    assert "cannot change real_label" in err and len(err.strip().splitlines()) == 1
    assert main(args + ["--resume", "--data", "tfds"]) == 2
    assert "data source" in capsys.readouterr().err
    assert main(base + ["--epochs", "2", "--resume"]) == 0
    assert RunDir(run).info()["epochs_done"] == 2


def test_resume_of_a_missing_run_folder_is_refused(tmp_path, capsys):
    missing = tmp_path / "typo"
    assert main(["train", "vae", "--profile", "smoke", "--run-dir", str(missing),
                 "--resume"]) == 2
    err = capsys.readouterr().err
    assert "--resume: there is no run in" in err and str(missing) in err
    assert not missing.exists()


# --- configs ---------------------------------------------------------------------------------

def test_per_dataset_overrides_and_the_unknown_setting_error():
    assert make_config("classifier", "report", dataset="mnist").widths == (32, 64, 128)
    assert make_config("classifier", "report", dataset="mnist").flip is False
    assert make_config("classifier", "report").widths == (64, 128, 256)
    assert make_config("dcgan", "quick", dataset="mnist").epochs == 2
    assert make_config("dcgan", "quick").epochs == 4
    # An explicit value beats the dataset override.
    assert make_config("dcgan", "quick", dataset="mnist", epochs=7).epochs == 7
    with pytest.raises(ConfigError, match="vae has no setting noise_dim"):
        make_config("vae", "smoke", noise_dim=3)
    with pytest.raises(ConfigError, match="unknown profile"):
        make_config("vae", "long")


# --- losses and the training step ------------------------------------------------------------

@pytest.mark.parametrize("loss, real_accuracy", [("least-squares", 0.0), ("non-saturating", 1.0)])
def test_least_squares_accuracy_threshold_is_one_half(loss, real_accuracy):
    """A D whose output is always 0.4 calls every image fake under least squares (targets
    0 and 1: threshold 0.5) and real under the sigmoid losses (threshold 0 on the logit)."""
    assert real_decision_threshold(LOSSES["least-squares"]) == 0.5
    assert real_decision_threshold(LOSSES["non-saturating"]) == 0.0
    generator = keras.Sequential([keras.Input((2,)), keras.layers.Dense(16),
                                  keras.layers.Reshape((4, 4, 1))])
    discriminator = keras.Sequential([
        keras.Input((4, 4, 1)), keras.layers.Flatten(),
        keras.layers.Dense(1, kernel_initializer="zeros",
                           bias_initializer=keras.initializers.Constant(0.4))])
    gan = GAN(generator, discriminator, noise_dim=2)
    gan.compile(d_optimizer=keras.optimizers.SGD(0.0), g_optimizer=keras.optimizers.SGD(0.0),
                loss=loss)
    logs = gan.train_on_batch(np.zeros((8, 4, 4, 1), np.float32), return_dict=True)
    assert float(np.ravel(logs["d_acc_real"])[0]) == real_accuracy
    assert float(np.ravel(logs["d_acc_fake"])[0]) == 1.0 - real_accuracy


def test_a_conditional_gan_needs_labelled_batches():
    gan = _built("cgan").model
    images = np.zeros((32, 32, 32, 3), np.float32)
    with pytest.raises(ValueError, match=r"\(image, label\) batches"):
        gan.train_on_batch(images)


def test_share_fakes_falls_back_to_separate_passes_with_several_critic_steps():
    gan = _built("dcgan", loss="wasserstein", critic_steps=3).model
    assert gan.share_fakes and gan.critic_steps == 3
    calls = []
    shared, separate = gan._shared_step, gan._discriminator_step
    gan._shared_step = lambda *a: calls.append("shared") or shared(*a)
    gan._discriminator_step = lambda *a: calls.append("separate") or separate(*a)
    gan.run_eagerly = True
    x = np.random.default_rng(0).uniform(-1, 1, (32, 32, 32, 3)).astype(np.float32)
    for _ in range(3):
        gan.train_on_batch(x)
    assert calls == ["separate"] * 3
    assert int(gan.d_optimizer.iterations) == 3 and int(gan.g_optimizer.iterations) == 1


# --- save and reload of every custom object ---------------------------------------------------

def test_classifier_loss_and_schedule_survive_save_and_reload(tmp_path):
    from replication.models.classifier import SmoothedSparseCrossentropy

    built = _built("classifier", dataset=_tiny())
    model = built.model
    path = tmp_path / "classifier.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded.loss, SmoothedSparseCrossentropy)
    assert loaded.loss.smoothing == model.loss.smoothing == 0.2
    # (Keras keeps a schedule in ``_learning_rate``; ``learning_rate`` is its current value.)
    schedule, again = model.optimizer._learning_rate, loaded.optimizer._learning_rate
    assert type(again).__name__ == "_Warmup"
    for step in (0, 3, 10):
        assert float(again(step)) == pytest.approx(float(schedule(step)))
    x = np.random.default_rng(0).uniform(0, 1, (4, 32, 32, 3)).astype(np.float32)
    np.testing.assert_allclose(loaded(x), model(x), atol=1e-6)


def test_effnet_vae_saves_and_reloads_as_keras(tmp_path):
    import replication  # noqa: F401  (registers the project's classes: what a user does)

    mnist = _tiny(shape=(28, 28, 1))
    built = _built("effnet_vae", dataset=mnist, encoder_weights="none")
    path = tmp_path / "effnet_vae.keras"
    built.model.save(path)
    loaded = keras.saving.load_model(path)
    x = np.random.default_rng(0).uniform(0, 1, (2, 28, 28, 1)).astype(np.float32)
    mean, log_var = built.model.encoder(x, training=False)
    mean2, log_var2 = loaded.encoder(x, training=False)
    np.testing.assert_allclose(mean2, mean, atol=1e-5)
    z = np.zeros((2, built.model.encoder.outputs[0].shape[-1]), np.float32)
    np.testing.assert_allclose(loaded.decode(z), built.model.decode(z), atol=1e-5)


def test_generators_and_the_averaged_generator_reload(tmp_path):
    built = _built("acgan")
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


# --- the error policy ------------------------------------------------------------------------

def test_a_refused_checkpoint_write_ends_in_one_line_keeping_the_last_epoch(
        tmp_path, monkeypatch, capsys):
    """A full disk while the checkpoint of epoch 2 is written: one line naming the path and
    what was kept, status.json says failed, epoch 1's checkpoint is intact, no partial file."""
    import replication.checkpoint as checkpoint

    real_savez, calls = np.savez, []

    def full_disk(file, **arrays):
        calls.append(file)
        if len(calls) == 2:  # the second epoch: write a little, then the disk is full
            with open(file, "wb") as fh:
                fh.write(b"\0" * 100)
            raise OSError(28, "No space left on device")
        return real_savez(file, **arrays)

    monkeypatch.setattr(checkpoint.np, "savez", full_disk)
    run = tmp_path / "run"
    code = main(["train", "vae", "--profile", "smoke", "--run-dir", str(run), "--quiet"])
    assert code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0]
    assert "checkpoint/state.npz" in err[0] and "No space left on device" in err[0]
    assert "epoch 1 is kept" in err[0] and "--resume" in err[0]
    status = json.loads((run / "status.json").read_text())
    assert status["state"].startswith("failed: cannot write") and status["epochs_done"] == 1
    with np.load(run / "checkpoint" / "state.npz") as npz:
        assert int(npz["epoch"]) == 1
    assert _partial_files(run) == []
    monkeypatch.setattr(checkpoint.np, "savez", real_savez)
    assert main(["train", "vae", "--profile", "smoke", "--run-dir", str(run), "--resume",
                 "--quiet"]) == 0  # after freeing space, the run continues


def test_a_refused_figure_write_leaves_no_partial_file(vae_smoke_run, tmp_path, monkeypatch,
                                                       capsys):
    import matplotlib.figure

    def fails(self, fname, *args, **kwargs):
        with open(fname, "wb") as fh:
            fh.write(b"\x89PNG half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", fails)
    out = tmp_path / "out"
    assert main(["figures", "vae", "--run-dir", str(vae_smoke_run), "--out", str(out),
                 "--only", "fig03"]) == 2
    err = capsys.readouterr().err
    assert "cannot write" in err and "fig03.png" in err
    assert not (out / "fig03.png").exists() and _partial_files(out) == []


def test_run_command_maps_errors_to_exit_codes_and_lets_bugs_through(capsys):
    def bad_input():
        raise ConfigError("a bad value")

    def stopped():
        raise RunError("stopped; kept epoch 3")

    assert run_command(bad_input) == 2
    assert run_command(stopped, hint="rerun to continue") == 1
    err = capsys.readouterr().err.splitlines()
    assert err == ["error: a bad value", "error: stopped; kept epoch 3; rerun to continue"]
    assert issubclass(ConfigError, ReplicationError)
    with pytest.raises(ZeroDivisionError):  # a bug is not a user error: it is not hidden
        run_command(lambda: 1 / 0)


def test_every_error_class_of_the_package_follows_the_policy():
    from replication.checkpoint import CheckpointError
    from replication.data import DataError
    from replication.distribute import StrategyError
    from replication.extractors import ExtractorError
    from replication.figures import FigureError
    from replication.models.efficientnet_vae import EncoderWeightsError
    from replication.train import TrainingError

    for cls in (ConfigError, DataError, StrategyError, ExtractorError, FigureError,
                EncoderWeightsError):
        assert issubclass(cls, ReplicationError) and cls.exit_code == 2, cls
    for cls in (TrainingError, CheckpointError):
        assert issubclass(cls, RunError) and cls.exit_code == 1, cls


def test_a_conditional_gan_needs_at_least_two_classes():
    with pytest.raises(ValueError, match="num_classes >= 2"):
        GAN(keras.Sequential([keras.layers.Identity()]), keras.Sequential([keras.layers.Identity()]),
            noise_dim=2, num_classes=0, conditioning="input")
