"""A writer of the two ``torch.save`` layouts (pre-1.6 legacy and the 1.6+ zip), for the tests
only: the pure-Python pickler with a dispatch entry that writes a global by name
(``torch._utils._rebuild_tensor_v2``, ``torch.FloatStorage``) without importing it, and
storages as persistent ids; and a synthetic state dict with what it must read back as."""

from __future__ import annotations

import collections
import io
import pickle
import struct
import zipfile
from pathlib import Path

import numpy as np

from replication.models.torch_state import LEGACY_MAGIC, LEGACY_PROTOCOL, STORAGE_DTYPES


class _Name:
    """A module-level name the pickle refers to, written as a GLOBAL opcode."""

    def __init__(self, module: str, name: str):
        self.module, self.name = module, name

    def __call__(self, *args):  # pickle insists that a reduce function be callable
        raise NotImplementedError


class StorageRef:
    def __init__(self, key: str, array: np.ndarray):
        self.key, self.array = key, array


class TensorView:
    """A tensor as PyTorch pickles it: a storage, an offset, a shape and strides (elements)."""

    def __init__(self, storage: StorageRef, offset: int, shape, strides):
        self.storage, self.offset = storage, offset
        self.shape, self.strides = tuple(shape), tuple(strides)


_REBUILD = _Name("torch._utils", "_rebuild_tensor_v2")
_STORAGE_NAMES = {np.dtype(v): k for k, v in STORAGE_DTYPES.items()}
_TYPES = {name: _Name("torch", name) for name in STORAGE_DTYPES}


class _Writer(pickle._Pickler):
    dispatch = pickle._Pickler.dispatch.copy()

    def _save_name(self, obj):
        self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode())
        self.memoize(obj)

    dispatch[_Name] = _save_name

    def _save_tensor(self, obj):
        self.save_reduce(_REBUILD, (obj.storage, obj.offset, obj.shape, obj.strides, False,
                                    collections.OrderedDict()), obj=obj)

    dispatch[TensorView] = _save_tensor

    def persistent_id(self, obj):
        if isinstance(obj, StorageRef):
            return ("storage", _TYPES[_STORAGE_NAMES[obj.array.dtype]], obj.key, "cpu",
                    obj.array.size, None)
        return None


def contiguous(state: dict[str, np.ndarray]):
    """Each array in its own storage, C-ordered, as ``torch.save`` writes a fresh tensor."""
    entries = {}
    for i, (name, array) in enumerate(state.items()):
        array = np.array(array, order="C")  # (ascontiguousarray would make 0-d 1-d)
        strides = tuple(s // array.itemsize for s in array.strides) if array.ndim else ()
        entries[name] = TensorView(StorageRef(str(1000 + i), array.reshape(-1)), 0,
                                    array.shape, strides)
    return entries


def _pickled(entries) -> bytes:
    buffer = io.BytesIO()
    _Writer(buffer, protocol=2).dump(collections.OrderedDict(entries))
    return buffer.getvalue()


def _storages(entries) -> dict[str, np.ndarray]:
    out = {}
    for view in entries.values():
        out[view.storage.key] = view.storage.array
    return out


def write_legacy(path: Path, entries) -> Path:
    """``entries``: {name: TensorView} -> the pre-1.6 ``torch.save`` layout."""
    storages = _storages(entries)
    with open(path, "wb") as f:
        for header in (LEGACY_MAGIC, LEGACY_PROTOCOL,
                       {"protocol_version": LEGACY_PROTOCOL, "little_endian": True,
                        "type_sizes": {"short": 2, "int": 4, "long": 8}}):
            pickle.dump(header, f, protocol=2)
        f.write(_pickled(entries))
        pickle.dump(list(storages), f, protocol=2)
        for array in storages.values():
            f.write(struct.pack("<q", array.size))
            f.write(array.astype(array.dtype.newbyteorder("<")).tobytes())
    return path


def write_zip(path: Path, entries) -> Path:
    """The same tensors in the zip layout of PyTorch 1.6+."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", _pickled(entries))
        archive.writestr("archive/byteorder", "little")
        for key, array in _storages(entries).items():
            archive.writestr(f"archive/data/{key}", array.tobytes())
        archive.writestr("archive/version", "3\n")
    return path


def synthetic():
    """Tensors of several dtypes, a 0-d counter, a transposed (non-contiguous) view and two
    tensors sharing one storage, with what each must read back as."""
    rng = np.random.default_rng(0)
    conv = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    shared = StorageRef("shared", np.arange(20, dtype=np.float32))
    base = rng.standard_normal((3, 5)).astype(np.float64)
    transposed = StorageRef("t", base.reshape(-1))
    entries = {
        **contiguous({"conv.weight": conv,
                      "bn.num_batches_tracked": np.array(7, np.int64),
                      "half": rng.standard_normal(6).astype(np.float16),
                      "mask": np.array([True, False, True]),
                      "bytes": np.array([[0, 255], [7, 9]], np.uint8),
                      "ints": np.array([-3, 4], np.int32)}),
        "shared.first": TensorView(shared, 2, (2, 3), (3, 1)),
        "shared.second": TensorView(shared, 10, (5,), (2,)),
        "transposed": TensorView(transposed, 0, (5, 3), (1, 5)),  # base.T
    }
    expected = {"conv.weight": conv, "bn.num_batches_tracked": np.array(7, np.int64),
                "half": entries["half"].storage.array.reshape(6),
                "mask": np.array([True, False, True]),
                "bytes": np.array([[0, 255], [7, 9]], np.uint8),
                "ints": np.array([-3, 4], np.int32),
                "shared.first": np.arange(2, 8, dtype=np.float32).reshape(2, 3),
                "shared.second": np.arange(10, 20, 2, dtype=np.float32),
                "transposed": base.T}
    return entries, expected


def assert_same(got, expected):
    assert list(got) == list(expected)
    for name, want in expected.items():
        assert got[name].dtype == want.dtype, name
        assert got[name].shape == want.shape, name
        np.testing.assert_array_equal(got[name], want, err_msg=name)
        assert got[name].flags.c_contiguous
