"""replication/data.py: bundled archive, tensorflow-datasets (mocked), class-per-folder trees,
the input pipeline."""

from __future__ import annotations

import tarfile

import numpy as np
import pytest

from replication import data
from replication.data import DataError, Split
from tests.helpers.images import make_image_tree


def test_bundled_mnist_is_the_real_dataset_in_official_label_order(mnist):
    assert mnist.train.images.shape == (60000, 28, 28, 1)
    assert mnist.test.images.shape == (10000, 28, 28, 1)
    assert mnist.train.images.dtype == np.uint8
    assert mnist.class_names == tuple(str(i) for i in range(10))
    # MNIST's well-known class frequencies (train split): 5923 zeros ... 5949 nines.
    counts = np.bincount(mnist.train.labels, minlength=10)
    assert counts.tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert np.bincount(mnist.test.labels).tolist()[:2] == [980, 1135]
    # Real digits: mostly black background, mean intensity ~33/255.
    assert 30 < mnist.train.images.mean() < 36


def test_bundled_archive_is_decoded_once_into_the_cache(tmp_path, capsys):
    first = data.load("mnist", "bundled", cache_dir=tmp_path, verbose=False)
    assert "decoding" in capsys.readouterr().out
    assert len(list(tmp_path.glob("mnist-png-*.npz"))) == 1
    second = data.load("mnist", "bundled", cache_dir=tmp_path, verbose=False)
    assert "decoding" not in capsys.readouterr().out
    np.testing.assert_array_equal(first.train.images[:100], second.train.images[:100])
    np.testing.assert_array_equal(first.test.labels, second.test.labels)


def test_source_is_printed_and_described(capsys):
    ds = data.load("mnist", "bundled")
    out = capsys.readouterr().out
    assert "bundled archive data/mnist-png.tar.gz" in out and "60000 train" in out
    assert ds.source == "bundled"


def test_folder_tree_with_train_and_test(tmp_path):
    make_image_tree(tmp_path, classes=("b", "a", "c"), per_class=3)
    ds = data.load("mnist", str(tmp_path), verbose=False)
    assert ds.class_names == ("a", "b", "c")  # sorted into label order
    assert ds.train.images.shape == (9, 28, 28, 1)
    assert ds.test.images.shape == (9, 28, 28, 1)
    assert ds.train.labels.tolist() == [0] * 3 + [1] * 3 + [2] * 3


def test_folder_tree_without_splits_and_numeric_class_order(tmp_path):
    make_image_tree(tmp_path, classes=("10", "2", "1"), per_class=2, splits=("",))
    ds = data.load("mnist", str(tmp_path), verbose=False)
    assert ds.class_names == ("1", "2", "10")
    assert ds.test is None
    assert len(ds.train) == 6


def test_folder_archive_is_accepted(tmp_path):
    tree = make_image_tree(tmp_path / "tree", per_class=2, size=(32, 32), mode="RGB")
    archive = tmp_path / "mine.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tree / "train", arcname="train")
    ds = data.load("cifar10", str(archive), cache_dir=tmp_path / "cache", verbose=False)
    assert ds.train.images.shape == (6, 32, 32, 3)


@pytest.mark.parametrize("case, message", [
    ("missing", "no such file or folder"),
    ("empty", "no images found"),
    ("unreadable", "cannot read image"),
    ("wrong_size", "needs 28x28x1"),
    ("mixed_sizes", "all images must have one size"),
    ("corrupt_archive", "not a readable .tar.gz"),
])
def test_bad_sources_end_in_one_clear_message(tmp_path, case, message):
    source = tmp_path / "src"
    if case == "empty":
        source.mkdir()
    elif case == "unreadable":
        make_image_tree(source, per_class=2)
        (source / "train" / "a" / "broken.png").write_bytes(b"not a png at all")
    elif case == "wrong_size":
        make_image_tree(source, per_class=2, size=(32, 32))
    elif case == "mixed_sizes":
        make_image_tree(source, per_class=2)
        make_image_tree(source, classes=("z",), per_class=1, size=(30, 30))
    elif case == "corrupt_archive":
        source = tmp_path / "bad.tar.gz"
        source.write_bytes(b"\x1f\x8b this is not gzip data")
    with pytest.raises(DataError) as info:
        data.load("mnist", str(source), cache_dir=tmp_path / "cache", verbose=False)
    text = str(info.value)
    assert message in text
    assert "\n" not in text


def test_missing_bundled_archive_names_the_alternatives(monkeypatch, tmp_path):
    monkeypatch.setattr(data, "BUNDLED_DIR", tmp_path)
    with pytest.raises(DataError, match="--data tfds"):
        data.load("mnist", "bundled", verbose=False)


def test_tfds_source_through_mock_data(tmp_path):
    tfds = pytest.importorskip("tensorflow_datasets")
    with tfds.testing.mock_data(num_examples=20, data_dir=str(tmp_path)):
        ds = data.load("cifar10", "tfds", verbose=False)
    assert ds.train.images.shape == (20, 32, 32, 3)
    assert ds.train.images.dtype == np.uint8
    assert ds.class_names[:3] == ("airplane", "automobile", "bird")
    assert "tensorflow-datasets" in ds.description


def test_tfds_failure_is_one_clear_message(monkeypatch):
    import tensorflow_datasets as tfds

    def offline(*args, **kwargs):
        raise ConnectionError("Failed to connect to the download host")

    monkeypatch.setattr(tfds, "builder", offline)
    with pytest.raises(DataError, match="bundled works offline"):
        data.load("mnist", "tfds", verbose=False)


def _labels_of(ds):
    return [b[1].numpy().tolist() for b in ds]


def test_epoch_order_depends_only_on_seed_and_epoch():
    split = Split(np.zeros((10, 2, 2, 1), np.uint8), np.arange(10, dtype=np.int32))
    full = _labels_of(data.training_dataset(split, 3, seed=7, value_range="unit", epochs=3))
    assert len(full) == 9  # 3 epochs x 3 full batches (the incomplete batch is dropped)
    resumed = _labels_of(data.training_dataset(split, 3, seed=7, value_range="unit",
                                               start_epoch=1, epochs=3))
    assert resumed == full[3:]
    assert full[:3] != full[3:6]  # each epoch is reshuffled
    other_seed = _labels_of(data.training_dataset(split, 3, seed=8, value_range="unit", epochs=1))
    assert other_seed != full[:3]


def test_value_ranges():
    split = Split(np.array([0, 255], np.uint8).reshape(2, 1, 1, 1), np.zeros(2, np.int32))
    unit = next(iter(data.training_dataset(split, 2, seed=0, value_range="unit", epochs=1)))[0]
    tanh = next(iter(data.training_dataset(split, 2, seed=0, value_range="tanh", epochs=1)))[0]
    assert sorted(unit.numpy().ravel().tolist()) == [0.0, 1.0]
    assert sorted(tanh.numpy().ravel().tolist()) == [-1.0, 1.0]
    assert sorted(data.unscale_images(tanh.numpy(), "tanh").ravel().tolist()) == [0, 255]


def test_the_input_pipelines_run_without_autotuning_so_their_iterators_delete_at_once():
    """tf.data's autotuning thread makes deleting an iterator (the end of every fit()) wait up
    to a minute; the training and evaluation pipelines turn it off, with fixed sizes, and still
    give every batch."""
    images = np.arange(10 * 4 * 4, dtype=np.uint8).reshape(10, 4, 4, 1)
    split = Split(images, np.arange(10) % 3)
    train = data.training_dataset(split, 4, seed=0, value_range="tanh", epochs=2)
    validation = data.evaluation_dataset(split, 4, value_range="tanh")
    for ds in (train, validation):
        assert ds.options().autotune.enabled is False
    assert [len(x) for x, _ in train] == [4, 4, 4, 4]
    assert [len(x) for x, _ in validation] == [4, 4, 2]
