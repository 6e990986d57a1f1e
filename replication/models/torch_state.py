"""Read a PyTorch state dict (``torch.save(model.state_dict(), path)``) with NumPy alone.

PyTorch is not a dependency: the file's pickles are read with a restricted unpickler that knows
only the few globals a state dict refers to (``collections.OrderedDict``, the tensor rebuild
functions of ``torch._utils`` and the typed storage classes), mapped onto NumPy.  Anything else
in the pickle (a class of a model, an optimizer, arbitrary code) is refused, so reading an
untrusted file cannot run code.

Two layouts are understood:

* the legacy one (before PyTorch 1.6): five records back to back -- a pickled magic number, a
  pickled protocol version (1001), pickled system info (byte order, type sizes), the pickled
  dict whose tensors name their storages by persistent id, a pickled list of storage keys, and
  then, for each key in that order, the storage: its element count as a little-endian int64
  followed by the raw elements;
* the zip one (PyTorch 1.6 and later): ``<archive>/data.pkl`` holding the dict, and one raw
  file ``<archive>/data/<key>`` per storage.

A tensor is a view into a storage (an offset, a shape and strides counted in elements); several
tensors may share one storage.  :func:`read_state_dict` returns every tensor as its own
C-contiguous NumPy array.
"""

from __future__ import annotations

import collections
import io
import pickle
import struct
import zipfile
from pathlib import Path

import numpy as np

from replication.errors import ReplicationError

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL = 1001

# torch.<Name>Storage -> NumPy dtype (bfloat16 has no NumPy dtype and is refused).
STORAGE_DTYPES = {
    "DoubleStorage": np.float64, "FloatStorage": np.float32, "HalfStorage": np.float16,
    "LongStorage": np.int64, "IntStorage": np.int32, "ShortStorage": np.int16,
    "CharStorage": np.int8, "ByteStorage": np.uint8, "BoolStorage": np.bool_,
}


class TorchStateError(ReplicationError):
    """A file is not a readable PyTorch state dict; the message names the file and the fault."""


class _Storage:
    """A storage named by the pickle, filled in once its bytes are read."""

    def __init__(self, key: str, dtype, numel: int):
        self.key, self.dtype, self.numel = key, np.dtype(dtype), numel
        self.array: np.ndarray | None = None


class _TensorRef:
    """What ``torch._utils._rebuild_tensor_v2`` would build, resolved after the storages."""

    def __init__(self, storage: _Storage, offset: int, size, stride):
        self.storage, self.offset = storage, int(offset)
        self.size, self.stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)

    def resolve(self, name: str) -> np.ndarray:
        storage = self.storage
        if storage.array is None:
            raise ValueError(f"tensor {name!r}: its storage {storage.key!r} was never read")
        if len(self.size) != len(self.stride) or min(self.size, default=1) < 0 or \
                min(self.stride, default=0) < 0 or self.offset < 0:
            raise ValueError(f"tensor {name!r}: malformed shape {self.size} / strides "
                             f"{self.stride} / offset {self.offset}")
        if 0 in self.size:
            return np.zeros(self.size, storage.dtype)
        last = self.offset + sum((n - 1) * s for n, s in zip(self.size, self.stride))
        if last >= storage.array.size:
            raise ValueError(f"tensor {name!r} (shape {self.size}, strides {self.stride}, offset "
                             f"{self.offset}) reaches past its storage of "
                             f"{storage.array.size} elements")
        item = storage.array.itemsize
        view = np.lib.stride_tricks.as_strided(
            storage.array[self.offset:], shape=self.size,
            strides=tuple(s * item for s in self.stride), writeable=False)
        return np.array(view, order="C")  # a copy, even of a 0-d tensor


def _rebuild_tensor(storage, storage_offset, size, stride, *_ignored):
    if not isinstance(storage, _Storage):
        raise pickle.UnpicklingError("a tensor whose storage is not a persistent storage")
    return _TensorRef(storage, storage_offset, size, stride)


def _rebuild_parameter(data, requires_grad=False, backward_hooks=None, *_ignored):
    return data  # an nn.Parameter in a state dict: its tensor


class _StorageType:
    def __init__(self, name: str):
        self.name = name


class _Unpickler(pickle.Unpickler):
    """Knows only what a state dict refers to; storages by persistent id."""

    def __init__(self, file, storages: dict[str, _Storage]):
        super().__init__(file)
        self.storages = storages

    def find_class(self, module, name):
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return _rebuild_tensor
        if module == "torch._utils" and name == "_rebuild_parameter":
            return _rebuild_parameter
        if module == "torch" and name in STORAGE_DTYPES:
            return _StorageType(name)
        if module == "torch" and name == "BFloat16Storage":
            raise pickle.UnpicklingError("bfloat16 tensors are not supported (no NumPy dtype)")
        raise pickle.UnpicklingError(f"it refers to {module}.{name}, which a plain state dict "
                                     "does not")

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"unknown persistent id {str(pid)[:80]}")
        storage_type, key, _location, numel = pid[1:5]
        if len(pid) > 5 and pid[5] is not None:
            raise pickle.UnpicklingError("storage views (a pre-1.0 format) are not supported")
        if not isinstance(storage_type, _StorageType):
            raise pickle.UnpicklingError(f"storage {key!r} has no known type")
        key = str(key)
        storage = self.storages.get(key)
        if storage is None:
            storage = _Storage(key, STORAGE_DTYPES[storage_type.name], int(numel))
            self.storages[key] = storage
        return storage


def read_state_dict(path) -> dict[str, np.ndarray]:
    """``{name: array}`` of the PyTorch state dict saved in ``path`` (legacy or zip format).

    Raises :class:`TorchStateError` when the file is missing, truncated, corrupt or holds
    something other than a flat mapping of names to tensors.
    """
    path = Path(path)
    try:
        if zipfile.is_zipfile(path):
            raw, storages = _read_zip(path)
        else:
            with open(path, "rb") as f:
                raw, storages = _read_legacy(f)
        return _resolve(raw, storages)
    except TorchStateError:
        raise
    except FileNotFoundError:
        raise TorchStateError(f"{path}: no such file") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, KeyError, IndexError,
            AttributeError, struct.error, zipfile.BadZipFile, MemoryError,
            OverflowError, OSError) as exc:
        what = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else \
            type(exc).__name__
        if isinstance(exc, EOFError):
            what = f"the file ends early ({what})" if str(exc).strip() else "the file ends early"
        raise TorchStateError(f"{path}: not a readable PyTorch state dict: {what}") from None


class _PlainUnpickler(pickle.Unpickler):
    """For the legacy headers and the storage list: plain values only, no globals at all."""

    def find_class(self, module, name):
        raise pickle.UnpicklingError(f"it refers to {module}.{name} where plain values belong")


def _read_legacy(f):
    magic = _PlainUnpickler(f).load()
    if magic != LEGACY_MAGIC:
        raise ValueError("no PyTorch magic number at its start")
    protocol = _PlainUnpickler(f).load()
    if protocol != LEGACY_PROTOCOL:
        raise ValueError(f"unknown legacy protocol version {protocol!r}")
    sys_info = _PlainUnpickler(f).load()
    if isinstance(sys_info, dict) and sys_info.get("little_endian") is False:
        raise ValueError("it was written big-endian, which is not supported")
    storages: dict[str, _Storage] = {}
    raw = _Unpickler(f, storages).load()
    keys = _PlainUnpickler(f).load()
    if not isinstance(keys, list) or sorted(map(str, keys)) != sorted(storages):
        raise ValueError("its list of storages does not match the storages its tensors use")
    for key in map(str, keys):
        storage = storages[key]
        head = f.read(8)
        if len(head) < 8:
            raise EOFError(f"storage {key!r} is missing")
        (count,) = struct.unpack("<q", head)
        if count != storage.numel:
            raise ValueError(f"storage {key!r} holds {count} elements, its tensors expect "
                             f"{storage.numel}")
        nbytes = count * storage.dtype.itemsize
        data = f.read(nbytes)
        if len(data) < nbytes:
            raise EOFError(f"storage {key!r} has {len(data)} of its {nbytes} bytes")
        storage.array = np.frombuffer(data, dtype=storage.dtype.newbyteorder("<"))
    if f.read(1):
        raise ValueError("unexpected bytes after the last storage")
    return raw, storages


def _read_zip(path: Path):
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        pickles = [n for n in names if n.endswith("/data.pkl") or n == "data.pkl"]
        if len(pickles) != 1:
            raise ValueError("a zip without exactly one data.pkl")
        prefix = pickles[0][: -len("data.pkl")]
        byteorder = f"{prefix}byteorder"
        if byteorder in names and archive.read(byteorder).strip() not in (b"little", b""):
            raise ValueError("it was written big-endian, which is not supported")
        storages: dict[str, _Storage] = {}
        raw = _Unpickler(io.BytesIO(archive.read(pickles[0])), storages).load()
        for key, storage in storages.items():
            member = f"{prefix}data/{key}"
            if member not in names:
                raise ValueError(f"storage {key!r} is missing from the zip")
            data = archive.read(member)
            nbytes = storage.numel * storage.dtype.itemsize
            if len(data) < nbytes:
                raise EOFError(f"storage {key!r} has {len(data)} of its {nbytes} bytes")
            storage.array = np.frombuffer(data[:nbytes], dtype=storage.dtype.newbyteorder("<"))
    return raw, storages


def _resolve(raw, storages) -> dict[str, np.ndarray]:
    if not isinstance(raw, dict):
        raise ValueError(f"it holds a {type(raw).__name__}, not a dict of tensors")
    out: dict[str, np.ndarray] = {}
    for name, value in raw.items():
        if not isinstance(name, str) or not isinstance(value, _TensorRef):
            raise ValueError(f"entry {name!r} is a {type(value).__name__}, not a tensor; "
                             "not a flat state dict")
        out[name] = value.resolve(name)
    return out


__all__ = ["TorchStateError", "read_state_dict", "STORAGE_DTYPES"]
