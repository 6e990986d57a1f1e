"""replication/snapshots.py: a run's per-epoch snapshot is what its saved model draws from the
fixed inputs."""

from __future__ import annotations

import keras
import numpy as np

from replication.runs import RunDir


def test_final_model_loads_and_decodes_the_snapshot_images(vae_smoke_run):
    run = RunDir(vae_smoke_run)
    model = keras.saving.load_model(run.model_dir / "vae.keras")
    snap = run.load_snapshot(2)
    from replication.snapshots import VAESnapshot
    from replication.experiments import make_config
    from replication import data

    config = make_config("vae", "smoke")
    fixed = VAESnapshot(config, data.load("mnist", verbose=False).test)
    decoded = np.asarray(model.decode(fixed.prior_z))
    np.testing.assert_array_equal(np.clip(np.rint(decoded * 255), 0, 255).astype(np.uint8),
                                  snap["samples"])


def test_saved_networks_reproduce_the_snapshot(dcgan_smoke_run):
    from replication.experiments import make_config
    from replication.snapshots import GANSnapshot

    run = RunDir(dcgan_smoke_run)
    generator = keras.saving.load_model(run.model_dir / "generator.keras")
    keras.saving.load_model(run.model_dir / "discriminator.keras")
    fixed = GANSnapshot(make_config("dcgan", "smoke"))
    images = np.asarray(generator(fixed.noise, training=False))
    np.testing.assert_array_equal(
        np.clip(np.rint((images + 1) / 2 * 255), 0, 255).astype(np.uint8),
        run.load_snapshot(2)["samples"])
