"""Copy an array's stored bytes as they are when source and destination encode its chunks alike.

Re-encoding is most of the cost of a conversion that keeps the layout (zstd or gzip compression runs
several times slower than decompression). When the destination array was created with exactly the
source's encoding, its objects can be copied instead:

- **Zarr v3 -> Zarr v3** with the same shape, data type, chunk grid (shards included), codec chain and
  fill value: each stored object (chunk or whole shard) is copied byte for byte under the destination's
  key. The destination's manifest records the CRC-32 of the bytes written; a source written by nwbzarr
  has its bytes checked against its own manifest as they are read. Objects no manifest covers (stores of
  other tools) are decoded once after the copy (a decode check: decoding is cheap, encoding is what is
  saved), so a damaged chunk raises as the decode path would.
- **HDF5 deflate -> Zarr gzip** (``layout="keep"``): see :mod:`.raw_hdf5`.
- **Zarr v2 -> Zarr v3** (``layout="keep"``, Blosc, Zstd or gzip chunks): see :mod:`.raw_v2`.

Anything else (different chunks, codecs, dtype or byte order, a fill value other than 0, an HDF5 shuffle)
goes through the usual decode/encode path: the result is the same, only slower.
:func:`~.raw_record.raw_copies` collects what was copied raw (for ``convert``'s ``explain``) and can turn
raw copies off.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import zarr
from zarr.abc.store import Store
from zarr.core.buffer import default_buffer_prototype
from zarr.core.metadata import ArrayV3Metadata
from zarr.core.sync import sync

from nwbzarr.backends.zarr_v3.manifest import CheckedStore, ManifestStore
from nwbzarr.backends.zarr_v3.raw_hdf5 import copy_hdf5_chunks
from nwbzarr.backends.zarr_v3.raw_record import SESSION, RawCopy
from nwbzarr.backends.zarr_v3.raw_v2 import copy_v2_chunks
from nwbzarr.backends.zarr_v3.resume import reusable
from nwbzarr.backends.zarr_v3.shard_format import ShardLayout
from nwbzarr.core.progress import Callback
from nwbzarr.errors import IncompleteStoreError, InvalidStoreError
from nwbzarr.writing.blocks import read_region

__all__ = ["copy_raw", "same_encoding"]

#: objects fetched and stored at once (a batch is one event-loop round; progress advances per batch)
_BATCH = 64
#: most objects in flight at once, whatever their size
_MAX_CONCURRENT = 16


def copy_raw(array: zarr.Array[Any], data: Any, progress: Callback, budget: int) -> bool:
    """Fill the new, empty ``array`` from ``data``'s stored bytes if their encodings match; False if not."""
    session = SESSION.get()
    if session is not None and not session.enabled:
        return False
    metadata = array.metadata
    if (
        not isinstance(metadata, ArrayV3Metadata)
        or not isinstance(array.dtype, np.dtype)
        or array.dtype.kind not in "biuf"
    ):
        return False
    started = time.perf_counter()
    record = _copy_zarr(array, data, progress, budget)
    if record is None:
        record = copy_hdf5_chunks(array, data, progress)
    if record is None:
        record = copy_v2_chunks(array, data, progress)
    if record is None:
        return False
    record.seconds = time.perf_counter() - started
    if session is not None:
        session.records.append(record)
    return True


def same_encoding(source: ArrayV3Metadata, destination: ArrayV3Metadata) -> bool:
    """Whether a stored object of ``source`` means the same values as an object of ``destination``."""
    return (
        source.shape == destination.shape
        and source.data_type == destination.data_type
        and source.chunk_grid == destination.chunk_grid
        and [c.to_dict() for c in source.codecs] == [c.to_dict() for c in destination.codecs]
        and np.array_equal(np.asarray(source.fill_value), np.asarray(destination.fill_value), equal_nan=True)
    )


def _copy_zarr(array: zarr.Array[Any], data: Any, progress: Callback, budget: int) -> RawCopy | None:
    source = getattr(data, "zarr_array", None)
    if not isinstance(source, zarr.Array) or not isinstance(source.metadata, ArrayV3Metadata):
        return None
    if not same_encoding(source.metadata, array.metadata):  # type: ignore[arg-type]
        return None
    src_store, dst_store = source.store_path.store, array.store_path.store
    if not src_store.supports_listing:
        return None
    unit = tuple(source.shards or source.chunks)
    keys = _stored_keys(source, unit)
    covered = src_store.objects if isinstance(src_store, CheckedStore) else {}
    layout = ShardLayout.of(array) if array.shards else None
    index = layout.index_size if layout is not None else None
    item = array.dtype.itemsize
    # objects in flight: each at most one decoded unit in size (compressed, usually far less)
    concurrent = max(1, min(_MAX_CONCURRENT, budget // max(1, math.prod(unit) * item)))
    record = RawCopy(path=f"/{array.path}", how="zarr objects")
    for batch in _batches(keys, _BATCH):
        pairs = []
        for src_key, coords in batch:
            if reusable(array, _region(coords, unit, array.shape)):  # kept from an interrupted attempt (--resume)
                progress.advance(math.prod(r.stop - r.start for r in _region(coords, unit, array.shape)) * item)
                continue
            pairs.append((src_key, _key(array, coords), coords))
        sizes = sync(_copy_objects(src_store, dst_store, pairs, index, concurrent))
        for (src_key, _, coords), size in zip(pairs, sizes, strict=True):
            region = _region(coords, unit, array.shape)
            record.objects += 1
            record.stored_bytes += size
            values = math.prod(r.stop - r.start for r in region) * item
            record.value_bytes += values
            if src_key not in covered:  # no manifest proves these bytes: prove that they decode
                read_region(data, region)
                record.checked += 1
            progress.advance(values)
    return record


def _stored_keys(source: zarr.Array[Any], unit: tuple[int, ...]) -> list[tuple[str, tuple[int, ...]]]:
    """``(key, grid coordinates)`` of every chunk (or shard) object of ``source`` inside its shape."""
    prefix = f"{source.store_path.path}/" if source.store_path.path else ""
    grid = tuple(-(-n // u) for n, u in zip(source.shape, unit, strict=True))
    encoding = source.metadata.chunk_key_encoding  # type: ignore[union-attr]

    async def listing() -> list[str]:
        return [key async for key in source.store_path.store.list_prefix(prefix)]

    out = []
    for key in sync(listing()):
        rel = key[len(prefix) :]
        if rel.endswith("zarr.json") or rel.startswith((".", "_")):
            continue
        try:
            coords = tuple(encoding.decode_chunk_key(rel))
        except (ValueError, TypeError) as exc:
            raise InvalidStoreError(f"/{source.path}: an object {rel!r} that is no chunk key: {exc}") from exc
        if len(coords) == len(grid) and all(0 <= c < g for c, g in zip(coords, grid, strict=True)):
            out.append((key, coords))  # objects of child nodes, or left beyond a shrunk shape, are not copied
    return sorted(out, key=lambda pair: pair[1])


def _key(array: zarr.Array[Any], coords: tuple[int, ...]) -> str:
    key = array.metadata.encode_chunk_key(coords)
    return f"{array.store_path.path}/{key}" if array.store_path.path else key


def _region(coords: tuple[int, ...], unit: tuple[int, ...], shape: tuple[int, ...]) -> tuple[slice, ...]:
    return tuple(slice(c * u, min((c + 1) * u, n)) for c, u, n in zip(coords, unit, shape, strict=True))


async def _copy_objects(
    source: Store,
    destination: Store,
    pairs: list[tuple[str, str, tuple[int, ...]]],
    index_bytes: int | None,
    concurrent: int,
) -> list[int]:
    """Copy each ``(source key, destination key)``, ``concurrent`` at a time; the sizes copied, in order."""
    prototype = default_buffer_prototype()
    sizes = [0] * len(pairs)
    todo = iter(enumerate(pairs))

    async def worker() -> None:
        for at, (src_key, dst_key, _) in todo:
            buffer = await source.get(src_key, prototype=prototype)
            if buffer is None:
                raise IncompleteStoreError(f"{src_key}: listed in the source, but gone when it was read")
            if index_bytes is not None and isinstance(destination, ManifestStore):
                destination.expect_shard(dst_key, index_bytes)  # the manifest records the shard's index too
            await destination.set(dst_key, buffer)
            sizes[at] = len(buffer)

    await asyncio.gather(*(worker() for _ in range(min(concurrent, len(pairs)))))
    return sizes


def _batches(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
