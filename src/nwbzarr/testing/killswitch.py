"""A store that kills its own process with SIGKILL just before its n-th change: crashes at exact points.

A kill from outside lands wherever the writer happens to be; this one lands *between* two chosen store
changes (sets and deletes), so a test can walk a write from its first change to its last and check what
a reader finds at every point. The process gets no chance to clean up, as with a power cut or an OOM
kill. ``at=0`` never kills and only counts, which tells a test how many changes a whole write makes;
``key=`` counts only the changes of one key (``at=2, key="nwbzarr.json"``: just before the second
manifest write).
"""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass

from zarr.abc.store import Store
from zarr.core.buffer import Buffer
from zarr.storage import WrapperStore

__all__ = ["KillSwitchStore"]


@dataclass
class _Count:
    """Shared by every copy zarr makes of the store (``with_read_only`` and the like)."""

    at: int
    key: str | None = None
    changes: int = 0  # all changes
    counted: int = 0  # the changes that count towards ``at``

    def before_change(self, key: str) -> None:
        self.changes += 1
        if self.key is None or key == self.key:
            self.counted += 1
            if self.counted == self.at:
                os.kill(os.getpid(), signal.SIGKILL)


class KillSwitchStore(WrapperStore[Store]):
    """``KillSwitchStore(store, at=12)``: the 12th set or delete never happens, nor anything after it."""

    def __init__(self, store: Store, *, at: int = 0, key: str | None = None, count: _Count | None = None) -> None:
        super().__init__(store)
        self.count = count or _Count(at, key)

    @property
    def changes(self) -> int:
        """Changes made so far (with ``at=0``: all of them, once the work is done)."""
        return self.count.changes

    def _with_store(self, store: Store) -> KillSwitchStore:
        return type(self)(store, count=self.count)

    async def set(self, key: str, value: Buffer) -> None:
        self.count.before_change(key)
        await self._store.set(key, value)

    async def set_if_not_exists(self, key: str, value: Buffer) -> None:
        self.count.before_change(key)
        await self._store.set_if_not_exists(key, value)

    async def delete(self, key: str) -> None:
        self.count.before_change(key)
        await self._store.delete(key)

    async def delete_dir(self, prefix: str) -> None:
        async for key in self._store.list_prefix(prefix):  # one change per object, so each can be a kill point
            await self.delete(key)

    async def clear(self) -> None:
        await self.delete_dir("")
