"""Write whole shards directly: inner chunks compressed on every core, one store write per shard.

zarr-python writes a shard through its general chunk pipeline (per-chunk async tasks, empty-chunk
checks, copies), which on a 2-core machine reaches about a third of the codec's own speed. A writer
that holds a whole shard's frames needs none of that: it cuts the block into inner chunks, compresses
batches of them in a thread pool (Blosc and Zstd release the GIL), lays them out in C order (so one
frame's chunks are adjacent and a frame read is one ranged request) and appends the index the
``sharding_indexed`` codec defines (``(offset, nbytes)`` pairs as little-endian uint64, then their
CRC-32C). Anything else (partial shards, other codecs, other index layouts) goes through zarr.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import google_crc32c
import numcodecs
import numpy as np
import zarr
from zarr.codecs import BloscCodec, BytesCodec, Crc32cCodec, GzipCodec, ShardingCodec, ZstdCodec
from zarr.core.buffer import default_buffer_prototype
from zarr.core.sync import sync

__all__ = ["ShardWriter", "default_pool"]

_EMPTY = np.uint64(2**64 - 1)  # the index entry of a chunk that is not stored
_BLOSC_SHUFFLE = {"noshuffle": 0, "shuffle": 1, "bitshuffle": 2}
Region = tuple[slice, ...]


def _numcodec(codecs: Sequence[Any]) -> Callable[[np.ndarray], bytes] | None:
    """The inner chunks' codec chain as one function, if it is one nwbzarr can run itself."""
    if not codecs or not isinstance(codecs[0], BytesCodec) or codecs[0].endian not in (None, "little"):
        return None
    rest = list(codecs[1:])
    if rest and isinstance(rest[-1], Crc32cCodec):  # a checksum of each encoded chunk, appended
        inner = _numcodec([codecs[0], *rest[:-1]])
        if inner is None:
            return None
        return lambda chunk: _with_crc32c(inner(chunk))
    if not rest:
        return lambda chunk: chunk.tobytes()
    if len(rest) != 1:
        return None
    codec = rest[0]
    encoder: Any
    if isinstance(codec, BloscCodec):
        encoder = numcodecs.Blosc(
            cname=str(getattr(codec.cname, "value", codec.cname)),
            clevel=codec.clevel,
            shuffle=_BLOSC_SHUFFLE[str(getattr(codec.shuffle, "value", codec.shuffle))],
            blocksize=codec.blocksize,
        )
    elif isinstance(codec, ZstdCodec) and not codec.checksum:
        encoder = numcodecs.Zstd(level=codec.level)
    elif isinstance(codec, GzipCodec):
        encoder = numcodecs.GZip(level=codec.level)
    else:
        return None
    return lambda chunk: bytes(encoder.encode(chunk))


def _with_crc32c(data: bytes) -> bytes:
    checksum: int = google_crc32c.value(data)
    return data + checksum.to_bytes(4, "little")


class ShardWriter:
    """Writes shard-aligned blocks of one sharded array; ``write`` says whether it took the block."""

    def __init__(self, array: zarr.Array[Any], pool: ThreadPoolExecutor | None) -> None:
        self.array = array
        self.pool = pool  # None: encode and store in the calling thread (a Dask task is already parallel)
        self.encode: Callable[[np.ndarray], bytes] | None = None
        codecs = array.metadata.codecs if array.metadata.zarr_format == 3 else ()
        sharding = codecs[0] if len(codecs) == 1 and isinstance(codecs[0], ShardingCodec) else None
        dtype = array.dtype if isinstance(array.dtype, np.dtype) else None
        if sharding is None or dtype is None or dtype.kind not in "biuf":
            return
        index_ok = [type(c) for c in sharding.index_codecs] == [BytesCodec, Crc32cCodec]
        location = getattr(sharding.index_location, "value", sharding.index_location)
        if location != "end" or not index_ok or array.shards is None:
            return
        self.encode = _numcodec(sharding.codecs)
        self.inner = tuple(sharding.chunk_shape)
        self.shard = tuple(array.shards)
        self.dtype = dtype.newbyteorder("<")
        self.fill = array.metadata.fill_value
        self._pending: Future[None] | None = None

    def write(self, region: Region, values: np.ndarray) -> bool:
        """Write ``values`` at ``region`` if it is made of whole shards (the last may end with the array)."""
        if self.encode is None or not self._aligned(region):
            return False
        for shard_region in self._shards_in(region):
            local = tuple(slice(s.start - r.start, s.stop - r.start) for s, r in zip(shard_region, region, strict=True))
            coords = tuple(s.start // n for s, n in zip(shard_region, self.shard, strict=True))
            data = self.encode_shard(values[local])
            self.flush()  # one shard being written while the next is encoded: bounded memory
            if self.pool is None:
                self.put(coords, data)
            else:
                self._pending = self.pool.submit(self.put, coords, data)
        return True

    def flush(self) -> None:
        """Wait for the last shard's store write (and raise its error, if any)."""
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()

    def _aligned(self, region: Region) -> bool:
        shape = self.array.shape
        for piece, size, extent in zip(region, self.shard, shape, strict=True):
            if piece.start % size or (piece.stop % size and piece.stop != extent):
                return False
        return True

    def _shards_in(self, region: Region) -> Iterator[Region]:
        ranges = [range(s.start, s.stop, n) for s, n in zip(region, self.shard, strict=True)]
        for corner in itertools.product(*ranges):
            yield tuple(slice(c, min(c + n, s.stop)) for c, n, s in zip(corner, self.shard, region, strict=True))

    def encode_shard(self, block: np.ndarray) -> bytes:
        """The stored bytes of one shard holding ``block`` (the whole shard, or the array's last part of it)."""
        assert self.encode is not None
        block = np.asarray(block, dtype=self.dtype)
        if block.shape != self.shard:  # the array's last shard: pad to whole inner chunks with the fill value
            padded = np.full(self.shard, self.fill, dtype=self.dtype)
            padded[tuple(slice(0, n) for n in block.shape)] = block
            present = tuple(math.ceil(n / c) for n, c in zip(block.shape, self.inner, strict=True))
            block = padded
        else:
            present = tuple(n // c for n, c in zip(self.shard, self.inner, strict=True))
        grid = tuple(n // c for n, c in zip(self.shard, self.inner, strict=True))
        coords = list(itertools.product(*(range(n) for n in grid)))  # C order: a frame's chunks are adjacent
        workers = self.pool._max_workers if self.pool is not None else 1
        batches = _split(coords, 4 * workers)
        run = self.pool.map if self.pool is not None else map
        encoded = list(run(lambda batch: [self._chunk(block, c, present) for c in batch], batches))
        index = np.full((*grid, 2), _EMPTY, dtype="<u8")
        parts: list[bytes] = []
        offset = 0
        for batch, results in zip(batches, encoded, strict=True):
            for chunk_coords, data in zip(batch, results, strict=True):
                if data is None:
                    continue
                index[chunk_coords] = (offset, len(data))
                parts.append(data)
                offset += len(data)
        index_bytes = index.tobytes()
        parts.append(_with_crc32c(index_bytes))
        return b"".join(parts)

    def _chunk(self, block: np.ndarray, coords: tuple[int, ...], present: tuple[int, ...]) -> bytes | None:
        assert self.encode is not None
        if any(c >= p for c, p in zip(coords, present, strict=True)):
            return None  # wholly outside the array: not stored, reads as the fill value
        piece = block[tuple(slice(c * n, (c + 1) * n) for c, n in zip(coords, self.inner, strict=True))]
        return self.encode(np.ascontiguousarray(piece))

    def key(self, coords: tuple[int, ...]) -> str:
        """The store key of the shard at grid position ``coords``."""
        key = self.array.metadata.encode_chunk_key(coords)
        return f"{self.array.store_path.path}/{key}" if self.array.store_path.path else key

    def put(self, coords: tuple[int, ...], data: bytes) -> None:
        buffer = default_buffer_prototype().buffer.from_bytes(data)
        sync(self.array.store_path.store.set(self.key(coords), buffer))


def _split(items: list[Any], parts: int) -> list[list[Any]]:
    size = max(1, math.ceil(len(items) / parts))
    return [items[i : i + size] for i in range(0, len(items), size)]


def default_pool() -> ThreadPoolExecutor:
    """Threads for compression and store writes: one per core (Blosc and Zstd release the GIL)."""
    return ThreadPoolExecutor(max_workers=os.cpu_count() or 2, thread_name_prefix="nwbzarr-shards")
