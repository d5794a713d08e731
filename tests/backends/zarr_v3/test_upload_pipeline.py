"""Shards stored several at a time while the next are encoded (issue 18, upload speed), with a bound.

A store that holds every write for a moment shows how many are in flight at once: more than one (the
uploads overlap), never more than the writer's bound, and every shard reads back exactly.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import zarr
from zarr.abc.store import Store
from zarr.codecs import ZstdCodec
from zarr.core.buffer import Buffer
from zarr.storage import LocalStore, WrapperStore

from nwbzarr.backends.zarr_v3.shard_format import ShardLayout
from nwbzarr.backends.zarr_v3.shards import ShardWriter


class _Slow(WrapperStore[Store]):
    """Each set waits a little before it lands; counts the sets in flight at once (copies share the count)."""

    def __init__(self, store: Store, box: dict[str, int] | None = None) -> None:
        super().__init__(store)
        self.box = box if box is not None else {"now": 0, "most": 0, "sets": 0}

    def _with_store(self, store: Store) -> _Slow:
        return type(self)(store, self.box)

    async def set(self, key: str, value: Buffer) -> None:
        if "/c/" not in f"/{key}":
            await self._store.set(key, value)
            return
        self.box["now"] += 1
        self.box["most"] = max(self.box["most"], self.box["now"])
        try:
            await asyncio.sleep(0.05)
            await self._store.set(key, value)
            self.box["sets"] += 1
        finally:
            self.box["now"] -= 1


def _write(tmp_path: Path, inflight: int, inflight_bytes: int | None = None) -> tuple[dict[str, int], bool]:
    store = _Slow(LocalStore(tmp_path / f"a-{inflight}-{inflight_bytes}.zarr"))
    shape = (128, 16, 16)
    array = zarr.create_array(
        store, shape=shape, chunks=(4, 16, 16), shards=(16, 16, 16), dtype="uint16", compressors=[ZstdCodec(level=1)]
    )
    values = np.random.default_rng(3).integers(0, 60000, shape, dtype=np.uint16)  # hardly compressible
    layout = ShardLayout.of(array)
    assert layout is not None
    with ThreadPoolExecutor(2) as pool, ThreadPoolExecutor(inflight) as uploads:
        writer = ShardWriter(layout, pool, 2, uploads=uploads, inflight=inflight, inflight_bytes=inflight_bytes)
        for start in range(0, shape[0], 16):
            assert writer.write((slice(start, start + 16), slice(0, 16), slice(0, 16)), values[start : start + 16])
        writer.flush()
    return store.box, bool(np.array_equal(zarr.open_array(store, mode="r")[:], values))


def test_several_shards_are_in_flight_at_once_within_the_bound(tmp_path: Path) -> None:
    box, equal = _write(tmp_path, inflight=3)
    assert equal and box["sets"] == 8
    assert 1 < box["most"] <= 3, box


def test_the_byte_bound_holds_uploads_back(tmp_path: Path) -> None:
    """A shard of ~8 KiB and a bound of 12 KiB: never two in flight, however many threads could send."""
    box, equal = _write(tmp_path, inflight=4, inflight_bytes=12 * 1024)
    assert equal and box["sets"] == 8
    assert box["most"] == 1, box
