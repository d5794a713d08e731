"""Read whole shards directly: one request per shard, inner chunks decoded on every core.

The mirror of :mod:`.shards`. zarr-python decodes a shard chunk by chunk through its general pipeline;
a read that wants whole shards (a Dask block, a copy, a mean image) needs none of that: it fetches the
shard in one request, checks the index's CRC-32C (:mod:`.shard_format`), and decodes the inner chunks in a thread pool
(Blosc, Zstd and the checksum release the GIL). Reads of parts of shards (a frame, a time course) stay
with zarr, whose ranged reads fetch only the chunks they need.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from zarr.core.buffer import default_buffer_prototype
from zarr.core.sync import sync

from nwbzarr.backends.zarr_v3.shard_format import EMPTY, Region, ShardLayout, checked
from nwbzarr.errors import InvalidStoreError

__all__ = ["ShardReader"]


class ShardReader:
    """Reads shard-aligned regions of one sharded array; ``read`` returns ``None`` when it does not apply."""

    def __init__(self, layout: ShardLayout, where: str) -> None:
        self.layout = layout
        self.where = where

    def read(self, region: Region) -> np.ndarray | None:
        """``array[region]`` if ``region`` is made of whole shards (the last may end with the array)."""
        layout = self.layout
        if not layout.aligned(region):
            return None
        out = np.empty(tuple(s.stop - s.start for s in region), dtype=layout.array.dtype)
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 2, thread_name_prefix="nwbzarr-read") as pool:
            for coords, part in layout.shards_in(region):
                block = self._shard(coords, pool)
                target = tuple(slice(p.start - r.start, p.stop - r.start) for p, r in zip(part, region, strict=True))
                out[target] = block[tuple(slice(0, p.stop - p.start) for p in part)]
        return out

    def _shard(self, coords: tuple[int, ...], pool: ThreadPoolExecutor) -> np.ndarray:
        layout = self.layout
        block = np.full(layout.shard, layout.fill, dtype=layout.dtype)
        key = layout.key(coords)
        buffer = sync(layout.array.store_path.store.get(key, prototype=default_buffer_prototype()))
        if buffer is None:
            return block  # a shard never written reads as the fill value, as in zarr
        raw = buffer.to_bytes()
        data_end = len(raw) - layout.index_size
        if data_end < 0:
            raise InvalidStoreError(f"{self.where}: shard {key} is shorter than its index")
        index = np.frombuffer(checked(raw[data_end:], f"{self.where} (index of shard {key})"), dtype="<u8")
        index = index.reshape(*layout.grid, 2)
        jobs = []
        for chunk in layout.chunks():
            offset, nbytes = (int(v) for v in index[chunk])
            if offset == EMPTY and nbytes == EMPTY:
                continue
            if offset + nbytes > data_end:
                raise InvalidStoreError(f"{self.where}: shard {key} indexes bytes it does not hold")
            jobs.append((chunk, raw[offset : offset + nbytes]))

        def decode(job: tuple[tuple[int, ...], bytes]) -> tuple[tuple[int, ...], bytes]:
            return job[0], layout.decode(job[1], self.where)

        chunk_bytes = block[layout.chunk_region((0,) * block.ndim)].nbytes
        for chunk, data in pool.map(decode, jobs):
            if len(data) != chunk_bytes:
                raise InvalidStoreError(f"{self.where}: a chunk of shard {key} decodes to {len(data)} bytes")
            block[layout.chunk_region(chunk)] = np.frombuffer(data, dtype=layout.dtype).reshape(layout.inner)
        return block
