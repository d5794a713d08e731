"""A fresh write lists what it stored from memory, exactly as the store underneath would list it.

The commit's consolidation walks every group with ``list_dir``: one round trip per group on object
storage. A fresh write (the lock held over a store that held nothing else) answers from its record.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import numpy as np
import zarr
from zarr.abc.store import Store
from zarr.core.buffer import default_buffer_prototype
from zarr.core.sync import sync
from zarr.storage import MemoryStore, WrapperStore

from nwbzarr.backends.zarr_v3.manifest import MANIFEST_KEY, ManifestStore, is_bookkeeping


class _Listings(WrapperStore[Store]):
    """Counts the listings asked of the store (zarr's copies of it share the count)."""

    def __init__(self, store: Store, box: list[int] | None = None) -> None:
        super().__init__(store)
        self.box = box if box is not None else [0]

    def _with_store(self, store: Store) -> _Listings:
        return type(self)(store, self.box)

    def list(self) -> AsyncIterator[str]:
        self.box[0] += 1
        return self._store.list()

    def list_prefix(self, prefix: str) -> AsyncIterator[str]:
        self.box[0] += 1
        return self._store.list_prefix(prefix)

    def list_dir(self, prefix: str) -> AsyncIterator[str]:
        self.box[0] += 1
        return self._store.list_dir(prefix)


async def _all(listing: object) -> list[str]:
    return sorted([key async for key in listing])  # type: ignore[attr-defined]


def test_listings_from_memory_equal_the_stores() -> None:
    under = MemoryStore()
    sync(under.set(MANIFEST_KEY, default_buffer_prototype().buffer.from_bytes(b"{}")))
    counting = _Listings(under)
    recorder = ManifestStore(counting, fresh=True, defer=True)
    root = zarr.open_group(recorder, mode="a", zarr_format=3)
    root.create_group("acquisition/movie").create_array("data", data=np.arange(40).reshape(10, 4), chunks=(2, 4))
    root.create_group("general").attrs["x"] = 1
    root.create_array("scalar", shape=(), dtype="int8", fill_value=3)
    before = counting.box[0]
    answers = {
        prefix: sync(_all(recorder.list_dir(prefix))) for prefix in ("", "acquisition", "acquisition/movie/data", "x")
    }
    prefixed = sync(_all(recorder.list_prefix("acquisition/")))
    everything = sync(_all(recorder.list()))
    assert counting.box[0] == before  # nothing was asked of the store
    sync(recorder.flush())  # the documents kept back are sent: now the store underneath can be compared
    for prefix, names in answers.items():
        stored = [name for name in sync(_all(under.list_dir(prefix))) if not is_bookkeeping(name)]
        assert names == stored, prefix
    assert prefixed == sync(_all(under.list_prefix("acquisition/")))
    assert everything == [key for key in sync(_all(under.list())) if not is_bookkeeping(key)]
    assert "acquisition/movie/data/c/4/0" in everything and "scalar/zarr.json" in everything
