"""A large object from object storage fetched as ranged parts in flight together, into one buffer.

One connection to S3 carries tens to a few hundred MB/s, so a 26-64 MiB shard on one GET waits on one
stream; AWS's guidance is byte-range fetches of 8-16 MB in parallel. A Dask mean over a movie reads
every shard whole: in parts of :data:`PART_BYTES` its shards arrive sooner, and on the benchmark's
server its mean ran 1.16-1.34x faster (``benchmarks/RESULTS-remote.md``, issue 15, fifth round).

Only a reader that knows the object's size can split it (nwbzarr's write manifest records every
object's size), and only object stores are split: a local file is read in one call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import numpy as np
from zarr.abc.store import Store
from zarr.storage import FsspecStore, ObjectStore

from nwbzarr.storage.wrappers import store_layers

__all__ = ["PART_BYTES", "fetch_in_parts", "splits_large_reads"]

#: the size of one part, and the size above which a whole object is fetched in parts
PART_BYTES = 8 * 2**20


def splits_large_reads(store: Store) -> bool:
    """Whether ``store`` (or the store it wraps) reaches objects over a network: obstore, or fsspec with a
    remote filesystem."""
    for layer in store_layers(store):
        if isinstance(layer, ObjectStore):
            return True
        if isinstance(layer, FsspecStore):
            protocol = layer.fs.protocol
            return not set((protocol,) if isinstance(protocol, str) else protocol) & {"file", "local", "memory"}
    return False


async def fetch_in_parts(
    get: Callable[[int, int], Awaitable[memoryview | None]], size: int, part_bytes: int = PART_BYTES
) -> np.ndarray | None:
    """The ``size`` bytes of an object as ``get(start, stop)`` gives them, in parts of at most
    ``part_bytes`` sent at once (``get`` bounds how many are in flight), or ``None`` if a part is missing or
    shorter than asked (the object changed: the caller reads it whole instead)."""
    out = np.empty(size, dtype=np.uint8)
    step = -(-size // max(1, -(-size // part_bytes)))  # parts of equal size: 26 MB is 4 of 6.5, not 8, 8, 8, 2

    async def part(start: int) -> bool:
        stop = min(size, start + step)
        data = await get(start, stop)
        if data is None or len(data) != stop - start:
            return False
        out[start:stop] = np.frombuffer(data, dtype=np.uint8)
        return True

    complete = await asyncio.gather(*(part(start) for start in range(0, size, step)))
    return out if all(complete) else None
