"""Write whole shards directly: inner chunks compressed on every core, one store write per shard.

zarr-python writes a shard through its general chunk pipeline (per-chunk async tasks, empty-chunk
checks, copies), which on a 2-core machine reaches about a third of the codec's own speed. A writer
that holds a whole shard's frames needs none of that: it cuts the block into inner chunks, compresses
batches of them in a thread pool (Blosc and Zstd release the GIL), lays them out in C order (so one
frame's chunks are adjacent and a frame read is one ranged request) and appends the index
(:mod:`.shard_format`). A shard written in part is read, updated and written whole. Strided regions,
other codecs and other index layouts go through zarr.

Encoded shards are stored by threads of their own, up to :data:`INFLIGHT` at once (and at most
:data:`INFLIGHT_BYTES` of encoded bytes waiting), while the next shard is encoded on every core: the
upload of one shard no longer takes a thread from the encoding of the next, and on object storage the
round trips of several PUTs overlap. Memory: one block being encoded plus the bounded shards in flight.
"""

from __future__ import annotations

import math
import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import numpy as np
import zarr
from zarr.core.buffer import default_buffer_prototype
from zarr.core.sync import sync

from nwbzarr.backends.zarr_v3.manifest import ManifestStore
from nwbzarr.backends.zarr_v3.shard_format import EMPTY, Region, ShardLayout, with_crc32c
from nwbzarr.backends.zarr_v3.shard_reader import ShardReader

__all__ = ["INFLIGHT", "INFLIGHT_BYTES", "ShardWriter", "region_writer"]

#: encoded shards being stored at once by one writer
INFLIGHT = 4
#: ... and at most this many encoded bytes of them (the bound on the memory they hold)
INFLIGHT_BYTES = 160 * 2**20


class ShardWriter:
    """Writes blocks of one sharded array, shard by shard; ``write`` says whether it took the block.

    With a thread ``pool``, chunks are compressed on its threads; with ``uploads`` too, shards are stored
    on those threads (up to ``inflight`` at once) while the next are encoded; without them (a Dask task,
    already parallel), all happens in the calling thread.
    """

    def __init__(
        self,
        layout: ShardLayout,
        pool: ThreadPoolExecutor | None = None,
        workers: int = 1,
        *,
        uploads: ThreadPoolExecutor | None = None,
        inflight: int = 1,
        inflight_bytes: int | None = None,
    ) -> None:
        self.layout = layout
        self.pool = pool
        self.workers = workers
        self.uploads = uploads
        self.inflight = max(1, inflight)
        self.inflight_bytes = inflight_bytes if inflight_bytes is not None else INFLIGHT_BYTES
        self._pending: deque[tuple[Future[None], int]] = deque()
        self._pending_bytes = 0

    def write(self, region: Region, values: np.ndarray) -> bool:
        """Write ``values`` at ``region`` (unit-step slices); ``False`` if the region has a stride.

        A shard the region covers only in part (an append that starts mid-shard) is read, updated and
        written whole, so every shard nwbzarr writes is in C order and one store write.
        """
        layout = self.layout
        if not region or any(s.step not in (None, 1) for s in region):
            return False
        if values.size == 0:
            return True
        for coords, part in layout.shards_touching(region):
            local = tuple(slice(p.start - r.start, p.stop - r.start) for p, r in zip(part, region, strict=True))
            extent = layout.extent(coords)
            if part == extent:
                block = values[local]
            else:
                self.flush()  # the shard may be the one still being stored
                block = self._updated(extent, part, values[local])
            data = self.encode_shard(block)
            if self.uploads is None:
                self.put(coords, data)
                continue
            # room for this shard first: at most ``inflight`` shards and ``inflight_bytes`` waiting
            while self._pending and (
                len(self._pending) >= self.inflight or self._pending_bytes + len(data) > self.inflight_bytes
            ):
                self._wait_oldest()
            self._pending.append((self.uploads.submit(self.put, coords, data), len(data)))
            self._pending_bytes += len(data)
        return True

    def _wait_oldest(self) -> None:
        future, nbytes = self._pending.popleft()
        self._pending_bytes -= nbytes
        future.result()

    def _updated(self, extent: Region, part: Region, values: np.ndarray) -> np.ndarray:
        """The stored values of the shard holding ``extent``, with ``values`` written over ``part``."""
        block = ShardReader(self.layout, self.layout.array.path).read(extent)
        assert block is not None  # the reader takes every unit-step region
        block[tuple(slice(p.start - e.start, p.stop - e.start) for p, e in zip(part, extent, strict=True))] = values
        return block

    def flush(self) -> None:
        """Wait for every shard in flight (and raise the first error, if any)."""
        while self._pending:
            self._wait_oldest()

    def encode_shard(self, block: np.ndarray) -> bytes:
        """The stored bytes of one shard holding ``block`` (the whole shard, or the array's last part of it)."""
        layout = self.layout
        block = np.asarray(block, dtype=layout.dtype)
        # the array's last shard is padded to whole inner chunks; chunks wholly outside it are not stored
        present = tuple(math.ceil(n / c) for n, c in zip(block.shape, layout.inner, strict=True))
        if block.shape != layout.shard:
            padded = np.full(layout.shard, layout.fill, dtype=layout.dtype)
            padded[tuple(slice(0, n) for n in block.shape)] = block
            block = padded
        chunks = layout.cut(block)  # one copy: every inner chunk contiguous, in C order of the chunk grid
        stored = np.ones(layout.grid, dtype=bool)
        for axis, p in enumerate(present):
            stored[(slice(None),) * axis + (slice(p, None),)] = False
        keep = stored.ravel()
        batches = _split(list(range(len(chunks))), 4 * self.workers)

        def encode(batch: list[int]) -> list[bytes]:
            return [layout.encode(chunks[i]) if keep[i] else b"" for i in batch]

        run = self.pool.map if self.pool is not None else map
        parts = [data for results in run(encode, batches) for data in results]
        sizes = np.fromiter((len(data) for data in parts), dtype="<u8", count=len(parts))
        index = np.full((len(parts), 2), EMPTY, dtype="<u8")
        index[keep, 0] = (np.cumsum(sizes) - sizes)[keep]
        index[keep, 1] = sizes[keep]
        parts.append(with_crc32c(index.tobytes()))
        return b"".join(parts)

    def put(self, coords: tuple[int, ...], data: bytes) -> None:
        buffer = default_buffer_prototype().buffer.from_bytes(data)
        store = self.layout.array.store_path.store
        key = self.layout.key(coords)
        if isinstance(store, ManifestStore):  # the manifest records the index too: ranged reads can check it
            store.expect_shard(key, self.layout.index_size)
        sync(store.set(key, buffer))


@contextmanager
def region_writer(array: zarr.Array[Any]) -> Iterator[Callable[[Region, np.ndarray], None]]:
    """``put(region, values)`` for ``array``: by nwbzarr's shard writer (on every core) if it can, else by zarr."""
    layout = ShardLayout.of(array)
    if layout is None:
        yield array.__setitem__
        return
    workers = os.cpu_count() or 2
    with (
        ThreadPoolExecutor(max_workers=workers, thread_name_prefix="nwbzarr-shards") as pool,
        ThreadPoolExecutor(max_workers=INFLIGHT, thread_name_prefix="nwbzarr-uploads") as uploads,
    ):
        shards = ShardWriter(layout, pool, workers, uploads=uploads, inflight=INFLIGHT)

        def put(region: Region, values: np.ndarray) -> None:
            if not shards.write(region, values):
                array[region] = values

        try:
            yield put
        finally:
            shards.flush()


def _split(items: list[Any], parts: int) -> list[list[Any]]:
    size = max(1, math.ceil(len(items) / parts))
    return [items[i : i + size] for i in range(0, len(items), size)]
