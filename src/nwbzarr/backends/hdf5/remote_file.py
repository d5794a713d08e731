"""A read-only file object over a remote HDF5 file for h5py's metadata reads: fixed blocks, cached.

h5py reads an NWB file's metadata (superblock, object headers, attributes, B-tree nodes) in thousands of
reads of a few hundred bytes, clustered where the writer put them. Each read becomes a block fetch only
if its block is not held yet; a read spanning missing blocks fetches them in one request. Measured on
PyNWB files with a 600 x 512 x 512 movie (benchmarks/RESULTS-remote.md): opening and walking the whole
tree takes 5 requests with 64 KiB blocks and 3 with 256 KiB to 16 MiB (gzip-4 frame chunks; 4 and 2
uncompressed). :data:`BLOCK_SIZE` = 1 MiB keeps that count with room for files with more metadata
(tables, masks: small datasets are read through h5py, from these blocks), at 3 MB moved, where s3fs's
50 MiB default block downloads a small file whole. Bulk data never comes through here
(:mod:`.remote_reader` fetches exact chunk ranges), so the blocks held in memory stay few.
"""

from __future__ import annotations

import io
import threading
from collections import OrderedDict
from typing import Protocol

from nwbzarr.backends.hdf5.remote_source import RemoteSource

__all__ = ["BLOCK_SIZE", "MAX_BLOCKS", "BlockStore", "RemoteFile"]

#: bytes of one cached block: one request brings the metadata of many objects
BLOCK_SIZE = 1024 * 1024
#: blocks held in memory (64 MiB); older ones are dropped (they stay in the disk cache, if on)
MAX_BLOCKS = 64


class BlockStore(Protocol):
    """Where blocks persist between opens (:class:`.index_cache.CacheEntry`)."""

    def get_block(self, number: int) -> bytes | None: ...

    def put_block(self, number: int, data: bytes) -> None: ...


class RemoteFile(io.RawIOBase):
    """``h5py.File(RemoteFile(source), "r")``: positioned reads served from cached blocks."""

    def __init__(self, source: RemoteSource, *, block_size: int = BLOCK_SIZE, store: BlockStore | None = None) -> None:
        super().__init__()
        self.source = source
        self.block_size = block_size
        self.store = store
        self.size = source.size
        self.fetches = 0  # requests this object made (tests and benchmarks)
        self._pos = 0
        self._blocks: OrderedDict[int, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self.size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        data = self.pread(self._pos, min(len(view), max(0, self.size - self._pos)))
        view[: len(data)] = data
        self._pos += len(data)
        return len(data)

    def pread(self, start: int, nbytes: int) -> bytes:
        """Bytes ``[start, start + nbytes)`` (clipped at the end of the object)."""
        stop = min(start + nbytes, self.size)
        if stop <= start:
            return b""
        first, last = start // self.block_size, (stop - 1) // self.block_size
        with self._lock:
            blocks = [self._block(n) for n in range(first, last + 1)] if self._held(first, last) else None
        if blocks is None:
            blocks = self._fetch(first, last)
        joined = b"".join(blocks)
        offset = start - first * self.block_size
        return joined[offset : offset + stop - start]

    def preload(self, start: int, data: bytes) -> None:
        """Keep the whole blocks that ``data`` (the bytes at ``start``) covers, as if fetched (no request)."""
        stop = start + len(data)
        first = -(-start // self.block_size)
        with self._lock:
            for n in range(first, self.size // self.block_size + 1):
                lo, hi = n * self.block_size, min((n + 1) * self.block_size, self.size)
                if hi > stop or lo >= hi:
                    break
                block = data[lo - start : hi - start]
                self._keep(n, block)
                if self.store is not None:
                    self.store.put_block(n, block)

    def peek(self, start: int, nbytes: int) -> bytes | None:
        """Bytes ``[start, start + nbytes)`` if every block they lie in is held (in memory or on disk), else
        ``None``: never a request (:mod:`.remote_btree` fetches what is missing together)."""
        stop = min(start + nbytes, self.size)
        if stop <= start:
            return b""
        first, last = start // self.block_size, (stop - 1) // self.block_size
        with self._lock:
            if not self._held(first, last):
                return None
            joined = b"".join(self._block(n) for n in range(first, last + 1))
        offset = start - first * self.block_size
        return joined[offset : offset + stop - start]

    def _held(self, first: int, last: int) -> bool:
        """Whether blocks ``first..last`` are in memory or in the disk cache (loaded into memory if so)."""
        for n in range(first, last + 1):
            if n in self._blocks:
                continue
            stored = self.store.get_block(n) if self.store is not None else None
            if stored is None:
                return False
            self._keep(n, stored)
        return True

    def _block(self, n: int) -> bytes:
        self._blocks.move_to_end(n)
        return self._blocks[n]

    def _fetch(self, first: int, last: int) -> list[bytes]:
        """Blocks ``first..last`` in one request (the ones held are fetched again: one request beats two)."""
        start, stop = first * self.block_size, min((last + 1) * self.block_size, self.size)
        data = self.source.read(start, stop)
        self.fetches += 1
        blocks = [data[i : i + self.block_size] for i in range(0, len(data), self.block_size)]
        with self._lock:
            for n, block in zip(range(first, last + 1), blocks, strict=True):
                self._keep(n, block)
                if self.store is not None:
                    self.store.put_block(n, block)
        return blocks

    def _keep(self, n: int, block: bytes) -> None:
        self._blocks[n] = block
        self._blocks.move_to_end(n)
        while len(self._blocks) > MAX_BLOCKS:
            self._blocks.popitem(last=False)
