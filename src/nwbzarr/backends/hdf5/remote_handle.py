"""An open remote HDF5 file: its source, its disk-cache entry, h5py over the block-caching file object.

Picklable: a Dask worker gets the URL, options and identity, and opens h5py itself only if it must
(datasets read through h5py); chunk indexes travel with the arrays, or come from the disk cache.
"""

from __future__ import annotations

import struct
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from zarr.core.sync import sync

from nwbzarr.backends.hdf5.chunk_index import ChunkIndex
from nwbzarr.backends.hdf5.index_cache import CacheEntry, has_entry, open_entry
from nwbzarr.backends.hdf5.remote_btree import ChunkTree, chunk_tree_root, istore_k, node_bytes
from nwbzarr.backends.hdf5.remote_file import BLOCK_SIZE, RemoteFile
from nwbzarr.backends.hdf5.remote_source import RemoteSource
from nwbzarr.core.optional import require
from nwbzarr.errors import InvalidStoreError
from nwbzarr.storage.ranges import fetch_ranges, merge

__all__ = ["RemoteHDF5File"]


class RemoteHDF5File:
    """``RemoteHDF5File(url, storage_options)``: ``.h5`` is the h5py file, ``.index(path)`` a chunk index."""

    def __init__(self, url: str, storage_options: dict[str, Any] | None = None) -> None:
        self.source = RemoteSource(url, storage_options)
        self._entry: CacheEntry | None = None
        self._entry_opened = False
        self._raw: RemoteFile | None = None
        self._h5: Any = None
        self._indexes: dict[str, ChunkIndex] = {}
        self._trees: dict[str, ChunkTree | None] = {}
        self._lock = threading.RLock()

    @property
    def url(self) -> str:
        return self.source.url

    def __getstate__(self) -> dict[str, Any]:
        return {"source": self.source, "indexes": dict(self._indexes)}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["source"].url, state["source"].storage_options)  # type: ignore[misc]
        self.source = state["source"]
        self._indexes = state["indexes"]

    @property
    def entry(self) -> CacheEntry | None:
        if not self._entry_opened:
            self._entry = open_entry(self.url, self.source.identity())
            self._entry_opened = True
        return self._entry

    @property
    def raw(self) -> RemoteFile:
        """The block-caching file object h5py reads (its ``fetches`` count the metadata requests)."""
        with self._lock:
            if self._raw is None:
                self._raw = RemoteFile(self.source, store=self.entry)
            return self._raw

    @property
    def h5(self) -> Any:
        with self._lock:
            if self._h5 is None:
                h5py = require("h5py", "HDF5 files")
                primed = None if has_entry(self.url) else self.source.probe(BLOCK_SIZE, BLOCK_SIZE)
                raw = self.raw
                if primed is not None:  # cold: head and tail came in one round trip, the object's identity too
                    first, last = primed
                    raw.preload(0, first)
                    raw.preload(raw.size - len(last), last)
                head = raw.pread(0, 8)
                if head != b"\x89HDF\r\n\x1a\n":
                    raise InvalidStoreError(f"{self.url}: not an HDF5 file (it starts with {head[:8]!r})")
                try:
                    self._h5 = h5py.File(raw, "r")
                except OSError as exc:
                    raise InvalidStoreError(f"{self.url}: not a readable HDF5 file: {exc}") from exc
            return self._h5

    def known_index(self, path: str) -> ChunkIndex | None:
        """The chunk index of ``path`` if it is remembered or in the disk cache (never built here)."""
        with self._lock:
            found = self._indexes.get(path)
            if found is None and self.entry is not None:
                found = self.entry.get_index(path)
                if found is not None:
                    self._indexes[path] = found
            return found

    def index(self, path: str) -> ChunkIndex:
        """The chunk index of dataset ``path``: remembered, else from the disk cache, else built (and cached)."""
        with self._lock:
            found = self._indexes.get(path)
            if found is None:
                entry = self.entry
                found = entry.get_index(path) if entry is not None else None
                if found is None:
                    found = self._build_index(path)
                    if entry is not None:
                        entry.put_index(path, found)
                self._indexes[path] = found
            return found

    def _build_index(self, path: str) -> ChunkIndex:
        """From the chunk B-tree read here (a round trip per level), else h5py's ``chunk_iter`` (a request
        per node, one after another)."""
        dataset = self.h5[path]
        tree = self.tree(path)
        if tree is None:
            return ChunkIndex.of(dataset)
        shape = tuple(int(n) for n in dataset.shape)
        chunks = tuple(int(c) for c in dataset.chunks)
        return ChunkIndex.from_entries(shape, chunks, ((e.offset, e.child, e.size, e.mask) for e in tree.all()))

    def tree(self, path: str) -> ChunkTree | None:
        """The chunk B-tree of chunked dataset ``path`` for lookups without h5py, or ``None`` (another chunk
        index, or a layout this does not parse: h5py is used then)."""
        with self._lock:
            if path not in self._trees:
                self._trees[path] = self._make_tree(path)
            return self._trees[path]

    def _make_tree(self, path: str) -> ChunkTree | None:
        h5py = require("h5py", "HDF5 files")
        dataset = self.h5[path]
        if dataset.chunks is None:
            return None
        sizeof_addr, sizeof_size = self.h5.id.get_create_plist().get_sizes()
        # the object header's address; H5Oget_info would walk the whole chunk B-tree for its storage size
        low, high = h5py.h5g.get_objinfo(self.h5.id, dataset.name.encode()).objno
        header = int(low) + (int(high) << 64)
        raw = self.raw
        try:
            found = chunk_tree_root(raw.pread, header, sizeof_addr, sizeof_size)
        except (InvalidStoreError, struct.error, IndexError, ValueError):
            return None
        if found is None or found[1] != dataset.ndim:
            return None
        root, rank = found
        size = node_bytes(rank, istore_k(raw.pread(0, 64)), sizeof_addr)
        return ChunkTree(root, rank, size, self.read_many, sizeof_addr, f"{self.url}{path}")

    def read_many(self, ranges: list[tuple[int, int]]) -> list[bytes]:
        """Byte ranges of the file: from the metadata blocks held, the rest fetched together (neighbours merged)."""
        raw, entry = self.raw, self.entry
        size = raw.size
        ranges = [(start, min(nbytes, size - start)) for start, nbytes in ranges]
        out: list[bytes | None] = [raw.peek(start, nbytes) for start, nbytes in ranges]
        if entry is not None:
            out = [b if b is not None else entry.get_range(*r) for b, r in zip(out, ranges, strict=True)]
        pieces = [(start, nbytes, i) for i, (start, nbytes) in enumerate(ranges) if out[i] is None]
        if pieces:

            def handle(start: int, data: bytes, members: list[tuple[int, int, int]]) -> None:
                for offset, nbytes, i in members:
                    piece = out[i] = data[offset - start : offset - start + nbytes]
                    if entry is not None:
                        entry.put_range(offset, piece)

            merged = merge(pieces)
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="nwbzarr-h5-nodes") as pool:
                sync(fetch_ranges(merged, self.source.get, handle, pool=pool))
            raw.fetches += len(merged)
        return [b or b"" for b in out]

    def close(self) -> None:
        with self._lock:
            if self._h5 is not None:
                self._h5.close()
                self._h5 = None
            self._raw = None
            self.source.close()
