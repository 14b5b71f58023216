"""Read tensors out of a PyTorch ``.pt`` checkpoint without importing torch.

Torch is a large dependency we only need for its pickle format, and ``torch.load`` on an
untrusted file can run arbitrary code. This reader understands both on-disk layouts
(the legacy single-stream format, as in Resemblyzer's ``pretrained.pt``, and the zip
format of torch >= 1.6) and lets the unpickler build only plain containers and float/int
tensors, which come back as numpy arrays. Anything else in the pickle is refused.
"""

from __future__ import annotations

import io
import pickle
import struct
import zipfile
from collections import OrderedDict
from pathlib import Path
from typing import IO, Any

import numpy as np

from transcrevai.errors import ModelError

_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_LEGACY_PROTOCOL = 1001

# Storage class name (as pickled under module "torch") -> numpy dtype.
_STORAGE_DTYPES: dict[str, np.dtype[Any]] = {
    "FloatStorage": np.dtype("<f4"),
    "DoubleStorage": np.dtype("<f8"),
    "HalfStorage": np.dtype("<f2"),
    "LongStorage": np.dtype("<i8"),
    "IntStorage": np.dtype("<i4"),
    "ShortStorage": np.dtype("<i2"),
    "CharStorage": np.dtype("i1"),
    "ByteStorage": np.dtype("u1"),
    "BoolStorage": np.dtype("?"),
}


class _StorageType:
    """Stand-in for ``torch.<X>Storage`` globals: it only carries the dtype."""

    def __init__(self, dtype: np.dtype[Any]) -> None:
        self.dtype = dtype


class _Storage:
    """A storage whose bytes may arrive after the pickle (legacy format)."""

    def __init__(self, dtype: np.dtype[Any], numel: int) -> None:
        self.dtype = dtype
        self.numel = numel
        self.data: np.ndarray | None = None


class _LazyTensor:
    """Tensor view recorded while unpickling; materialised once storages are filled."""

    def __init__(
        self, storage: _Storage, offset: int, size: tuple[int, ...], stride: tuple[int, ...]
    ) -> None:
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride

    def materialise(self) -> np.ndarray:
        data = self.storage.data
        if data is None:
            raise ModelError("checkpoint is truncated: a tensor's storage has no data")
        if not self.size:
            return np.array(data[self.offset], dtype=data.dtype)
        end = self.offset + 1 + sum((n - 1) * s for n, s in zip(self.size, self.stride))
        if end > data.size:
            raise ModelError("checkpoint is corrupt: a tensor reaches past its storage")
        item = data.dtype.itemsize
        view = np.lib.stride_tricks.as_strided(
            data[self.offset :], shape=self.size, strides=[s * item for s in self.stride]
        )
        return np.array(view)  # own, contiguous copy


def _rebuild_tensor_v2(
    storage: _Storage,
    storage_offset: int,
    size: tuple[int, ...],
    stride: tuple[int, ...],
    *_ignored: Any,
) -> _LazyTensor:
    return _LazyTensor(storage, int(storage_offset), tuple(size), tuple(stride))


def _rebuild_parameter(data: _LazyTensor, *_ignored: Any) -> _LazyTensor:
    return data


_ALLOWED_GLOBALS: dict[tuple[str, str], Any] = {
    ("collections", "OrderedDict"): OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    **{("torch", name): _StorageType(dt) for name, dt in _STORAGE_DTYPES.items()},
}


class _RestrictedUnpickler(pickle.Unpickler):
    """Unpickler that resolves only the few globals a weights-only checkpoint needs."""

    def __init__(
        self,
        file: IO[bytes],
        storages: dict[str, _Storage],
        zip_file: zipfile.ZipFile | None = None,
        zip_prefix: str = "",
    ) -> None:
        super().__init__(file)
        self._storages = storages
        self._zip = zip_file
        self._zip_prefix = zip_prefix

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise ModelError(
                f"checkpoint refers to {module}.{name}, which a weights-only reader refuses"
            ) from None

    def persistent_load(self, pid: Any) -> Any:
        if not isinstance(pid, tuple) or not pid:
            raise ModelError("checkpoint has an unknown persistent reference")
        if pid[0] == "module":  # legacy: source of a pickled nn.Module; nothing to build
            return None
        if pid[0] != "storage" or len(pid) < 5 or not isinstance(pid[1], _StorageType):
            raise ModelError("checkpoint has an unsupported storage reference")
        storage_type, key, numel = pid[1], str(pid[2]), int(pid[4])
        if key not in self._storages:
            storage = _Storage(storage_type.dtype, numel)
            if self._zip is not None:
                raw = self._zip.read(f"{self._zip_prefix}data/{key}")
                storage.data = np.frombuffer(raw, dtype=storage.dtype, count=numel)
            self._storages[key] = storage
        return self._storages[key]


def _resolve(obj: Any) -> Any:
    """Replace lazy tensors by numpy arrays throughout plain containers."""
    if isinstance(obj, _LazyTensor):
        return obj.materialise()
    if isinstance(obj, dict):
        return type(obj)((k, _resolve(v)) for k, v in obj.items())
    if isinstance(obj, list):
        return [_resolve(v) for v in obj]
    if isinstance(obj, tuple):
        return tuple(_resolve(v) for v in obj)
    return obj


def _load_legacy(f: IO[bytes]) -> Any:
    # Every pickle in the stream, even the header ints, goes through the restricted unpickler.
    if _RestrictedUnpickler(f, {}).load() != _LEGACY_MAGIC:
        raise ModelError("not a PyTorch checkpoint (bad magic number)")
    if _RestrictedUnpickler(f, {}).load() != _LEGACY_PROTOCOL:
        raise ModelError("unsupported PyTorch legacy checkpoint protocol")
    sys_info = _RestrictedUnpickler(f, {}).load()
    if isinstance(sys_info, dict) and not sys_info.get("little_endian", True):
        raise ModelError("big-endian checkpoints are not supported")
    storages: dict[str, _Storage] = {}
    result = _RestrictedUnpickler(f, storages).load()
    keys = _RestrictedUnpickler(f, {}).load()
    for key in keys:
        storage = storages[str(key)]
        (numel,) = struct.unpack("<q", f.read(8))
        nbytes = numel * storage.dtype.itemsize
        raw = f.read(nbytes)
        if len(raw) != nbytes:
            raise ModelError("checkpoint is truncated")
        storage.data = np.frombuffer(raw, dtype=storage.dtype)
    return _resolve(result)


def _load_zip(zf: zipfile.ZipFile) -> Any:
    pkl = [n for n in zf.namelist() if n.endswith("/data.pkl") or n == "data.pkl"]
    if len(pkl) != 1:
        raise ModelError("zip checkpoint without a single data.pkl")
    prefix = pkl[0][: -len("data.pkl")]
    with zf.open(pkl[0]) as f:
        result = _RestrictedUnpickler(io.BytesIO(f.read()), {}, zf, prefix).load()
    return _resolve(result)


def load_checkpoint(path: Path) -> Any:
    """Load a weights-only ``.pt`` file; tensors become numpy arrays, containers stay plain."""
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zf:
                return _load_zip(zf)
        with open(path, "rb") as f:
            return _load_legacy(f)
    except ModelError:
        raise
    except (OSError, pickle.UnpicklingError, EOFError, struct.error, ValueError, KeyError) as e:
        raise ModelError(f"cannot read checkpoint {path.name}: {e}") from e
