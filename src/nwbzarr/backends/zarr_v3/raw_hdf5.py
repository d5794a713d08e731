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

A remote source (:class:`~nwbzarr.backends.hdf5.remote_reader.RemoteH5Array`) takes the same path: only
where the stored bytes come from differs (ranged GETs of its chunk index's ranges, merged, in flight and in
bounded batches, instead of ``read_direct_chunk``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
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

__all__ = ["PUTS_IN_FLIGHT", "copy_hdf5_chunks", "raw_hdf5_plan"]

#: re-wrapped chunks being stored at once (on S3 at 20 ms a PUT, two at a time made a 600-chunk copy 34 s)
PUTS_IN_FLIGHT = 16

#: ``(chunk origin, filter mask, stored bytes)``
type StoredChunk = tuple[tuple[int, ...], int, bytes]


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
    ordered = sorted(tuple(int(o) for o in origin) for origin in origins)
    # a remote dataset fetches its chunks by byte range in bounded batches; a local one reads them one by one
    remote = getattr(data, "stored_chunk_batches", None)
    batches = remote(ordered) if callable(remote) else _direct_chunks(dataset, ordered)
    copy = _Rewrap(array, data, dataset, checksummed=checksummed, crc=crc, progress=progress)
    copy.run(batches)
    return copy.record


class _Rewrap:
    """Chunks re-wrapped on every core, then stored by writer threads: a store on S3 takes tens of
    milliseconds a PUT, so :data:`PUTS_IN_FLIGHT` go at once (at most twice as many chunks wait)."""

    def __init__(
        self, array: zarr.Array[Any], data: Any, dataset: Any, *, checksummed: bool, crc: bool, progress: Callback
    ) -> None:
        self.array, self.data, self.dataset = array, data, dataset
        self.checksummed, self.crc, self.progress = checksummed, crc, progress
        self.chunks, self.shape = tuple(dataset.chunks), tuple(dataset.shape)
        self.expected = int(np.prod(self.chunks)) * array.dtype.itemsize
        self.record = RawCopy(path=dataset.name, how="hdf5 deflate -> gzip")
        self.workers = os.cpu_count() or 2
        self.pending: list[tuple[int, Future[tuple[int, Future[None]]]]] = []  # (values, re-wrap)
        self.writing: list[tuple[int, int, Future[None]]] = []  # (values, stored size, PUT)

    def run(self, batches: Iterable[list[StoredChunk]]) -> None:
        puts = ThreadPoolExecutor(max_workers=PUTS_IN_FLIGHT, thread_name_prefix="nwbzarr-rewrap-put")
        try:
            with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="nwbzarr-rewrap") as pool:
                for batch in batches:
                    for origin, mask, stored in batch:
                        self._one(origin, mask, stored, pool, puts)
                self._drain(keep=0, writes=0)
        finally:
            for _, job in self.pending:
                job.cancel()
            puts.shutdown(wait=True)

    def _one(self, origin: tuple[int, ...], mask: int, stored: bytes, pool: Executor, puts: Executor) -> None:
        region = tuple(slice(o, min(o + c, n)) for o, c, n in zip(origin, self.chunks, self.shape, strict=True))
        values = int(np.prod([r.stop - r.start for r in region])) * self.array.dtype.itemsize
        if mask:  # a filter was skipped for this chunk: HDF5 (through the decode path) knows what it holds
            self._drain(keep=0, writes=0)
            self.array[region] = read_region(self.data, region)
            self.record.decoded += 1
            self.progress.advance(values)
            return
        self.pending.append((values, pool.submit(self._convert, origin, stored, puts)))
        self._drain(keep=4 * self.workers, writes=2 * PUTS_IN_FLIGHT)  # a few chunks' bytes wait

    def _convert(self, origin: tuple[int, ...], stored: bytes, puts: Executor) -> tuple[int, Future[None]]:
        """One chunk (a pool thread: zlib releases the GIL): re-wrapped, checked, handed to a writer."""
        where = f"{self.dataset.name}: chunk at {origin}"
        body = without_fletcher32(where, stored) if self.checksummed else stored
        wrapped = zlib_to_gzip(body, self.expected, where)
        out = with_crc32c(wrapped) if self.crc else wrapped
        coords = tuple(o // c for o, c in zip(origin, self.chunks, strict=True))
        buffer = default_buffer_prototype().buffer.from_bytes(out)
        store = self.array.store_path.store
        return len(out), puts.submit(sync, store.set(_key(self.array, coords), buffer))

    def _drain(self, *, keep: int, writes: int) -> None:
        """Wait for re-wraps beyond ``keep`` and PUTs beyond ``writes``, oldest first (errors raise here)."""
        while len(self.pending) > keep:
            values, job = self.pending.pop(0)
            size, put = job.result()
            self.writing.append((values, size, put))
        while len(self.writing) > writes:
            values, size, put = self.writing.pop(0)
            put.result()
            self.record.stored_bytes += size
            self.record.objects += 1
            self.record.value_bytes += values
            self.progress.advance(values)


def _direct_chunks(dataset: Any, origins: list[tuple[int, ...]]) -> Iterator[list[StoredChunk]]:
    """A local dataset's chunks as stored, one at a time (file reads only, under h5py's lock: this thread)."""
    for origin in origins:
        mask, stored = dataset.id.read_direct_chunk(origin)
        yield [(origin, int(mask), bytes(stored))]


def _key(array: zarr.Array[Any], coords: tuple[int, ...]) -> str:
    key = array.metadata.encode_chunk_key(coords)
    return f"{array.store_path.path}/{key}" if array.store_path.path else key
