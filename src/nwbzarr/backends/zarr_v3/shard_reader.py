"""Read whole shards directly: one request per shard, inner chunks decoded on every core.

The mirror of :mod:`.shards`. zarr-python decodes a shard chunk by chunk through its general pipeline;
a read that wants whole shards (a Dask block, a copy, a mean image) needs none of that: it fetches the
shard in one request, checks the index's CRC-32C, and decodes the inner chunks in a thread pool
(Blosc, Zstd and the checksum release the GIL). Reads of parts of shards (a frame, a time course) stay
with zarr, whose ranged reads fetch only the chunks they need.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import google_crc32c
import numcodecs
import numpy as np
import zarr
from zarr.codecs import BloscCodec, BytesCodec, Crc32cCodec, GzipCodec, ShardingCodec, ZstdCodec
from zarr.core.buffer import default_buffer_prototype
from zarr.core.sync import sync

from nwbzarr.errors import InvalidStoreError

__all__ = ["ShardReader"]

_EMPTY = 2**64 - 1
Region = tuple[slice, ...]


def _decoder(codecs: Sequence[Any], where: str) -> Callable[[bytes], bytes] | None:
    """The inner chunks' codec chain, decoding, if nwbzarr can run it itself."""
    if not codecs or not isinstance(codecs[0], BytesCodec) or codecs[0].endian not in (None, "little"):
        return None
    rest = list(codecs[1:])
    if rest and isinstance(rest[-1], Crc32cCodec):
        inner = _decoder([codecs[0], *rest[:-1]], where)
        return None if inner is None else lambda data: inner(_checked(data, where))
    if not rest:
        return lambda data: data
    if len(rest) != 1 or not isinstance(rest[0], BloscCodec | ZstdCodec | GzipCodec):
        return None
    codec: Any = {BloscCodec: numcodecs.Blosc, ZstdCodec: numcodecs.Zstd, GzipCodec: numcodecs.GZip}[type(rest[0])]()
    return lambda data: bytes(codec.decode(data))


def _checked(data: bytes, where: str) -> bytes:
    body, stored = data[:-4], int.from_bytes(data[-4:], "little")
    if len(data) < 4 or google_crc32c.value(body) != stored:
        raise InvalidStoreError(f"{where}: a chunk's checksum does not match its bytes (the data changed)")
    return body


class ShardReader:
    """Reads shard-aligned regions of one sharded array; ``read`` returns ``None`` when it does not apply."""

    def __init__(self, array: zarr.Array[Any], where: str) -> None:
        self.array = array
        self.where = where
        self.decode: Callable[[bytes], bytes] | None = None
        codecs = array.metadata.codecs if array.metadata.zarr_format == 3 else ()
        sharding = codecs[0] if len(codecs) == 1 and isinstance(codecs[0], ShardingCodec) else None
        dtype = array.dtype if isinstance(array.dtype, np.dtype) else None
        if sharding is None or dtype is None or dtype.kind not in "biuf" or array.shards is None:
            return
        location = getattr(sharding.index_location, "value", sharding.index_location)
        if location != "end" or [type(c) for c in sharding.index_codecs] != [BytesCodec, Crc32cCodec]:
            return
        self.decode = _decoder(sharding.codecs, where)
        self.inner = tuple(sharding.chunk_shape)
        self.shard = tuple(array.shards)
        self.dtype = dtype.newbyteorder("<")
        self.fill = array.metadata.fill_value

    def read(self, region: Region) -> np.ndarray | None:
        """``array[region]`` if ``region`` is made of whole shards (the last may end with the array)."""
        if self.decode is None or not self._aligned(region):
            return None
        out = np.empty(tuple(s.stop - s.start for s in region), dtype=self.array.dtype)
        corners = itertools.product(*(range(s.start, s.stop, n) for s, n in zip(region, self.shard, strict=True)))
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 2, thread_name_prefix="nwbzarr-read") as pool:
            for corner in corners:
                coords = tuple(c // n for c, n in zip(corner, self.shard, strict=True))
                block = self._shard(coords, pool)
                extent = tuple(min(n, s.stop - c) for c, n, s in zip(corner, self.shard, region, strict=True))
                target = tuple(
                    slice(c - s.start, c - s.start + e) for c, s, e in zip(corner, region, extent, strict=True)
                )
                out[target] = block[tuple(slice(0, e) for e in extent)]
        return out

    def _aligned(self, region: Region) -> bool:
        for piece, size, extent in zip(region, self.shard, self.array.shape, strict=True):
            if piece.step not in (None, 1) or piece.start % size or (piece.stop % size and piece.stop != extent):
                return False
        return bool(region)

    def _shard(self, coords: tuple[int, ...], pool: ThreadPoolExecutor) -> np.ndarray:
        assert self.decode is not None
        block = np.full(self.shard, self.fill, dtype=self.dtype)
        key = self.array.metadata.encode_chunk_key(coords)
        path = f"{self.array.store_path.path}/{key}" if self.array.store_path.path else key
        buffer = sync(self.array.store_path.store.get(path, prototype=default_buffer_prototype()))
        if buffer is None:
            return block  # a shard never written reads as the fill value, as in zarr
        raw = buffer.to_bytes()
        grid = tuple(n // c for n, c in zip(self.shard, self.inner, strict=True))
        index_size = math.prod(grid) * 16
        if len(raw) < index_size + 4:
            raise InvalidStoreError(f"{self.where}: shard {key} is shorter than its index")
        index_bytes = _checked(raw[-(index_size + 4) :], f"{self.where} (index of shard {key})")
        index = np.frombuffer(index_bytes, dtype="<u8").reshape(*grid, 2)
        chunk_bytes = math.prod(self.inner) * self.dtype.itemsize
        jobs = []
        for chunk in itertools.product(*(range(n) for n in grid)):
            offset, nbytes = (int(v) for v in index[chunk])
            if offset == _EMPTY and nbytes == _EMPTY:
                continue
            if offset + nbytes > len(raw) - index_size - 4:
                raise InvalidStoreError(f"{self.where}: shard {key} indexes bytes it does not hold")
            jobs.append((chunk, raw[offset : offset + nbytes]))

        def decode(job: tuple[tuple[int, ...], bytes]) -> tuple[tuple[int, ...], bytes]:
            assert self.decode is not None
            return job[0], self.decode(job[1])

        for chunk, data in pool.map(decode, jobs):
            if len(data) != chunk_bytes:
                raise InvalidStoreError(f"{self.where}: a chunk of shard {key} decodes to {len(data)} bytes")
            place = tuple(slice(c * n, (c + 1) * n) for c, n in zip(chunk, self.inner, strict=True))
            block[place] = np.frombuffer(data, dtype=self.dtype).reshape(self.inner)
        return block
