"""Which chunks of a Zarr array the store holds: Zarr writes no chunk that is all fill value.

A copy of a sparse array reads and writes only these (see :func:`nwbzarr.writing.blocks.stored_regions`):
listing the array's prefix costs one request per 1000 keys instead of a read per declared chunk.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import zarr
from zarr.core.sync import sync

from nwbzarr.errors import InvalidStoreError

__all__ = ["stored_chunk_origins"]

#: listing stops (and every block is read) past this many keys: a dense array gains nothing from the list
MAX_KEYS = 1_000_000


def stored_chunk_origins(array: zarr.Array[Any], where: str) -> list[tuple[int, ...]] | None:
    """Origins of the stored chunks (shards, if sharded) of a numeric array whose fill value is 0; else None."""
    dtype = array.dtype
    if not isinstance(dtype, np.dtype) or dtype.kind not in "biuf" or not array.shape:
        return None
    if np.any(np.asarray(array.fill_value) != 0):
        return None
    store = array.store_path.store
    if not store.supports_listing:
        return None
    grid = tuple(array.shards or array.chunks)
    prefix = f"{array.path}/" if array.path else ""
    keys = sync(_list(store, prefix))
    if keys is None:
        return None
    encoding = array.metadata.chunk_key_encoding  # type: ignore[union-attr]
    origins = []
    for key in keys:
        rel = key[len(prefix) :]
        if "zarr.json" in rel or rel.startswith((".", "_")):
            continue
        try:
            coords = encoding.decode_chunk_key(rel)
        except (ValueError, TypeError) as exc:
            raise InvalidStoreError(f"{where}: an object {rel!r} that is no chunk key: {exc}") from exc
        if len(coords) != len(grid):
            continue  # a child node's objects, not this array's chunks
        origins.append(tuple(c * g for c, g in zip(coords, grid, strict=True)))
    return origins


async def _list(store: Any, prefix: str) -> list[str] | None:
    keys = []
    async for key in store.list_prefix(prefix):
        keys.append(key)
        if len(keys) > MAX_KEYS:
            return None
    return keys
