"""What each epoch saves for the figures: the arrays of ``snapshots/epoch_NNN.npz``.

Figure data is a layer above the models: a snapshot calls a trained model on fixed inputs
chosen once from the config's seed, so every epoch's snapshot shows the same points and the
figures never need the model again.

* :class:`VAESnapshot` – the arrays behind fig02-fig06 and both VAE GIFs;
* :class:`GANSnapshot` – the fixed-noise sample grid (class grids for the conditional models),
  from the trained generator and, when the run averages, the averaged one.
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
from keras import ops

from replication.data import unscale_images
from replication.models.gan import generate_images


class VAESnapshot:
    """The arrays behind fig02-fig06 and both GIFs, computed from the model after an epoch.

    Fixed inputs (latent grid, prior samples, test images to reconstruct and interpolate) are
    chosen once from the config's seed, so every epoch's snapshot shows the same points.
    """

    def __init__(self, config, test_split):
        rng = np.random.default_rng(config.seed)
        q = config.manifold_quantile
        axis = np.array([NormalDist().inv_cdf(p)
                         for p in np.linspace(q, 1 - q, config.manifold_size)], dtype=np.float32)
        # Row r, column c of the manifold: z = (axis[c], axis[-1 - r]) so z_2 grows upwards.
        grid = np.stack(np.meshgrid(axis, axis[::-1]), axis=-1).reshape(-1, 2)
        self.manifold_z = grid if config.latent_dim == 2 else None
        self.manifold_axis = axis
        self.prior_z = rng.standard_normal((config.num_samples, config.latent_dim)).astype("float32")
        labels = test_split.labels
        # One test image per class for the reconstructions (the first of each label).
        per_class = [int(np.flatnonzero(labels == c)[0]) for c in np.unique(labels)]
        self.reconstruction_index = np.array(
            (per_class * config.num_reconstructions)[:config.num_reconstructions])
        pairs = rng.choice(len(labels), size=(config.num_interpolations, 2), replace=False)
        self.interpolation_index = pairs
        self.interpolation_steps = config.interpolation_steps
        self.latent_index = np.sort(rng.permutation(len(labels))[:config.latent_points])
        self.images = test_split.images
        self.labels = labels

    def __call__(self, model) -> dict:
        def encode(index):
            x = self.images[index].astype("float32") / 255.0
            return np.asarray(model.encoder.predict(x, batch_size=500, verbose=0)[0])

        def decode(z):
            return unscale_images(model.decode(ops.convert_to_tensor(z)), "unit")

        out = {}
        if self.manifold_z is not None:
            out["manifold"] = decode(self.manifold_z)
            out["manifold_axis"] = self.manifold_axis
        out["samples"] = decode(self.prior_z)
        rec_z = encode(self.reconstruction_index)
        out["originals"] = self.images[self.reconstruction_index]
        out["reconstructions"] = decode(rec_z)
        ends = encode(self.interpolation_index.reshape(-1)).reshape(
            len(self.interpolation_index), 2, -1)
        t = np.linspace(0.0, 1.0, self.interpolation_steps, dtype=np.float32)[None, :, None]
        path = (1 - t) * ends[:, :1] + t * ends[:, 1:]
        out["interpolations"] = decode(path.reshape(-1, path.shape[-1]))
        out["latent_z"] = encode(self.latent_index).astype("float32")
        out["latent_labels"] = self.labels[self.latent_index]
        return out


class GANSnapshot:
    """The fixed-noise sample grid after each epoch (fig10/fig11, class grids, GIFs), and the
    same grid from the averaged generator (``ema_samples``) when averaging is on.

    Unconditional: ``num_fixed_noise`` samples.  Conditional: one row per class, the same
    ``columns`` noise vectors in every row, so rows differ only by the label.
    """

    def __init__(self, config, num_classes: int = 0, columns: int = 10):
        rng = np.random.default_rng(config.seed + 1)
        if num_classes:
            noise = rng.standard_normal((columns, config.noise_dim)).astype("float32")
            self.noise = np.tile(noise, (num_classes, 1))
            self.labels = np.repeat(np.arange(num_classes, dtype="int32"), columns)
            self.columns = columns
        else:
            self.noise = rng.standard_normal((config.num_fixed_noise, config.noise_dim)).astype("float32")
            self.labels = None
            self.columns = int(np.ceil(np.sqrt(config.num_fixed_noise)))

    def __call__(self, model) -> dict:
        noise = ops.convert_to_tensor(self.noise)
        labels = None if self.labels is None else ops.convert_to_tensor(self.labels)
        images = model.generate(noise, labels, training=False)
        out = {"samples": unscale_images(ops.convert_to_numpy(images), "tanh"),
               "columns": np.asarray(self.columns)}
        averaged = model.averaged_generator()
        if averaged is not None:  # the same inputs through the averaged generator
            images = generate_images(averaged, noise, labels if model.conditional else None)
            out["ema_samples"] = unscale_images(ops.convert_to_numpy(images), "tanh")
        if self.labels is not None:
            out["sample_labels"] = self.labels
        return out
