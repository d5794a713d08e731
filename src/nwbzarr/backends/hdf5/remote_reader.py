"""The lazy array of a remote HDF5 dataset: a slice fetches exactly its chunks' byte ranges, all at once.

h5py reads chunk after chunk through the file object, one round trip each (a 512-frame time course: 512
sequential requests). Here a read plans every chunk it touches from the dataset's :class:`.ChunkIndex`,
merges neighbouring ranges (:func:`nwbzarr.storage.ranges.merge`), sends them together (``max_inflight``,
256 by default) and decodes each in a thread pool as it arrives (:class:`.Pipeline`: deflate by libdeflate
when installed, shuffle, fletcher32, numcodecs). Contiguous datasets are read as spans of rows
(:mod:`.contiguous`), copied into place on the event loop's thread when small. Text, references, compounds,
small datasets and filters nothing here decodes go through h5py (over the block cache); the last says so once.
"""

from __future__ import annotations

import itertools
import math
import os
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np
from zarr.core.sync import sync

from nwbzarr.abc.array import Index, LazyArray, as_box, drop_integer_axes
from nwbzarr.backends.hdf5.chunk_index import NOT_STORED, ChunkIndex
from nwbzarr.backends.hdf5.contiguous import spans
from nwbzarr.backends.hdf5.filters import Pipeline
from nwbzarr.backends.hdf5.remote_chunks import StoredChunk, stored_chunk_batches
from nwbzarr.backends.hdf5.remote_handle import RemoteHDF5File
from nwbzarr.core.dtypes import DataType
from nwbzarr.storage.ranges import MAX_IN_FLIGHT, fetch_ranges, merge
from nwbzarr.writing.blocks import DEFAULT_BUDGET, block_shape, overlap

if TYPE_CHECKING:
    import dask.array

__all__ = ["DECODE_RANGE_BYTES", "DIRECT_MIN_BYTES", "FEW_CHUNKS", "INLINE_COPY_BYTES", "RemoteH5Array"]

#: a read of at most this many chunks, before the dataset's chunk index exists, looks its chunks up one by one
FEW_CHUNKS = 8
#: datasets whose values take fewer bytes than this are read through h5py: their bytes are usually in a metadata
#: block already fetched (and cached on disk), where a direct read would cost a request
DIRECT_MIN_BYTES = 1024 * 1024

#: ranges of a contiguous dataset up to this size are copied into place on the event loop's thread (no pool hop)
INLINE_COPY_BYTES = 1024 * 1024
#: merged ranges of chunks to decode grow no larger than this: one pool thread decodes a whole range, so a few
#: 16 MiB ranges left a core idle at the end of a read (gzip time course, 2 threads, same process, alternating:
#: 7 ranges of 16 MiB 485-571 ms, 27 of 4 MiB 422-509 ms on a loaded machine; 380-460 / 290-300 ms for 16 / 2 MiB
#: in quieter runs). In flight together, more ranges cost no round trips
DECODE_RANGE_BYTES = 4 * 1024 * 1024

_warned: set[str] = set()

Region = tuple[slice, ...]


class RemoteH5Array(LazyArray):
    """One dataset of a :class:`RemoteHDF5File`; picklable (Dask workers fetch ranges themselves)."""

    def __init__(self, file: RemoteHDF5File, dataset: Any, dtype: DataType, fallback: LazyArray) -> None:
        self.file = file
        self.path: str = dataset.name
        self._dtype = dtype
        self._shape = tuple(int(n) for n in dataset.shape)
        self._chunks = tuple(int(c) for c in dataset.chunks) if dataset.chunks else None
        self._fallback: LazyArray | None = fallback
        self._plan: tuple[Pipeline | None, Any] | None = None  # (pipeline, fill value)
        self._index: ChunkIndex | None = None
        # by the values' size: a chunked dataset's stored size would walk its whole chunk B-tree at open
        self._direct = (
            isinstance(dtype, np.dtype)
            and dtype.kind in "biuf"
            and dtype.subdtype is None
            and len(self._shape) > 0
            and math.prod(self._shape) * dtype.itemsize >= DIRECT_MIN_BYTES
        )

    @property
    def shape(self) -> tuple[int, ...]:
        return self._shape

    @property
    def dtype(self) -> DataType:
        return self._dtype

    @property
    def chunks(self) -> tuple[int, ...] | None:
        return self._chunks

    @property
    def h5py_dataset(self) -> Any:
        """The h5py dataset over the block cache: its metadata (filters, fill value) plans a raw copy."""
        return self.file.h5[self.path]

    def stored_chunks(self) -> list[tuple[int, ...]] | None:
        """Origins of the allocated chunks, from the chunk index (as the local reader's, for the same copies);
        None for contiguous data, text or compounds, and a fill value other than 0."""
        dtype = self._dtype
        if self._chunks is None or not isinstance(dtype, np.dtype) or dtype.kind not in "biuf":
            return None
        fill = self.h5py_dataset.fillvalue
        if fill is not None and np.any(np.asarray(fill) != 0):
            return None
        index = self._full_index()
        chunks = self._chunks
        stored = np.argwhere(index.offsets != NOT_STORED)
        return [tuple(int(g) * c for g, c in zip(grid, chunks, strict=True)) for grid in stored]

    def stored_chunk_batches(self, origins: list[tuple[int, ...]]) -> Iterator[list[StoredChunk]]:
        """The chunks at ``origins`` as stored (compressed), fetched by range in bounded batches
        (:mod:`.remote_chunks`): a raw copy re-wraps them without decoding."""
        return stored_chunk_batches(self.file.source, self._full_index(), origins, held=self.file.raw.peek)

    def __getstate__(self) -> dict[str, Any]:
        if self._direct:
            self._planned()
            self._full_index()  # the index travels with the array: a worker never walks the B-tree again
        state = dict(self.__dict__)
        state["_fallback"] = None
        return state

    def __dask_tokenize__(self) -> tuple[str, str, str]:
        return ("nwbzarr-remote-hdf5", self.file.url, self.path)

    def _read(self, key: Index) -> np.ndarray:
        box = as_box(key)
        if self._direct and box is not None:
            pipeline, fill = self._planned()
            if pipeline is not None or self._chunks is None:
                out = np.empty(tuple(s.stop - s.start for s in box), dtype=self.numpy_dtype)
                if out.size:
                    self._fetch(box, out, pipeline, fill)
                return drop_integer_axes(out, key)
        return self._h5py_read(key)

    def _h5py_read(self, key: Index) -> np.ndarray:
        if self._fallback is None:
            from nwbzarr.backends.hdf5.reader import H5LazyArray

            self._fallback = H5LazyArray(self.file.h5[self.path], self._dtype)
        return np.asarray(self._fallback[key])

    def _planned(self) -> tuple[Pipeline | None, Any]:
        if self._plan is None:
            dataset = self.file.h5[self.path]
            pipeline: Pipeline | None = None
            if dataset.chunks is not None:
                found = Pipeline.of(dataset)
                if isinstance(found, str):
                    if found not in _warned:
                        _warned.add(found)
                        warnings.warn(
                            f"{self.file.url}{self.path}: HDF5 filter {found!r} is not decoded by nwbzarr; "
                            "datasets using it are read through h5py (one request per chunk)",
                            stacklevel=3,
                        )
                else:
                    pipeline = found
            self._plan = (pipeline, dataset.fillvalue)
        return self._plan

    def _full_index(self) -> ChunkIndex:
        if self._index is None:
            self._index = self.file.index(self.path)
        return self._index

    def _locator(self, grids: list[tuple[int, ...]]) -> Callable[[tuple[int, ...]], tuple[int, int, int]]:
        """Where chunks ``grids`` are stored: from the chunk index, or, for a read of a few chunks before the
        index exists, from a lookup of those chunks alone in the chunk B-tree (:mod:`.remote_btree`: one leaf,
        not all of them; HDF5's own lookup walks the leaves from the left, a request each)."""
        index = self._index or self.file.known_index(self.path)
        if index is None and len(grids) <= FEW_CHUNKS and self._chunks is not None:
            chunks = self._chunks
            tree = self.file.tree(self.path)
            if tree is not None:  # the leaves on the way, one request a level (the root is held since open)
                origins = {grid: tuple(g * c for g, c in zip(grid, chunks, strict=True)) for grid in grids}
                stored = tree.find(origins.values())
                located = {}
                for grid, origin in origins.items():
                    entry = stored.get(origin)
                    located[grid] = (NOT_STORED, 0, 0) if entry is None else (entry.child, entry.size, entry.mask)
                return located.__getitem__
            dataset = self.file.h5[self.path]
            found = {}
            for grid in grids:
                info = dataset.id.get_chunk_info_by_coord(tuple(g * c for g, c in zip(grid, chunks, strict=True)))
                offset = NOT_STORED if info.byte_offset is None else int(info.byte_offset)
                found[grid] = (offset, int(info.size or 0), int(info.filter_mask or 0))
            return found.__getitem__
        self._index = index = index or self.file.index(self.path)
        return lambda grid: (int(index.offsets[grid]), int(index.sizes[grid]), int(index.masks[grid]))

    def _fetch(self, box: Region, out: np.ndarray, pipeline: Pipeline | None, fill: Any) -> None:
        """Fill ``out`` (the values of ``box``): plan the byte ranges, fetch them together, decode as they arrive."""
        chunks = self._chunks
        if chunks is None:
            index = self._full_index()  # contiguous: its offset, no B-tree
            if int(index.offsets[0]) == NOT_STORED:  # never written: the fill value
                out[...] = fill
                return
            pieces: list[tuple[int, int, Any]] = list(
                spans(box, self._shape, out.dtype.itemsize, int(index.offsets[0]))
            )
        else:
            pieces = []
            grids = list(_chunks_touching(box, chunks))
            locate = self._locator(grids)
            for grid in grids:
                offset, nbytes, mask = locate(grid)
                origin = tuple(g * c for g, c in zip(grid, chunks, strict=True))
                source, target = overlap(origin, chunks, box)
                if offset == NOT_STORED:
                    out[target] = fill
                else:
                    pieces.append((offset, nbytes, (origin, mask, source, target)))
        if not pieces:
            return
        ranges = merge(pieces) if chunks is None else merge(pieces, max_bytes=DECODE_RANGE_BYTES)
        assert pipeline is not None or chunks is None

        def handle(start: int, data: bytes, members: list[tuple[int, int, Any]]) -> None:
            view = memoryview(data)
            for offset, nbytes, what in members:
                stored = view[offset - start : offset - start + nbytes]  # no copy of the range's bytes
                if chunks is None:
                    out[what.target] = what.values(stored, out.dtype)
                else:
                    assert pipeline is not None
                    origin, mask, source, target = what
                    out[target] = pipeline.decode(stored, mask, origin)[source]

        workers = min(max(os.cpu_count() or 2, 2), len(ranges))
        get = self.file.source.get
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="nwbzarr-h5-decode") as pool:
            # the storage option max_inflight (checked by make_store when the source opened), else the default
            in_flight = (self.file.source.storage_options or {}).get("max_inflight", MAX_IN_FLIGHT)
            inline = INLINE_COPY_BYTES if chunks is None else 0  # contiguous: handle() only copies
            sync(fetch_ranges(ranges, get, handle, pool=pool, in_flight=int(in_flight), inline_bytes=inline))

    def to_dask(self, chunks: Any = None) -> dask.array.Array:
        """Dask chunks of whole file chunks, grouped up to about 64 MiB a task (each task: one planned read).

        Tasks of one chunk each would be thousands of tiny tasks and requests; ``chunks`` overrides.
        """
        from nwbzarr.core.optional import require

        da = require("dask.array", "LazyArray.to_dask()")
        unit = self._chunks or (1, *self._shape[1:])  # contiguous: whole frames, each task one byte run
        if chunks is None:
            chunks = block_shape(self._shape, unit, self.numpy_dtype.itemsize, DEFAULT_BUDGET)
        out: dask.array.Array = da.from_array(
            self, chunks=chunks, asarray=True, fancy=False, meta=np.empty((0,) * self.ndim, self.numpy_dtype)
        )
        return out


def _chunks_touching(box: Region, chunks: tuple[int, ...]) -> Iterator[tuple[int, ...]]:
    spans = [range(s.start // c, -(-s.stop // c)) for s, c in zip(box, chunks, strict=True)]
    return itertools.product(*spans)
