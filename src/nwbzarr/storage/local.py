"""A local Zarr store that a hostile store cannot use to reach outside itself or exhaust memory.

``SafeLocalStore`` is zarr's ``LocalStore`` (so everything that checks for one keeps working) with
every key checked, every path resolved and kept inside the root, only regular files read, and every
read bounded by what the store declares (:mod:`~nwbzarr.storage.bounds`); metadata documents are
also checked for size and nesting depth (:mod:`~nwbzarr.storage.jsonlimits`) before zarr parses them.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Self

from zarr.abc.store import ByteRequest, OffsetByteRequest, RangeByteRequest, SuffixByteRequest
from zarr.core.buffer import Buffer, BufferPrototype, default_buffer_prototype
from zarr.storage import LocalStore

from nwbzarr.errors import InvalidStoreError
from nwbzarr.storage.bounds import UNKNOWN_OBJECT_BYTES, array_object_bound, is_metadata_key
from nwbzarr.storage.jsonlimits import MAX_JSON_BYTES, check_json, parse_json
from nwbzarr.storage.keys import check_store_key
from nwbzarr.storage.safe_files import read_bounded, resolve_key, resolve_prefix

__all__ = ["SafeLocalStore", "is_unfinished_write"]

#: the temporary file zarr's LocalStore writes a value to before renaming it into place
#: (``<name>.<uuid4 hex>.partial``): one left behind by a killed writer is no object of the store
_UNFINISHED = re.compile(r"\.[0-9a-f]{32}\.partial$")


def is_unfinished_write(key: str) -> bool:
    """Whether ``key`` is the temporary file of a write that never finished (hidden from listings)."""
    return _UNFINISHED.search(key) is not None


class SafeLocalStore(LocalStore):
    """A ``LocalStore`` that never leaves its root, reads only regular files, and bounds every read.

    ``metadata_bytes`` caps a JSON document, ``unknown_object_bytes`` an object whose array declares
    no fixed size; a chunk or shard of a fixed-size array may hold its declared size plus codec overhead.
    """

    def __init__(
        self,
        root: Path | str,
        *,
        read_only: bool = False,
        metadata_bytes: int = MAX_JSON_BYTES,
        unknown_object_bytes: int = UNKNOWN_OBJECT_BYTES,
    ) -> None:
        super().__init__(root, read_only=read_only)
        self.metadata_bytes = metadata_bytes
        self.unknown_object_bytes = unknown_object_bytes
        self._bounds: dict[str, int] = {}  # parent prefix of a chunk key -> its object bound

    def with_read_only(self, read_only: bool = False) -> Self:
        """The same store, read-only or writable, with the same bounds."""
        return type(self)(
            self.root,
            read_only=read_only,
            metadata_bytes=self.metadata_bytes,
            unknown_object_bytes=self.unknown_object_bytes,
        )

    def __repr__(self) -> str:
        return f"SafeLocalStore('{self}')"

    @property
    def _where(self) -> str:
        return str(self.root)

    # --- bounds ---------------------------------------------------------------------------------
    def _document(self, key: str) -> bytes | None:
        path = resolve_key(self.root, key, self._where)
        data = read_bounded(path, limit=self.metadata_bytes, what=f"{self._where}/{key}")
        return None if data is None else check_json(data, what=f"{self._where}/{key}", max_bytes=self.metadata_bytes)

    def _limit(self, key: str) -> int:
        """The most bytes the object at ``key`` may have (found from the array it belongs to)."""
        if is_metadata_key(key):
            return self.metadata_bytes
        parent = key.rpartition("/")[0]
        visited: list[str] = []
        bound = self.unknown_object_bytes
        while True:
            if parent in self._bounds:
                bound = self._bounds[parent]
                break
            visited.append(parent)
            doc_key = f"{parent}/zarr.json" if parent else "zarr.json"
            data = self._document(doc_key)
            if data is not None:
                document = parse_json(data, what=f"{self._where}/{doc_key}", max_bytes=self.metadata_bytes)
                if isinstance(document, dict) and document.get("node_type") == "array":
                    bound = array_object_bound(document) or self.unknown_object_bytes
                break  # the first node above a chunk is its array (a group: not a chunk of any array)
            if not parent:
                break
            parent = parent.rpartition("/")[0]
        for prefix in visited:
            self._bounds[prefix] = bound
        return bound

    # --- reads ----------------------------------------------------------------------------------
    def _read(self, key: str, byte_range: ByteRequest | None) -> bytes | None:
        path = resolve_key(self.root, key, self._where)
        what = f"{self._where}/{key}"
        start = length = suffix = None
        if isinstance(byte_range, RangeByteRequest):
            start, length = byte_range.start, max(0, byte_range.end - byte_range.start)
        elif isinstance(byte_range, OffsetByteRequest):
            start = byte_range.offset
        elif isinstance(byte_range, SuffixByteRequest):
            suffix = byte_range.suffix
        elif byte_range is not None:
            raise TypeError(f"unexpected byte_range {byte_range!r}")
        data = read_bounded(path, limit=self._limit(key), what=what, start=start, length=length, suffix=suffix)
        if data is not None and byte_range is None and is_metadata_key(key):  # every one is a JSON document
            check_json(data, what=what, max_bytes=self.metadata_bytes)
        return data

    def _buffer(self, key: str, prototype: BufferPrototype | None, byte_range: ByteRequest | None) -> Buffer | None:
        data = self._read(key, byte_range)
        return None if data is None else (prototype or default_buffer_prototype()).buffer.from_bytes(data)

    def get_sync(
        self, key: str, *, prototype: BufferPrototype | None = None, byte_range: ByteRequest | None = None
    ) -> Buffer | None:
        """The object at ``key`` (or a range of it), bounded; None if absent."""
        self._ensure_open_sync()
        return self._buffer(key, prototype, byte_range)

    async def get(
        self, key: str, prototype: BufferPrototype | None = None, byte_range: ByteRequest | None = None
    ) -> Buffer | None:
        """The object at ``key`` (or a range of it), bounded; None if absent."""
        await self._ensure_open()
        return await asyncio.to_thread(self._buffer, key, prototype, byte_range)

    async def get_partial_values(
        self, prototype: BufferPrototype, key_ranges: Iterable[tuple[str, ByteRequest | None]]
    ) -> list[Buffer | None]:
        """Several bounded reads at once."""
        return list(await asyncio.gather(*(self.get(key, prototype, rng) for key, rng in key_ranges)))

    async def exists(self, key: str) -> bool:
        """Whether ``key`` is a file (a key or link leading outside the store is an error)."""
        path = await asyncio.to_thread(resolve_key, self.root, key, self._where)
        return await asyncio.to_thread(path.is_file)

    async def getsize(self, key: str) -> int:
        """The size of the file at ``key`` (inside the store)."""
        path = await asyncio.to_thread(resolve_key, self.root, key, self._where)
        return (await asyncio.to_thread(os.stat, path)).st_size

    async def list_prefix(self, prefix: str) -> AsyncIterator[str]:
        """Keys under ``prefix``, which must lie inside the store."""
        await asyncio.to_thread(resolve_prefix, self.root, prefix, self._where)
        async for key in super().list_prefix(prefix):
            if not is_unfinished_write(key):
                yield key

    async def list_dir(self, prefix: str) -> AsyncIterator[str]:
        """Names directly under ``prefix``, which must lie inside the store."""
        await asyncio.to_thread(resolve_prefix, self.root, prefix, self._where)
        async for name in super().list_dir(prefix):
            if not is_unfinished_write(name):
                yield name

    async def list(self) -> AsyncIterator[str]:
        """Every key of the store, without the temporary files of writes that never finished."""
        async for key in super().list():
            if not is_unfinished_write(key):
                yield key

    # --- writes ---------------------------------------------------------------------------------
    def _forget(self, key: str) -> None:
        if is_metadata_key(key):  # an array may have been replaced: its bound is found again
            self._bounds.clear()

    async def _set(self, key: str, value: Buffer, exclusive: bool = False) -> None:
        await asyncio.to_thread(resolve_key, self.root, key, self._where)
        self._forget(key)
        await super()._set(key, value, exclusive=exclusive)

    def set_sync(self, key: str, value: Buffer) -> None:
        """Write ``key`` (its path must stay inside the store)."""
        resolve_key(self.root, key, self._where)
        self._forget(key)
        super().set_sync(key, value)

    async def delete(self, key: str) -> None:
        """Remove ``key``; a symlink is removed itself, never what it points at."""
        self._check_writable()
        self._forget(key)
        if not await asyncio.to_thread(self._delete_link, key):
            await super().delete(key)

    def delete_sync(self, key: str) -> None:
        """Remove ``key``; a symlink is removed itself, never what it points at."""
        self._check_writable()
        self._forget(key)
        if not self._delete_link(key):
            super().delete_sync(key)

    def _delete_link(self, key: str) -> bool:
        """Remove ``key`` if it is a symlink (the link itself, never what is behind it); else check it."""
        path = self.root / key
        if not path.is_symlink():
            resolve_key(self.root, key, self._where)
            return False
        check_store_key(key, what=f"{self._where}: store key")
        resolve_prefix(self.root, key.rpartition("/")[0], self._where)
        path.unlink()
        return True

    async def delete_dir(self, prefix: str) -> None:
        """Remove everything under ``prefix``, which must lie inside the store."""
        path = await asyncio.to_thread(resolve_prefix, self.root, prefix, self._where)
        if path == Path(os.path.realpath(self.root)) and prefix.strip("/"):
            raise InvalidStoreError(f"{self._where}: prefix {prefix!r} resolves to the store root")
        self._bounds.clear()
        await super().delete_dir(prefix)
