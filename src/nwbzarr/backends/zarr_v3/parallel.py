"""Write a Dask array shard by shard as Dask tasks: on a cluster, every worker writes whole shards.

The array is rechunked to the shard grid, and each task computes its block, encodes it as one shard
and stores it straight from the worker; nothing but a key and a checksum travels back. Because a task
owns a whole shard (an object nobody else writes), no update can be lost, whatever the order. The
tasks run on Dask's current scheduler: the threads of this process by default, a ``distributed``
cluster when a ``Client`` is active. The writer adds the returned checksums to its manifest.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import zarr
from zarr.abc.store import Store

from nwbzarr.backends.zarr_v3.manifest import checksum
from nwbzarr.backends.zarr_v3.shard_format import ShardLayout
from nwbzarr.backends.zarr_v3.shards import ShardWriter
from nwbzarr.core.optional import require

__all__ = ["is_dask_array", "write_dask_shards"]


def _round_size() -> int:
    """Shards per round of tasks: two per thread of the cluster (or of this machine).

    Every worker stays busy while at most that many shards (64 MiB each by default) are held at
    once; progress is reported between rounds.
    """
    try:
        from distributed import get_client

        threads: dict[str, int] = get_client().nthreads()  # type: ignore[no-untyped-call]
        return max(2, 2 * sum(threads.values()))
    except (ImportError, ValueError):  # no distributed, or no active client: Dask's local threads
        return 2 * (os.cpu_count() or 2)


def is_dask_array(data: Any) -> bool:
    return type(data).__module__.startswith("dask.array") and hasattr(data, "to_delayed")


def write_dask_shards(
    array: zarr.Array[Any], data: Any, store: Store, *, progress: Callable[[int], None]
) -> dict[str, list[int]] | None:
    """Write ``data`` (a Dask array of ``array``'s shape) into ``array`` through ``store``, one task per shard.

    ``store`` is the store the tasks write to (picklable: local or fsspec); returns the ``[size, crc32]``
    of every shard written, or ``None`` when the array is not one nwbzarr can shard itself.
    """
    dask = require("dask", "parallel writes of Dask arrays")
    layout = ShardLayout.of(array)
    if layout is None:
        return None
    blocks = data.rechunk(layout.shard).to_delayed()
    write = dask.delayed(_write_shard, pure=False)
    tasks = [
        write(block, store, array.path, coords, dask_key_name=f"nwbzarr-write-shard-{array.path}-{coords}")
        for coords, block in _grid(blocks)
    ]
    objects: dict[str, list[int]] = {}
    step = _round_size()
    for start in range(0, len(tasks), step):
        for key, entry, nbytes in dask.compute(*tasks[start : start + step]):
            objects[key] = entry
            progress(nbytes)
    return objects


def _grid(blocks: np.ndarray) -> Iterable[tuple[tuple[int, ...], Any]]:
    for coords in np.ndindex(blocks.shape):
        yield tuple(int(c) for c in coords), blocks[coords]


def _write_shard(block: np.ndarray, store: Store, path: str, coords: tuple[int, ...]) -> tuple[str, list[int], int]:
    """One task: encode and store the shard at ``coords``; runs on a worker."""
    array = zarr.open_array(store, path=path, mode="r+", zarr_format=3)
    layout = ShardLayout.of(array)
    assert layout is not None  # checked by the writer before it made the tasks
    writer = ShardWriter(layout)
    data = writer.encode_shard(np.asarray(block, dtype=array.dtype))
    writer.put(coords, data)
    return layout.key(coords), checksum(data, layout.index_size), int(block.nbytes)
