"""Datasets: MNIST and CIFAR-10 (or any class-per-folder image tree) as ``tf.data`` pipelines.

Three sources, chosen explicitly and never switched silently:

``bundled`` (default)
    The archives shipped in the project's ``data/`` folder (class-per-folder PNG/JPEG trees in a
    ``.tar.gz``).  Decoded once into a ``.npz`` cache keyed by the archive's checksum, so later
    runs load in about a second.  Never touches the network.
``tfds``
    ``tensorflow-datasets``, the canonical copy.  Downloads when online; a copy already
    prepared in the TFDS data directory is used without network.
``PATH``
    A folder holding ``train/<class>/<image>`` (and optionally ``test/<class>/<image>``), or
    just ``<class>/<image>``, or a ``.tar.gz`` of either.  Class names sort into label order.

Every source yields the same in-memory arrays: ``uint8`` images of shape ``(N, H, W, C)`` and
``int32`` labels, which :func:`training_dataset` turns into a shuffled, batched, prefetched
``tf.data.Dataset`` whose per-epoch order depends only on ``(seed, epoch)`` – so an
interrupted run resumes on exactly the batches it would have seen.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tarfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from replication.errors import ReplicationError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BUNDLED_DIR = PROJECT_ROOT / "data"
BUNDLED_ARCHIVES = {"mnist": "mnist-png.tar.gz", "cifar10": "cifar10-jpg.tar.gz"}
IMAGE_SHAPES = {"mnist": (28, 28, 1), "cifar10": (32, 32, 3)}
CLASS_NAMES = {
    "mnist": tuple(str(i) for i in range(10)),
    "cifar10": ("airplane", "automobile", "bird", "cat", "deer",
                "dog", "frog", "horse", "ship", "truck"),
}
DATASET_TITLES = {"mnist": "MNIST", "cifar10": "CIFAR-10"}
# The training split's size of each dataset (the bundled archives, tensorflow-datasets).
TRAIN_SIZES = {"mnist": 60_000, "cifar10": 50_000}


def train_size(name: str) -> int:
    """Images in ``name``'s training split (a user's folder used as that dataset may differ)."""
    return TRAIN_SIZES[name]
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
_CACHE_VERSION = 1


class DataError(ReplicationError):
    """The data a user pointed at cannot be used; the message says why and what to do."""


def _brief(exc: BaseException) -> str:
    """The first line of an exception's message (library messages can span many lines)."""
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__


@dataclass
class Split:
    images: np.ndarray  # uint8, (N, H, W, C)
    labels: np.ndarray  # int32, (N,)

    def __len__(self) -> int:
        return len(self.labels)

    def take(self, n: int | None) -> "Split":
        if n is None or n >= len(self):
            return self
        # A stratified-enough, deterministic subset: a fixed permutation, then the first n.
        order = np.random.default_rng(1234).permutation(len(self))[:n]
        order.sort()
        return Split(self.images[order], self.labels[order])


@dataclass
class Dataset:
    name: str                 # "mnist" or "cifar10": the image shape and class meaning
    source: str               # "bundled", "tfds" or a path
    description: str          # human-readable, recorded in config.json and figures
    train: Split
    test: Split | None
    class_names: tuple[str, ...] = field(default_factory=tuple)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.train.images.shape[1:])  # type: ignore[return-value]

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


# --------------------------------------------------------------------------------------------
# Loading


def load(name: str, source: str = "bundled", *, cache_dir: str | os.PathLike | None = None,
         tfds_data_dir: str | None = None, verbose: bool = True) -> Dataset:
    """Load dataset ``name`` ("mnist" or "cifar10") from ``source``.

    Raises :class:`DataError` with a one-line explanation when the source cannot be used.
    """
    if name not in IMAGE_SHAPES:
        raise DataError(f"unknown dataset {name!r}; choose one of {', '.join(IMAGE_SHAPES)}")
    if source == "bundled":
        archive = BUNDLED_DIR / BUNDLED_ARCHIVES[name]
        if not archive.exists():
            raise DataError(
                f"bundled archive {archive} is missing; restore it with `git checkout -- data/` "
                "or use --data tfds / --data PATH")
        train, test, classes = _load_archive_cached(archive, cache_dir)
        description = f"{DATASET_TITLES[name]}, bundled archive data/{archive.name}"
        if name == "cifar10":
            description += " (JPEG re-encoding of CIFAR-10)"
    elif source == "tfds":
        train, test, classes = _load_tfds(name, tfds_data_dir)
        description = f"{DATASET_TITLES[name]}, tensorflow-datasets '{name}'"
    else:
        path = Path(source).expanduser()
        if not path.exists():
            raise DataError(f"--data {source}: no such file or folder")
        if path.is_file():
            if not path.name.endswith((".tar.gz", ".tgz", ".tar")):
                raise DataError(f"--data {source}: expected a folder or a .tar.gz of class folders")
            train, test, classes = _load_archive_cached(path, cache_dir)
        else:
            train, test, classes = _read_tree(_FolderTree(path), expected_shape=IMAGE_SHAPES[name])
        description = f"image folder {path.resolve()} (used as {DATASET_TITLES[name]}-shaped data)"
    dataset = Dataset(name, source, description, train, test, tuple(classes))
    check_image_shape(dataset, IMAGE_SHAPES[name])
    if verbose:
        n_test = len(test) if test is not None else 0
        print(f"data: {description}: {len(train)} train / {n_test} test images, "
              f"{len(classes)} classes", flush=True)
    return dataset


def check_image_shape(dataset: Dataset, expected: tuple[int, int, int]) -> None:
    if tuple(dataset.image_shape) != tuple(expected):
        raise DataError(
            f"{dataset.description}: images are {_fmt_shape(dataset.image_shape)} but this model "
            f"needs {_fmt_shape(expected)}; resize the images or choose the matching --dataset")


def _fmt_shape(shape) -> str:
    return "x".join(str(int(s)) for s in shape)


# --------------------------------------------------------------------------------------------
# Class-per-folder trees, from a folder or an archive


class _FolderTree:
    """Lists and reads ``[split/]class/image`` files below a folder."""

    def __init__(self, root: Path):
        self.root = root

    def members(self) -> list[str]:
        return sorted(str(p.relative_to(self.root)).replace(os.sep, "/")
                      for p in self.root.rglob("*") if p.is_file())

    def read(self, member: str) -> bytes:
        return (self.root / member).read_bytes()

    def describe(self) -> str:
        return str(self.root)


class _ArchiveTree:
    def __init__(self, path: Path):
        self.path = path
        try:
            self._tar = tarfile.open(path)
            self._infos = {m.name.lstrip("./"): m for m in self._tar.getmembers() if m.isfile()}
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise DataError(f"{path}: not a readable .tar.gz archive ({_brief(exc)}); "
                            "replace it with an intact copy") from None

    def members(self) -> list[str]:
        return sorted(self._infos)

    def read(self, member: str) -> bytes:
        try:
            return self._tar.extractfile(self._infos[member]).read()
        except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
            raise DataError(f"{self.path}: archive is corrupt near {member} ({_brief(exc)}); "
                            "replace it with an intact copy") from None

    def describe(self) -> str:
        return str(self.path)


def _natural_key(text: str):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", text)]


def _read_tree(tree, expected_shape: tuple[int, int, int] | None = None):
    """Decode every image of a class-per-folder tree into (train, test, class_names)."""
    from PIL import Image, UnidentifiedImageError

    images_by_split: dict[str, dict[str, list[str]]] = {}
    for member in tree.members():
        parts = member.split("/")
        if not member.lower().endswith(IMAGE_SUFFIXES) or any(p.startswith(".") for p in parts):
            continue
        if len(parts) == 3 and parts[0] in ("train", "test"):
            split, cls = parts[0], parts[1]
        elif len(parts) == 2:
            split, cls = "train", parts[0]
        else:
            continue
        images_by_split.setdefault(split, {}).setdefault(cls, []).append(member)
    if "train" not in images_by_split:
        raise DataError(
            f"{tree.describe()}: no images found; expected train/<class>/<image> "
            f"(or <class>/<image>) with files ending in {', '.join(IMAGE_SUFFIXES)}")
    classes = sorted(images_by_split["train"], key=_natural_key)
    if "test" in images_by_split:
        extra = sorted(set(images_by_split["test"]) - set(classes))
        if extra:
            raise DataError(f"{tree.describe()}: test/ has classes missing from train/: {extra}")

    mode = None
    if expected_shape is not None:
        mode = "L" if expected_shape[2] == 1 else "RGB"
    splits = {}
    for split, by_class in images_by_split.items():
        arrays, labels = [], []
        for label, cls in enumerate(classes):
            for member in sorted(by_class.get(cls, []), key=_natural_key):
                try:
                    with Image.open(io.BytesIO(tree.read(member))) as img:
                        img.load()
                        if mode is None:
                            mode = "L" if img.mode in ("L", "1", "I", "I;16", "LA") else "RGB"
                        array = np.asarray(img.convert(mode), dtype=np.uint8)
                except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
                    raise DataError(f"{tree.describe()}: cannot read image {member} ({_brief(exc)}); "
                                    "remove or replace it") from None
                if array.ndim == 2:
                    array = array[:, :, None]
                if arrays and array.shape != arrays[0].shape:
                    raise DataError(
                        f"{tree.describe()}: image {member} is {_fmt_shape(array.shape)} but "
                        f"earlier images are {_fmt_shape(arrays[0].shape)}; all images must "
                        "have one size")
                arrays.append(array)
                labels.append(label)
        splits[split] = Split(np.stack(arrays), np.asarray(labels, dtype=np.int32))
    return splits["train"], splits.get("test"), classes


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def default_cache_dir() -> Path:
    env = os.environ.get("REPLICATION_CACHE")
    if env:
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "replication"


def _load_archive_cached(archive: Path, cache_dir):
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    key = _sha256(archive)[:16]
    cached = cache / f"{archive.name.split('.')[0]}-{key}-v{_CACHE_VERSION}.npz"
    if cached.exists():
        try:
            with np.load(cached, allow_pickle=False) as npz:
                test = Split(npz["test_images"], npz["test_labels"]) if "test_images" in npz else None
                return (Split(npz["train_images"], npz["train_labels"]), test,
                        [str(c) for c in npz["class_names"]])
        except (OSError, ValueError, KeyError):
            print(f"data: cache {cached} is unreadable; decoding the archive again", flush=True)
    print(f"data: decoding {archive} once into {cached} ...", flush=True)
    train, test, classes = _read_tree(_ArchiveTree(archive))
    arrays = dict(train_images=train.images, train_labels=train.labels,
                  class_names=np.asarray(classes))
    if test is not None:
        arrays.update(test_images=test.images, test_labels=test.labels)
    try:
        cache.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(f".tmp{os.getpid()}.npz")
        np.savez(tmp, **arrays)
        os.replace(tmp, cached)
    except OSError as exc:  # a read-only home still trains, just without the cache
        print(f"data: could not write the cache ({exc}); continuing without it", flush=True)
    return train, test, classes


# --------------------------------------------------------------------------------------------
# tensorflow-datasets



def _load_tfds(name: str, data_dir: str | None):
    try:
        import tensorflow_datasets as tfds
    except ImportError as exc:  # pragma: no cover - a dependency of the package
        raise DataError(f"--data tfds needs tensorflow-datasets ({exc}); "
                        "pip install tensorflow-datasets importlib_resources") from None
    try:
        builder = tfds.builder(name, data_dir=data_dir)  # our dataset names are TFDS's
        builder.download_and_prepare()
        arrays = {}
        for split in ("train", "test"):
            # Batched iteration, not batch_size=-1: the latter aborts the process on datasets
            # of unknown cardinality (seen with tfds.testing.mock_data, TF 2.21).
            ds = builder.as_dataset(split=split, as_supervised=True).batch(10_000)
            images, labels = zip(*tfds.as_numpy(ds))
            arrays[split] = Split(np.concatenate(images).astype(np.uint8),
                                  np.concatenate(labels).astype(np.int32))
    except DataError:
        raise
    except Exception as exc:  # noqa: BLE001 - tfds raises many types; all mean "not available"
        raise DataError(
            f"--data tfds: tensorflow-datasets could not provide {name!r} ({type(exc).__name__}: "
            f"{_brief(exc)}); it needs network once, or a prepared copy in the TFDS data dir. "
            "The default --data bundled works offline") from None
    # TFDS labels are the official integers; its label *names* for CIFAR-10 are only filled in
    # from the downloaded metadata, so name the classes here.
    return arrays["train"], arrays["test"], list(CLASS_NAMES[name])


# --------------------------------------------------------------------------------------------
# tf.data pipelines


def scale_images(images, value_range: str):
    """uint8 tensor -> float32 in ``[0, 1]`` (``"unit"``) or ``[-1, 1]`` (``"tanh"``)."""
    import tensorflow as tf

    x = tf.cast(images, tf.float32)
    if value_range == "unit":
        return x / 255.0
    if value_range == "tanh":
        return x / 127.5 - 1.0
    raise ValueError(f"unknown value range {value_range!r}")


def unscale_images(images: np.ndarray, value_range: str) -> np.ndarray:
    """Inverse of :func:`scale_images`, to uint8 (for snapshots and figures)."""
    x = np.asarray(images, dtype=np.float32)
    if value_range == "tanh":
        x = (x + 1.0) / 2.0
    return np.clip(np.rint(x * 255.0), 0, 255).astype(np.uint8)


def steps_per_epoch(num_examples: int, batch_size: int) -> int:
    return num_examples // batch_size


def epoch_examples(config) -> int:
    """The training images an epoch of ``config`` sees: its ``train_examples``, at most the
    whole training split of its dataset."""
    size = train_size(config.dataset)
    return min(config.train_examples or size, size)


# The input pipeline's fixed sizes (see _fixed_pipeline): batches assembled in parallel, and
# batches prepared ahead of the training step.
INPUT_PARALLELISM = 2
INPUT_PREFETCH = 2


def training_dataset(split: Split, batch_size: int, *, seed: int, value_range: str,
                     start_epoch: int = 0, epochs: int = 1, with_labels: bool = True):
    """Batches for epochs ``start_epoch .. epochs-1``, back to back, incomplete batches dropped.

    Epoch ``e`` visits the examples in the order ``stateless_shuffle(range(N), (seed, e))``:
    the order depends only on the seed and the epoch number, so a resumed run sees exactly the
    batches an uninterrupted one would.  Use with ``fit(..., steps_per_epoch=N // batch_size)``.
    """
    import tensorflow as tf

    n = len(split)
    if n < batch_size:
        raise DataError(f"only {n} training images, fewer than one batch of {batch_size}")
    images = tf.constant(split.images)
    labels = tf.constant(split.labels)

    def epoch_batches(epoch):
        order = tf.random.experimental.stateless_shuffle(
            tf.range(n, dtype=tf.int64), seed=tf.stack([tf.constant(seed, tf.int64), epoch]))
        return tf.data.Dataset.from_tensor_slices(order).batch(batch_size, drop_remainder=True)

    def gather(index):
        x = scale_images(tf.gather(images, index), value_range)
        if with_labels:
            return x, tf.gather(labels, index)
        return x

    ds = tf.data.Dataset.range(start_epoch, epochs).flat_map(epoch_batches)
    ds = ds.map(gather, num_parallel_calls=INPUT_PARALLELISM, deterministic=True)
    return _fixed_pipeline(ds.prefetch(INPUT_PREFETCH))


def evaluation_dataset(split: Split, batch_size: int, *, value_range: str,
                       with_labels: bool = True):
    """The split in its stored order, batched (last batch kept), for validation."""
    import tensorflow as tf

    x = split.images
    ds = tf.data.Dataset.from_tensor_slices((x, split.labels) if with_labels else x)
    ds = ds.batch(batch_size)
    if with_labels:
        ds = ds.map(lambda a, b: (scale_images(a, value_range), b))
    else:
        ds = ds.map(lambda a: scale_images(a, value_range))
    return _fixed_pipeline(ds.prefetch(INPUT_PREFETCH))


def _fixed_pipeline(ds):
    """``ds`` without tf.data's autotuning: its optimisation thread wakes at intervals that
    grow to a minute, and deleting the iterator (when ``fit()`` returns) waits for it - 0 to
    60 s at the end of every training measured here (52 s after 90 s of iterating, 0.0 s
    without; docs/speed.md).  The pipeline is a gather and a scaling, hundreds of times faster
    than any training step (the benchmark's input rate), so fixed sizes lose nothing."""
    import tensorflow as tf

    options = tf.data.Options()
    options.autotune.enabled = False
    return ds.with_options(options)
