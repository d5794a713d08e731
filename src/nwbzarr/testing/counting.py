"""A zarr store wrapper that counts reads: how tests (and users) prove that a read is lazy."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Iterable
from typing import Any

from zarr.abc.store import ByteRequest, Store
from zarr.core.buffer import Buffer, BufferPrototype
from zarr.storage import WrapperStore

__all__ = ["CountingStore"]


class CountingStore(WrapperStore[Store]):
    """Counts ``get`` calls per key (``gets``) and listings (``lists``) on the wrapped store."""

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self.gets: Counter[str] = Counter()
        self.lists = 0
        self.bytes_read = 0  # bytes of every get (whole objects and ranges)

    def reset(self) -> None:
        """Forget the counts so far."""
        self.gets.clear()
        self.lists = 0
        self.bytes_read = 0

    @property
    def chunk_gets(self) -> int:
        """Reads of chunk data (anything but ``zarr.json`` metadata and the write manifest)."""
        return sum(n for key, n in self.gets.items() if not key.endswith(("zarr.json", "nwbzarr.json")))

    # zarr's own range coalescer over ``self.get``, so ranged reads inside shards are counted too
    # (WrapperStore would hand them straight to the wrapped store)
    get_ranges = Store.get_ranges  # type: ignore[assignment]  # same call, defaults spelled out

    def _with_store(self, store: Store) -> CountingStore:
        return type(self)(store)

    async def get(self, key: str, prototype: BufferPrototype, byte_range: ByteRequest | None = None) -> Buffer | None:
        """Count, then read from the wrapped store."""
        self.gets[key] += 1
        value = await self._store.get(key, prototype, byte_range)
        self.bytes_read += len(value) if value is not None else 0
        return value

    async def get_partial_values(
        self, prototype: BufferPrototype, key_ranges: Iterable[tuple[str, ByteRequest | None]]
    ) -> list[Buffer | None]:
        """Count each key, then read the ranges from the wrapped store."""
        key_ranges = list(key_ranges)
        for key, _ in key_ranges:
            self.gets[key] += 1
        return await self._store.get_partial_values(prototype, key_ranges)

    def list(self) -> AsyncIterator[str]:
        """Count a listing, then list the wrapped store."""
        self.lists += 1
        return self._store.list()

    def list_dir(self, prefix: str) -> AsyncIterator[str]:
        """Count a listing, then list one folder of the wrapped store."""
        self.lists += 1
        return self._store.list_dir(prefix)

    def list_prefix(self, prefix: str) -> AsyncIterator[str]:
        """Count a listing, then list a prefix of the wrapped store."""
        self.lists += 1
        return self._store.list_prefix(prefix)

    def __repr__(self) -> str:
        return f"CountingStore({self._store!r}, gets={sum(self.gets.values())})"

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)
