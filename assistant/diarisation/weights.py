"""Read the tensors of a PyTorch checkpoint without importing torch.

The speaker encoder's ``pretrained.pt`` is in torch's legacy serialisation (before 1.6): four
pickles in a row (a magic number, a protocol version, the writer's type sizes, then the object
itself, whose tensors point at storages by persistent id), a pickled list of storage keys, and
each storage's raw bytes, each preceded by its element count as a little-endian int64. The
unpickler below is restricted: it builds only ``OrderedDict`` and tensors (as numpy arrays over
the storage bytes) and refuses every other global, so a checkpoint cannot run code on load.
The newer zip format is refused with a message, not guessed at.
"""

from __future__ import annotations

import pickle
import struct
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

_MAGIC = 0x1950A86A20F9469CFC6C
_PROTOCOL = 1001

#: torch storage classes -> numpy little-endian dtypes
_STORAGES = {
    "FloatStorage": "<f4",
    "DoubleStorage": "<f8",
    "HalfStorage": "<f2",
    "LongStorage": "<i8",
    "IntStorage": "<i4",
    "ShortStorage": "<i2",
    "CharStorage": "i1",
    "ByteStorage": "u1",
    "BoolStorage": "?",
}


class CheckpointError(ValueError):
    """The file is not a legacy torch checkpoint this reader understands."""


@dataclass(frozen=True)
class _StorageType:
    dtype: str


@dataclass
class _Storage:
    key: str
    dtype: str
    data: np.ndarray | None = None  # filled once the raw bytes are read


@dataclass(frozen=True)
class _TensorRef:
    storage: _Storage
    offset: int
    size: tuple[int, ...]
    stride: tuple[int, ...]


def _rebuild_tensor_v2(storage, offset, size, stride, *_ignored) -> _TensorRef:
    return _TensorRef(storage, int(offset), tuple(size), tuple(stride))


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: BinaryIO, storages: dict[str, _Storage]):
        super().__init__(file)
        self._storages = storages

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("collections", "OrderedDict"):
            return OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor_v2
        if module == "torch" and name in _STORAGES:
            return _StorageType(_STORAGES[name])
        raise pickle.UnpicklingError(f"checkpoint refers to {module}.{name}, which is not allowed")

    def persistent_load(self, pid: Any) -> _Storage:
        if not (isinstance(pid, tuple) and pid and pid[0] == "storage"):
            raise pickle.UnpicklingError("unexpected persistent id in checkpoint")
        _, storage_type, key, _location, _numel, view = pid[:6]
        if view is not None or not isinstance(storage_type, _StorageType):
            raise pickle.UnpicklingError("storage views are not supported")
        if key not in self._storages:
            self._storages[key] = _Storage(key, storage_type.dtype)
        return self._storages[key]


def load_state(path: Path) -> dict[str, Any]:
    """The checkpoint's top-level object, every tensor in it as a float/int numpy array."""
    with path.open("rb") as f:
        if f.read(2) == b"PK":
            raise CheckpointError(f"{path.name} is a zip-format checkpoint; expected legacy format")
        f.seek(0)
        head = [pickle.load(f) for _ in range(3)]  # noqa: S301 - plain ints and a dict of ints
        if head[0] != _MAGIC or head[1] != _PROTOCOL or not head[2].get("little_endian"):
            raise CheckpointError(f"{path.name} is not a little-endian legacy torch checkpoint")
        storages: dict[str, _Storage] = {}
        obj = _Unpickler(f, storages).load()
        keys = _Unpickler(f, storages).load()
        for key in keys:
            storage = storages[key]
            (count,) = struct.unpack("<q", f.read(8))
            itemsize = np.dtype(storage.dtype).itemsize
            raw = f.read(count * itemsize)
            if len(raw) != count * itemsize:
                raise CheckpointError(f"{path.name} ends inside a storage")
            storage.data = np.frombuffer(raw, dtype=storage.dtype)
    return _materialise(obj)


def _materialise(obj: Any) -> Any:
    if isinstance(obj, _TensorRef):
        data = obj.storage.data
        if data is None:
            raise CheckpointError("a tensor's storage is missing from the checkpoint")
        itemsize = data.dtype.itemsize
        view = np.lib.stride_tricks.as_strided(
            data[obj.offset :],
            shape=obj.size,
            strides=tuple(s * itemsize for s in obj.stride),
            writeable=False,
        )
        return np.array(view, dtype=data.dtype.newbyteorder("="))  # an owned, native copy
    if isinstance(obj, dict):
        return type(obj)((k, _materialise(v)) for k, v in obj.items())
    if isinstance(obj, list | tuple):
        return type(obj)(_materialise(v) for v in obj)
    return obj


__all__ = ["CheckpointError", "load_state"]
