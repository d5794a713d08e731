"""HDF5 deflate chunks -> Zarr v3 gzip chunks without recompressing (see :mod:`.raw_copy`).

Applies when the destination array has the source dataset's shape, chunk shape and dtype (little-endian),
no shards, and the codecs ``bytes`` + ``gzip`` (+ ``crc32c``), the layout ``convert(layout="keep")``
gives a dataset whose HDF5 filters are exactly deflate (optionally followed by Fletcher-32), with fill
value 0. HDF5 stores edge chunks full size, as Zarr does, so each allocated HDF5 chunk becomes the Zarr
chunk at the same grid position: its deflate stream re-wrapped as a gzip member (:mod:`.gzip_wrap`:
inflated once for the CRC-32, which checks its Adler-32 too), the Fletcher-32 checked and dropped, a
CRC-32C appended. Zarr's core ``gzip`` codec is chosen over numcodecs' ``zlib`` (which would take the
stream as it is, without inflating) because every Zarr v3 reader implements ``gzip`` (zarr-python,
tensorstore, zarrita.js) and only zarr-python knows numcodecs' codecs. A chunk stored with a filter
skipped (its filter mask is not 0) takes the decode path. A shuffled dataset has no core Zarr v3 codec
for its shuffle, so ``layout="keep"`` gives it plain gzip and it is decoded and re-encoded.
"""

from __future__ import annotations

import os
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np
import zarr
from zarr.codecs import BytesCodec, Crc32cCodec, GzipCodec
from zarr.core.buffer import default_buffer_prototype
from zarr.core.metadata import ArrayV3Metadata
from zarr.core.sync import sync

from nwbzarr.backends.hdf5.filters import DEFLATE, FLETCHER32, filter_codes, without_fletcher32
from nwbzarr.backends.zarr_v3.gzip_wrap import zlib_to_gzip
from nwbzarr.backends.zarr_v3.raw_record import RawCopy
from nwbzarr.backends.zarr_v3.shard_format import with_crc32c
from nwbzarr.core.progress import Callback
from nwbzarr.writing.blocks import read_region

__all__ = ["copy_hdf5_chunks", "raw_hdf5_plan"]


def raw_hdf5_plan(array: zarr.Array[Any], data: Any) -> tuple[Any, bool, bool] | None:
    """``(h5py dataset, fletcher32, crc32c)`` when ``array`` can take ``data``'s chunks re-wrapped; else None."""
    dataset = getattr(data, "h5py_dataset", None)
    if dataset is None or dataset.chunks is None or dataset.is_virtual or dataset.external:
        return None
    dtype = np.dtype(dataset.dtype)
    little = dtype.byteorder in ("<", "|") or (dtype.byteorder == "=" and sys.byteorder == "little")
    if not little or dtype.kind not in "biuf" or dtype.subdtype is not None or data.dtype != dtype:
        return None
    if array.dtype != dtype.newbyteorder("<") or tuple(array.shape) != tuple(dataset.shape) or array.shards:
        return None
    if tuple(array.chunks) != tuple(dataset.chunks) or np.any(np.asarray(dataset.fillvalue) != 0):
        return None
    metadata = array.metadata
    if not isinstance(metadata, ArrayV3Metadata):
        return None
    codecs = list(metadata.codecs)
    crc = bool(codecs) and isinstance(codecs[-1], Crc32cCodec)
    core = codecs[:-1] if crc else codecs
    if [type(c) for c in core] != [BytesCodec, GzipCodec] or getattr(core[0], "endian", None) not in (None, "little"):
        return None
    if np.any(np.asarray(metadata.fill_value) != 0):
        return None
    codes = [code for code, _ in filter_codes(dataset)]
    if codes not in ([DEFLATE], [DEFLATE, FLETCHER32]):
        return None
    return dataset, codes == [DEFLATE, FLETCHER32], crc


def copy_hdf5_chunks(array: zarr.Array[Any], data: Any, progress: Callback) -> RawCopy | None:
    """Write every allocated chunk of ``data``'s HDF5 dataset into ``array`` re-wrapped; None if it cannot."""
    plan = raw_hdf5_plan(array, data)
    if plan is None:
        return None
    dataset, checksummed, crc = plan
    origins = data.stored_chunks()  # the allocated chunks only (chunk_iter): a sparse grid is never walked
    if origins is None:
        return None
    chunks, shape = tuple(dataset.chunks), tuple(dataset.shape)
    expected = int(np.prod(chunks)) * array.dtype.itemsize
    store = array.store_path.store
    prototype = default_buffer_prototype()
    record = RawCopy(path=dataset.name, how="hdf5 deflate -> gzip")

    def convert(origin: tuple[int, ...], stored: bytes) -> int:
        """One chunk (a pool thread: zlib releases the GIL): re-wrapped, checked, stored; its stored size."""
        where = f"{dataset.name}: chunk at {origin}"
        body = without_fletcher32(where, stored) if checksummed else stored
        wrapped = zlib_to_gzip(body, expected, where)
        out = with_crc32c(wrapped) if crc else wrapped
        coords = tuple(o // c for o, c in zip(origin, chunks, strict=True))
        sync(store.set(_key(array, coords), prototype.buffer.from_bytes(out)))
        return len(out)

    workers = os.cpu_count() or 2
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="nwbzarr-rewrap") as pool:
        pending: list[tuple[int, Future[int]]] = []
        for origin in sorted(tuple(int(o) for o in origin) for origin in origins):
            region = tuple(slice(o, min(o + c, n)) for o, c, n in zip(origin, chunks, shape, strict=True))
            values = int(np.prod([r.stop - r.start for r in region])) * array.dtype.itemsize
            mask, stored = dataset.id.read_direct_chunk(origin)  # file reads only, under h5py's lock: this thread
            if mask:  # a filter was skipped for this chunk: HDF5 (through the decode path) knows what it holds
                _drain(pending, record, progress, keep=0)
                array[region] = read_region(data, region)
                record.decoded += 1
                progress.advance(values)
                continue
            pending.append((values, pool.submit(convert, origin, bytes(stored))))
            _drain(pending, record, progress, keep=4 * workers)  # a few chunks' bytes wait for a thread
        _drain(pending, record, progress, keep=0)
    return record


def _drain(pending: list[tuple[int, Future[int]]], record: RawCopy, progress: Callback, *, keep: int) -> None:
    while len(pending) > keep:
        values, job = pending.pop(0)
        record.stored_bytes += job.result()
        record.objects += 1
        record.value_bytes += values
        progress.advance(values)


def _key(array: zarr.Array[Any], coords: tuple[int, ...]) -> str:
    key = array.metadata.encode_chunk_key(coords)
    return f"{array.store_path.path}/{key}" if array.store_path.path else key
