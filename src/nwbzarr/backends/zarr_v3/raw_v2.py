"""Legacy Zarr v2 chunks -> Zarr v3 chunks without re-encoding (see :mod:`.raw_copy`).

A v2 chunk holds the C-order bytes of a full chunk (edge chunks too) through one compressor; a v3 chunk
through ``bytes`` (little-endian) + the same compressor holds exactly those bytes. So a v2 array with
``order: "C"``, no filters, a little-endian (or single-byte) numeric dtype, fill value 0 and a Blosc, Zstd
or gzip compressor becomes, under ``convert(layout="keep")`` (the same chunks and the matching v3 codec),
its chunk objects copied under the v3 keys (the dimension separator only names keys), a CRC-32C
appended. v2 chunks carry no checksum and the store no manifest, so each is decoded once before it is
copied (a decode check: decoding is cheap, re-encoding is what is saved), as the decode path would.
Anything else (``zlib``, which v3 has no core codec for, filters, Fortran order...) is decoded and
re-encoded.
"""

from __future__ import annotations

import math
import os
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np
import zarr
from zarr.abc.store import Store
from zarr.codecs import BloscCodec, BytesCodec, Crc32cCodec, GzipCodec, ZstdCodec
from zarr.core.buffer import default_buffer_prototype
from zarr.core.metadata import ArrayV3Metadata
from zarr.core.sync import sync

from nwbzarr.backends.zarr_v3.raw_record import RawCopy
from nwbzarr.backends.zarr_v3.shard_format import with_crc32c
from nwbzarr.core.blosc_frames import blosc_frame_problem
from nwbzarr.core.progress import Callback
from nwbzarr.errors import IncompleteStoreError, InvalidStoreError

__all__ = ["copy_v2_chunks", "v2_matches"]

_SHUFFLES = {0: "noshuffle", 1: "shuffle", 2: "bitshuffle"}


def v2_matches(compressor: dict[str, Any], codec: Any) -> bool:
    """Whether the v3 ``codec`` decodes what the v2 ``compressor`` (a numcodecs config) wrote, and says so."""
    name = compressor.get("id")
    if name == "blosc" and isinstance(codec, BloscCodec):
        cname = str(getattr(codec.cname, "value", codec.cname))
        shuffle = str(getattr(codec.shuffle, "value", codec.shuffle))
        return cname == compressor.get("cname") and shuffle == _SHUFFLES.get(int(compressor.get("shuffle", -1)))
    if name == "zstd":
        return isinstance(codec, ZstdCodec)
    return name == "gzip" and isinstance(codec, GzipCodec)


def _plan(array: zarr.Array[Any], data: Any) -> tuple[Store, str, dict[str, Any], bool] | None:
    """``(store, prefix, .zarray, crc32c)`` when ``array`` can take ``data``'s v2 chunks as they are; else None."""
    encoding = getattr(data, "v2_encoding", None)
    metadata = array.metadata
    if encoding is None or not isinstance(metadata, ArrayV3Metadata) or array.shards:
        return None
    store, prefix, meta = encoding
    compressor = meta.get("compressor")
    if meta.get("order", "C") != "C" or meta.get("filters") or not isinstance(compressor, dict):
        return None
    try:
        dtype = np.dtype(meta["dtype"])
    except (TypeError, ValueError, KeyError):
        return None
    little = dtype.byteorder in ("<", "|") or (dtype.byteorder == "=" and sys.byteorder == "little")
    if not little or dtype.kind not in "biuf" or dtype.subdtype is not None or array.dtype != dtype.newbyteorder("<"):
        return None
    if list(meta.get("shape", ())) != list(array.shape) or list(meta.get("chunks", ())) != list(array.chunks):
        return None
    fill = meta.get("fill_value")
    if fill is None or fill != 0 or np.any(np.asarray(metadata.fill_value) != 0):
        return None
    codecs = list(metadata.codecs)
    crc = bool(codecs) and isinstance(codecs[-1], Crc32cCodec)
    core = codecs[:-1] if crc else codecs
    if len(core) != 2 or not isinstance(core[0], BytesCodec) or core[0].endian not in (None, "little"):
        return None
    return (store, prefix, meta, crc) if v2_matches(compressor, core[1]) else None


def copy_v2_chunks(array: zarr.Array[Any], data: Any, progress: Callback) -> RawCopy | None:
    """Copy every stored chunk of ``data``'s v2 array into ``array`` (decode-checked); None if it cannot."""
    import numcodecs

    plan = _plan(array, data)
    if plan is None:
        return None
    store, prefix, meta, crc = plan
    chunks, shape = tuple(array.chunks), tuple(array.shape)
    expected = math.prod(chunks) * array.dtype.itemsize
    codec = numcodecs.get_codec(dict(meta["compressor"]))
    prototype = default_buffer_prototype()
    destination = array.store_path.store
    record = RawCopy(path=f"/{prefix}", how="zarr v2 chunks")

    def copy(key: str, coords: tuple[int, ...]) -> int:
        """One chunk (a pool thread): read, decode-checked, stored under its v3 key; its stored size."""
        buffer = sync(store.get(key, prototype=prototype))
        if buffer is None:
            raise IncompleteStoreError(f"{key}: listed in the source, but gone when it was read")
        raw = buffer.to_bytes()
        if meta["compressor"].get("id") == "blosc" and (problem := blosc_frame_problem(raw)) is not None:
            raise InvalidStoreError(f"{key}: {problem}")
        try:
            size = len(codec.decode(raw))
        except (ValueError, TypeError, RuntimeError) as exc:
            raise InvalidStoreError(f"{key}: cannot decode chunk: {exc}") from exc
        if size != expected:
            raise InvalidStoreError(f"{key}: the chunk decodes to {size} bytes, not {expected}")
        out = with_crc32c(raw) if crc else raw
        target = array.metadata.encode_chunk_key(coords)
        sync(destination.set(f"{array.store_path.path}/{target}", prototype.buffer.from_bytes(out)))
        return len(out)

    workers = os.cpu_count() or 2
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="nwbzarr-v2-copy") as pool:
        jobs: list[tuple[int, Future[int]]] = []
        for key, coords in _stored(store, prefix, meta, shape, chunks):
            region = [min((c + 1) * n, s) - c * n for c, n, s in zip(coords, chunks, shape, strict=True)]
            jobs.append((math.prod(region) * array.dtype.itemsize, pool.submit(copy, key, coords)))
            while len(jobs) > 4 * workers:  # a few chunks' bytes in flight
                _done(jobs.pop(0), record, progress)
        for job in jobs:
            _done(job, record, progress)
    return record


def _done(job: tuple[int, Future[int]], record: RawCopy, progress: Callback) -> None:
    values, future = job
    record.stored_bytes += future.result()
    record.objects += 1
    record.checked += 1
    record.value_bytes += values
    progress.advance(values)


def _stored(
    store: Store, prefix: str, meta: dict[str, Any], shape: tuple[int, ...], chunks: tuple[int, ...]
) -> list[tuple[str, tuple[int, ...]]]:
    """``(key, grid coordinates)`` of the v2 array's chunk objects inside its shape."""
    separator = str(meta.get("dimension_separator") or ".")
    grid = [-(-n // c) for n, c in zip(shape, chunks, strict=True)]

    async def listing() -> list[str]:
        return [key async for key in store.list_prefix(f"{prefix}/")]

    out = []
    for key in sync(listing()):
        rel = key[len(prefix) + 1 :]
        parts = rel.split(separator)
        if rel.startswith(".") or len(parts) != len(grid) or not all(p.isdigit() for p in parts):
            continue  # metadata documents, or objects of a child node
        coords = tuple(int(p) for p in parts)
        if all(c < g for c, g in zip(coords, grid, strict=True)):
            out.append((key, coords))
    return sorted(out, key=lambda pair: pair[1])
