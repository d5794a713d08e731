"""The lazy array contract: what a series' ``data`` is after ``read()``.

``shape``, ``dtype``, ``len`` and ``repr`` cost no I/O; ``arr[key]`` reads only the chunks ``key``
touches and returns a numpy array (or a Python/numpy scalar for a full integer index). Backends
implement :meth:`LazyArray._read` for a key already normalised to a tuple of slices and integers.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from nwbzarr.core.dtypes import DataType, dtype_name
from nwbzarr.errors import ReadTooLargeError

if TYPE_CHECKING:
    import dask.array

__all__ = ["MAX_READ_BYTES", "Index", "LazyArray", "as_box", "drop_integer_axes", "normalize_key"]

Index = tuple[int | slice, ...]

#: the most one read may bring into memory; larger reads raise ReadTooLargeError (slice, or use
#: ``to_dask()``). It also stops a damaged store's absurd declared shape from exhausting memory.
MAX_READ_BYTES = 16 * 1024**3


def normalize_key(key: Any, shape: tuple[int, ...]) -> Index:
    """Turn any basic numpy index into one int-or-slice entry per dimension; reject fancy indexing."""
    if not isinstance(key, tuple):
        key = (key,)
    if any(k is Ellipsis for k in key):
        at = next(i for i, k in enumerate(key) if k is Ellipsis)
        fill = (slice(None),) * (len(shape) - (len(key) - 1))
        key = key[:at] + fill + key[at + 1 :]
    if len(key) > len(shape):
        raise IndexError(f"too many indices: array is {len(shape)}-dimensional, got {len(key)}")
    out: list[int | slice] = []
    for k, n in zip(key, shape, strict=False):
        if isinstance(k, (int, np.integer)):
            i = int(k)
            if not -n <= i < n:
                raise IndexError(f"index {i} is out of bounds for axis of size {n}")
            out.append(i % n)
        elif isinstance(k, slice):
            out.append(slice(*k.indices(n)))
        else:
            raise IndexError(f"unsupported index {k!r}: use integers and slices (read, then index with numpy)")
    out.extend(slice(0, n, 1) for n in shape[len(out) :])
    return tuple(out)


def as_box(key: Index) -> tuple[slice, ...] | None:
    """A normalised ``key`` as unit-step slices (an integer becomes a slice of one), ``None`` if it has a stride.

    For readers that fetch boxes themselves; :func:`drop_integer_axes` turns the box's values back into
    what ``key`` asked for.
    """
    box = []
    for k in key:
        if isinstance(k, slice):
            if k.step not in (None, 1) or k.start is None or k.stop is None:
                return None
            box.append(slice(k.start, max(k.start, k.stop)))
        else:
            box.append(slice(k, k + 1))
    return tuple(box) if box else None


def drop_integer_axes(values: np.ndarray, key: Index) -> np.ndarray:
    """The values of :func:`as_box` ``(key)`` shaped as ``key`` reads them: integer axes dropped."""
    return values[tuple(0 if isinstance(k, int) else slice(None) for k in key)]


def _slice_length(k: slice) -> int:
    """``len(range(...))`` without its C-size limit (a damaged store may declare absurd shapes)."""
    start, stop, step = int(k.start), int(k.stop), int(k.step)
    if step > 0:
        return max(0, -(-(stop - start) // step))
    return max(0, -(-(start - stop) // -step))


class LazyArray(ABC):
    """A read-only, numpy-like view of a stored dataset."""

    @property
    @abstractmethod
    def shape(self) -> tuple[int, ...]:
        """The array shape (no I/O)."""

    @property
    @abstractmethod
    def dtype(self) -> DataType:
        """Format-neutral type: a numpy dtype, or Text/ObjectRef/Compound."""

    @property
    def chunks(self) -> tuple[int, ...] | None:
        """The storage chunk shape (the unit that a read fetches), if the dataset is chunked."""
        return None

    @abstractmethod
    def _read(self, key: Index) -> np.ndarray:
        """Read the region ``key`` (one int or slice per dimension) and return it as numpy."""

    # --- numpy-like surface, all derived -------------------------------------------------------
    @property
    def ndim(self) -> int:
        """Number of dimensions."""
        return len(self.shape)

    @property
    def size(self) -> int:
        """Number of elements."""
        return math.prod(self.shape)

    @property
    def numpy_dtype(self) -> np.dtype:
        """The dtype of what reads return (text and references come back as ``object``)."""
        dt = self.dtype
        if isinstance(dt, np.dtype):
            return dt
        to_numpy = getattr(dt, "to_numpy", None)
        return to_numpy() if to_numpy is not None else np.dtype(object)

    @property
    def nbytes(self) -> int:
        """Bytes of the whole array in memory."""
        return self.size * self.numpy_dtype.itemsize

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a 0-d array")
        return self.shape[0]

    def __getitem__(self, key: Any) -> Any:
        idx = normalize_key(key, self.shape)
        self._check_size(idx)
        out = self._read(idx)
        if out.ndim == 0:
            return out[()]
        return out

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        idx = normalize_key((), self.shape)
        self._check_size(idx)
        out = self._read(idx)
        return out if dtype is None else out.astype(dtype)

    def _check_size(self, idx: Index) -> None:
        count = math.prod(_slice_length(k) for k in idx if isinstance(k, slice))
        nbytes = count * self.numpy_dtype.itemsize
        if nbytes > MAX_READ_BYTES:
            raise ReadTooLargeError(
                f"{self!r}: this read needs {nbytes / 2**30:.1f} GiB (limit {MAX_READ_BYTES / 2**30:.0f} GiB, "
                "nwbzarr.abc.array.MAX_READ_BYTES); read a slice, or use to_dask()"
            )

    def __iter__(self) -> Iterator[Any]:
        for i in range(len(self)):
            yield self[i]

    def read(self) -> np.ndarray:
        """Read everything (``arr[()]`` for a scalar)."""
        return np.asarray(self)

    def to_dask(self, chunks: Any = None) -> dask.array.Array:
        """A Dask array over this data: one Dask chunk per shard (per chunk if unsharded), or ``chunks``.

        A shard is one object: its task reads it in one request, every byte once. A task per inner chunk
        would be thousands of small tasks (3,200 for the demo movie), each paying Dask's overhead and a
        request of its own. ``chunks`` takes anything ``dask.array.from_array`` does (``"auto"``, a shape...).
        """
        from nwbzarr.core.optional import require

        da = require("dask.array", "LazyArray.to_dask()")
        chunks = chunks if chunks is not None else (self.chunks or self.shape)
        out: dask.array.Array = da.from_array(  # one Dask chunk per storage unit unless asked otherwise
            self, chunks=chunks, asarray=True, fancy=False, meta=np.empty((0,) * self.ndim, self.numpy_dtype)
        )
        return out

    def __repr__(self) -> str:
        chunks = f", chunks={self.chunks}" if self.chunks else ""
        return f"<{type(self).__name__} shape={self.shape} dtype={dtype_name(self.dtype)}{chunks}>"
