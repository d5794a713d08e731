"""Decode one stored HDF5 chunk without the HDF5 library: deflate, shuffle, fletcher32 and numcodecs' codecs.

A chunk's stored bytes went through the dataset's filter pipeline in order; decoding undoes it in reverse,
skipping the filters the chunk's filter mask says were not applied. Deflate is inflated by libdeflate when
installed (:mod:`.inflate`: about 2x zlib, the same bytes), into a buffer of the chunk's size. The
Fletcher-32 checksum is checked (a damaged chunk raises, never returns wrong numbers). A pipeline with a
filter not listed here (szip, scale-offset, LZF, LZ4's HDF5 framing...) gives the filter's name from
:meth:`Pipeline.of`: the caller reads that dataset through h5py instead.
"""

from __future__ import annotations

import math
from collections.abc import Buffer, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from nwbzarr.backends.hdf5.inflate import inflate
from nwbzarr.errors import InvalidStoreError

__all__ = ["DEFLATE", "FLETCHER32", "SHUFFLE", "Pipeline", "filter_codes", "fletcher32", "without_fletcher32"]

DEFLATE, SHUFFLE, FLETCHER32 = 1, 2, 3
_NAMES = {1: "deflate", 2: "shuffle", 3: "fletcher32", 4: "szip", 5: "nbit", 6: "scaleoffset", 32000: "lzf"}
#: HDF5 plugin filter ids whose stored bytes are exactly what a numcodecs codec decodes
_NUMCODECS = {32015: "Zstd", 307: "BZ2", 32001: "Blosc"}


def filter_codes(dataset: Any) -> list[tuple[int, str]]:
    """``(id, name)`` of each filter of an h5py dataset's pipeline, in the order they were applied."""
    plist = dataset.id.get_create_plist()
    out = []
    for i in range(plist.get_nfilters()):
        code, _flags, _values, name = plist.get_filter(i)
        out.append((int(code), name.decode(errors="replace") if isinstance(name, bytes) else str(name)))
    return out


def fletcher32(data: bytes | memoryview) -> int:
    """HDF5's Fletcher-32 (16-bit big-endian words; an odd last byte is the high byte of a word)."""
    if len(data) % 2:
        data = bytes(data) + b"\0"
    words = np.frombuffer(data, dtype=">u2").astype(np.uint64)
    if not words.size:
        return 0
    weights = (np.arange(words.size, 0, -1, dtype=np.uint64)) % 65535
    total1 = int(words.sum())
    sum1 = total1 % 65535
    sum2 = int((words * weights % 65535).sum()) % 65535
    if total1:  # HDF5 folds the sums to 1..65535, never to 0, once anything was added
        sum1, sum2 = sum1 or 65535, sum2 or 65535
    return (sum2 << 16) | sum1


@dataclass(frozen=True)
class Pipeline:
    """The filters of one dataset and what decoding a chunk of it gives."""

    codes: tuple[int, ...]
    dtype: np.dtype
    chunks: tuple[int, ...]
    where: str
    _decoders: tuple[Callable[[Any], Buffer], ...]  # partials of module functions: picklable, for Dask workers

    @classmethod
    def of(cls, dataset: Any) -> Pipeline | str:
        """The pipeline of an h5py dataset, or the name of the filter that cannot be decoded here."""
        dtype = np.dtype(dataset.dtype)
        decoders: list[Callable[[Any], Buffer]] = []
        codes = filter_codes(dataset)
        # the most bytes a stage's input can be: the chunk, plus 4 for each Fletcher-32 before it (None: unknown)
        capacity: int | None = math.prod(dataset.chunks or ()) * dtype.itemsize
        for code, name in codes:
            if code == DEFLATE:
                decoders.append(partial(inflate, capacity))
            elif code == SHUFFLE:
                decoders.append(partial(_unshuffle, dtype.itemsize))
            elif code == FLETCHER32:
                decoders.append(partial(without_fletcher32, dataset.name))
                capacity = None if capacity is None else capacity + 4
            elif code in _NUMCODECS:
                import numcodecs

                decoders.append(partial(_numcodecs_decode, getattr(numcodecs, _NUMCODECS[code])()))
                capacity = None
            else:
                return _NAMES.get(code, name or f"filter {code}")
        return cls(tuple(c for c, _ in codes), dtype, tuple(dataset.chunks), dataset.name, tuple(decoders))

    def decode(self, stored: bytes | memoryview, mask: int, origin: tuple[int, ...]) -> np.ndarray:
        """A chunk's values from its stored bytes; anything wrong raises InvalidStoreError naming the chunk.

        The values may be a read-only view of ``stored`` (a chunk stored with no filter applied)."""
        data: Any = stored
        try:
            for i in range(len(self._decoders) - 1, -1, -1):
                if not mask >> i & 1:
                    data = self._decoders[i](data)
        except InvalidStoreError:
            raise
        except Exception as exc:  # zlib, numcodecs: each has its own error type
            raise InvalidStoreError(f"{self.where}: chunk at {origin} does not decode: {exc}") from exc
        count = math.prod(self.chunks)
        size = memoryview(data).nbytes
        if size != count * self.dtype.itemsize:
            raise InvalidStoreError(
                f"{self.where}: chunk at {origin} decodes to {size} bytes, not {count * self.dtype.itemsize}"
            )
        return np.frombuffer(data, dtype=self.dtype).reshape(self.chunks)


def _numcodecs_decode(codec: Any, data: bytes | memoryview) -> bytes:
    return bytes(codec.decode(data))


def _unshuffle(itemsize: int, data: bytes | memoryview) -> bytes | memoryview:
    if itemsize == 1:
        return data
    count = len(data) // itemsize
    body = np.frombuffer(data, dtype=np.uint8, count=count * itemsize).reshape(itemsize, count).T.tobytes()
    return body + bytes(data[count * itemsize :])  # HDF5 leaves a ragged tail as it is


def without_fletcher32[B: (bytes, memoryview)](where: str, data: B) -> B:
    """The chunk's bytes without their Fletcher-32, which must match (either byte order HDF5 ever wrote)."""
    if len(data) < 4:
        raise InvalidStoreError(f"{where}: a chunk shorter than its Fletcher-32 checksum")
    body, stored = data[:-4], int.from_bytes(data[-4:], "little")
    value = fletcher32(body)
    swapped = ((value & 0x00FF00FF) << 8) | ((value & 0xFF00FF00) >> 8)  # files of HDF5 < 1.6.3
    if stored not in (value, swapped):
        raise InvalidStoreError(f"{where}: a chunk fails its Fletcher-32 checksum (damaged)")
    return body
