"""Read gzip-compressed HDF5 chunks with every core: raw chunk bytes from h5py, inflated in threads.

h5py serialises all calls to the HDF5 library, which inflates each chunk while it holds that lock, so
reading a gzip-compressed movie (how PyNWB files usually store one) runs on one core whatever the
caller does, and that inflate is most of the cost of converting such a file. For datasets whose filter
pipeline is exactly deflate, optionally after shuffle, nwbzarr asks h5py for each chunk's stored bytes
(``read_direct_chunk``: no decompression under the lock) and inflates and un-shuffles them in a thread
pool (``zlib`` releases the GIL). Any other pipeline, or a read of a few chunks, goes through h5py.
"""

from __future__ import annotations

import itertools
import math
import os
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np

from nwbzarr.backends.hdf5.filters import Pipeline
from nwbzarr.writing.blocks import overlap

__all__ = ["MIN_CHUNKS", "GzipChunkReader"]

#: reads touching fewer chunks than this go through h5py (a thread pool is not worth it)
MIN_CHUNKS = 8
_DEFLATE, _SHUFFLE = 1, 2

#: what ``_stored`` returns for a chunk HDF5 stored with a filter skipped (its filter mask is not 0)
_FILTER_SKIPPED = b"filter skipped"


class GzipChunkReader:
    """Reads unit-step regions of one chunked, deflate-compressed numeric HDF5 dataset."""

    def __init__(self, dataset: Any, shuffle: bool, pipeline: Pipeline) -> None:
        self.dataset = dataset
        self.shuffle = shuffle
        self.pipeline = pipeline  # the decoder the remote reader uses too
        self.chunks: tuple[int, ...] = tuple(dataset.chunks)
        self.dtype = np.dtype(dataset.dtype)
        self.fill = dataset.fillvalue

    @classmethod
    def of(cls, dataset: Any) -> GzipChunkReader | None:
        """A reader for ``dataset``, or ``None`` if its layout or filters are not ones it decodes."""
        if dataset.chunks is None or dataset.dtype.kind not in "biuf" or dataset.dtype.subdtype is not None:
            return None
        plist = dataset.id.get_create_plist()
        codes = [plist.get_filter(i)[0] for i in range(plist.get_nfilters())]
        pipeline = Pipeline.of(dataset)
        if codes not in ([_DEFLATE], [_SHUFFLE, _DEFLATE]) or not isinstance(pipeline, Pipeline):
            return None
        return cls(dataset, shuffle=codes[0] == _SHUFFLE, pipeline=pipeline)

    def read(self, region: tuple[slice, ...]) -> np.ndarray | None:
        """``dataset[region]``, or ``None`` when the region is too small to be worth the threads."""
        spans = [range(s.start // c, -(-s.stop // c)) for s, c in zip(region, self.chunks, strict=True)]
        if math.prod(len(s) for s in spans) < MIN_CHUNKS:
            return None
        out = np.empty(tuple(s.stop - s.start for s in region), dtype=self.dtype)
        workers = os.cpu_count() or 2
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="nwbzarr-inflate") as pool:
            jobs: list[Future[None]] = []
            for grid in itertools.product(*spans):
                origin = tuple(g * c for g, c in zip(grid, self.chunks, strict=True))
                stored = self._stored(origin)  # under h5py's lock, in this thread: file reads only
                if stored is _FILTER_SKIPPED:
                    return None  # HDF5 stored this chunk with a filter skipped: h5py knows what to do
                jobs.append(pool.submit(self._place, origin, stored, region, out))
                if len(jobs) > 4 * workers:  # bounded: a few chunks' bytes wait for a thread
                    jobs.pop(0).result()
            for job in jobs:
                job.result()
        return out

    def _stored(self, origin: tuple[int, ...]) -> bytes | None:
        """A chunk's stored bytes, ``None`` if it was never written (it reads as the fill value)."""
        if self.dataset.id.get_chunk_info_by_coord(origin).byte_offset is None:
            return None
        mask, data = self.dataset.id.read_direct_chunk(origin)
        return bytes(data) if not mask else _FILTER_SKIPPED

    def _place(self, origin: tuple[int, ...], stored: bytes | None, region: tuple[slice, ...], out: np.ndarray) -> None:
        """Inflate one chunk (a pool thread) and copy its part of ``region`` into ``out``."""
        source, target = overlap(origin, self.chunks, region)
        if stored is None:
            out[target] = self.fill
            return
        out[target] = self.pipeline.decode(stored, 0, origin)[source]  # inflate, un-shuffle: zlib releases the GIL
