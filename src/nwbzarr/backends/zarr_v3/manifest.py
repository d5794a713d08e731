"""The write manifest: how a store tells a finished write from an interrupted one, and proves its bytes.

A writer puts ``nwbzarr.json`` at the store root before it writes anything (``"state": "writing"``, or
``"appending"``), and replaces it after the consolidated metadata with ``"state": "complete"`` and the
CRC-32 and size of every object it stored. Readers refuse a store whose write never finished (an
interrupted append still shows its last complete state: its consolidated metadata was not replaced);
``verify`` re-reads every object and checks it against the manifest. Stores written by other tools have
no manifest and read as usual.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Literal

from zarr.abc.store import ByteRequest, Store
from zarr.core.buffer import Buffer, BufferPrototype, default_buffer_prototype
from zarr.core.sync import sync
from zarr.storage import WrapperStore

from nwbzarr.errors import IncompleteStoreError, InvalidStoreError

__all__ = ["MANIFEST_KEY", "CheckedStore", "ManifestStore", "check_complete", "read_manifest", "write_state"]

MANIFEST_KEY = "nwbzarr.json"
State = Literal["writing", "appending", "complete"]


class ManifestStore(WrapperStore[Store]):
    """Records the size and CRC-32 of every object set through it."""

    def __init__(self, store: Store, objects: dict[str, list[int]] | None = None) -> None:
        super().__init__(store)
        self.objects: dict[str, list[int]] = dict(objects or {})

    def _with_store(self, store: Store) -> ManifestStore:
        return type(self)(store, self.objects)

    async def set(self, key: str, value: Buffer) -> None:
        data = value.to_bytes()
        if key not in (MANIFEST_KEY, "nwbzarr.lock"):
            self.objects[key] = [len(data), zlib.crc32(data)]
        await self._store.set(key, value)

    async def get(self, key: str, prototype: BufferPrototype, byte_range: ByteRequest | None = None) -> Buffer | None:
        return await self._store.get(key, prototype, byte_range)

    async def delete(self, key: str) -> None:
        self.objects.pop(key, None)
        await self._store.delete(key)

    async def set_if_not_exists(self, key: str, value: Buffer) -> None:
        if not await self._store.exists(key):
            await self.set(key, value)

    def _set_many(self, values: Iterable[tuple[str, Buffer]]) -> Any:  # pragma: no cover - zarr internals
        raise NotImplementedError


class CheckedStore(WrapperStore[Store]):
    """Reads that know which objects the writer stored: a missing one is an error, not fill values.

    Zarr reads an absent chunk as the fill value; for a store with a manifest, an object the writer
    stored that is gone now means damage, and reading it raises :class:`IncompleteStoreError`.
    """

    def __init__(self, store: Store, expected: frozenset[str]) -> None:
        super().__init__(store)
        self.expected = expected

    def _with_store(self, store: Store) -> CheckedStore:
        return type(self)(store, self.expected)

    async def get(self, key: str, prototype: BufferPrototype, byte_range: ByteRequest | None = None) -> Buffer | None:
        value = await self._store.get(key, prototype, byte_range)
        if value is None and key in self.expected:
            raise IncompleteStoreError(f"{key}: written by nwbzarr but missing now (run `nwbzarr verify`)")
        return value

    async def get_partial_values(
        self, prototype: BufferPrototype, key_ranges: Iterable[tuple[str, ByteRequest | None]]
    ) -> list[Buffer | None]:
        key_ranges = list(key_ranges)
        values = await self._store.get_partial_values(prototype, key_ranges)
        for (key, _), value in zip(key_ranges, values, strict=True):
            if value is None and key in self.expected:
                raise IncompleteStoreError(f"{key}: written by nwbzarr but missing now (run `nwbzarr verify`)")
        return values


async def _get_json(store: Store, key: str) -> dict[str, Any] | None:
    buffer = await store.get(key, prototype=default_buffer_prototype())
    if buffer is None:
        return None
    try:
        value = json.loads(buffer.to_bytes())
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidStoreError(f"{key}: the write manifest is not valid JSON ({exc})") from exc
    if not isinstance(value, dict):
        raise InvalidStoreError(f"{key}: the write manifest is not a JSON object")
    return value


def read_manifest(store: Store) -> dict[str, Any] | None:
    """The manifest, or ``None`` for a store written by another tool."""
    return sync(_get_json(store, MANIFEST_KEY))


def check_complete(manifest: dict[str, Any] | None, where: str) -> None:
    """Raise if the last write of the store never finished (appends excepted: see the module doc)."""
    if manifest is None or manifest.get("state") in ("complete", "appending"):
        return
    started = manifest.get("started", "an unknown time")
    raise IncompleteStoreError(
        f"{where} is incomplete: a write started at {started} never finished (the writer was interrupted). "
        f"Write it again with mode 'w' (or convert again) to replace it, or delete the store"
    )


def write_state(
    store: Store, state: State, objects: dict[str, list[int]] | None = None, previous: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Put the manifest; ``complete`` carries every object's ``[size, crc32]``."""
    from nwbzarr import __version__

    now = datetime.now(UTC).isoformat()
    manifest: dict[str, Any] = {"format": "nwbzarr-manifest/1", "writer": f"nwbzarr {__version__}", "state": state}
    if state == "complete":
        manifest["started"] = (previous or {}).get("started", now)
        manifest["finished"] = now
        manifest["objects"] = dict(sorted((objects or {}).items()))
    else:
        manifest["started"] = now
        if previous is not None and "objects" in previous:
            manifest["objects"] = previous["objects"]  # an interrupted append keeps the last complete list
    data = json.dumps(manifest, separators=(",", ":")).encode()
    sync(store.set(MANIFEST_KEY, default_buffer_prototype().buffer.from_bytes(data)))
    return manifest
