"""An open remote HDF5 file: its source, its disk-cache entry, h5py over the block-caching file object.

Picklable: a Dask worker gets the URL, options and identity, and opens h5py itself only if it must
(datasets read through h5py); chunk indexes travel with the arrays, or come from the disk cache.
"""

from __future__ import annotations

import threading
from typing import Any

from nwbzarr._optional import require
from nwbzarr.backends.hdf5.chunk_index import ChunkIndex
from nwbzarr.backends.hdf5.index_cache import CacheEntry, open_entry
from nwbzarr.backends.hdf5.remote_file import RemoteFile
from nwbzarr.backends.hdf5.remote_source import RemoteSource
from nwbzarr.errors import InvalidStoreError

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
                raw = self.raw
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
                    found = ChunkIndex.of(self.h5[path])
                    if entry is not None:
                        entry.put_index(path, found)
                self._indexes[path] = found
            return found

    def close(self) -> None:
        with self._lock:
            if self._h5 is not None:
                self._h5.close()
                self._h5 = None
            self._raw = None
            self.source.close()
