"""A resumed write keeps an object the interrupted attempt stored but never noted, if its bytes are the same.

The upload of a shard can finish as the writer is killed, before its note is saved. The resume knows
the object's size from the store; before it sends the same key with that size it reads the object back
and compares the CRC-32: equal, the upload is skipped (and noted); different, it is sent.
"""

from __future__ import annotations

from zarr.abc.store import Store
from zarr.core.buffer import Buffer, default_buffer_prototype
from zarr.core.sync import sync
from zarr.storage import MemoryStore, WrapperStore

from nwbzarr.backends.zarr_v3.manifest import ManifestStore, checksum
from nwbzarr.backends.zarr_v3.resume import leftover_sizes


class _Sets(WrapperStore[Store]):
    """Remembers the keys set through it."""

    def __init__(self, store: Store, box: list[str] | None = None) -> None:
        super().__init__(store)
        self.box = box if box is not None else []

    def _with_store(self, store: Store) -> _Sets:
        return type(self)(store, self.box)

    async def set(self, key: str, value: Buffer) -> None:
        self.box.append(key)
        await self._store.set(key, value)


def _buffer(data: bytes) -> Buffer:
    return default_buffer_prototype().buffer.from_bytes(data)


def test_a_leftover_with_the_same_bytes_is_kept_and_others_are_sent() -> None:
    under = MemoryStore()
    for key, data in {"a/c/0": b"same bytes", "a/c/1": b"old bytes!", "a/c/2": b"short", "a/zarr.json": b"{}"}.items():
        sync(under.set(key, _buffer(data)))
    sync(under.set("nwbzarr.resume/1-1.json", _buffer(b"{}")))
    recorded = {"a/c/3": checksum(b"noted")}
    leftovers = sync(leftover_sizes(under, recorded))
    assert leftovers == {"a/c/0": 10, "a/c/1": 10, "a/c/2": 5}  # no documents, no bookkeeping, nothing noted
    sets = _Sets(under)
    recorder = ManifestStore(sets, leftovers=leftovers)
    for key, data in {"a/c/0": b"same bytes", "a/c/1": b"new bytes!", "a/c/2": b"longer now"}.items():
        sync(recorder.set(key, _buffer(data)))
    assert sets.box == ["a/c/1", "a/c/2"]  # the same bytes were read back, not sent
    assert recorder.objects["a/c/0"] == checksum(b"same bytes")
    got = sync(under.get("a/c/1", prototype=default_buffer_prototype()))
    assert got is not None and got.to_bytes() == b"new bytes!"
