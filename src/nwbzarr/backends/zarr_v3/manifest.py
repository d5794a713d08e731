"""The write manifest: how a store tells a finished write from an interrupted one, and proves its bytes.

A writer puts ``nwbzarr.json`` at the store root before it writes anything (``"state": "writing"``, or
``"appending"``), and, once every object is written, commits in three steps: the manifest becomes
``"committing"`` (the CRC-32 and size of every object, and the new consolidated root document), then the
consolidated root ``zarr.json`` is written (readers see the new state from here on), then the manifest
becomes ``"complete"``. Readers refuse a store whose first write never finished; an interrupted append
still shows its last complete state, because its consolidated metadata was not replaced. Before an
append overwrites an object of the last complete state it journals it (``nwbzarr.journal/``: the key,
and for metadata documents their old bytes), so that the next writer can roll the store back exactly
(see :mod:`~nwbzarr.backends.zarr_v3.recovery`). ``verify`` re-reads every object and checks it
against the manifest. Stores written by other tools have no manifest and read as usual.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from zarr.abc.store import ByteRequest, Store
from zarr.core.buffer import Buffer, BufferPrototype, default_buffer_prototype
from zarr.core.sync import sync
from zarr.storage import WrapperStore

from nwbzarr.backends.zarr_v3.lock import LOCK_KEY
from nwbzarr.errors import IncompleteStoreError, InvalidStoreError

__all__ = [
    "JOURNAL_PREFIX",
    "MANIFEST_KEY",
    "CheckedStore",
    "ManifestStore",
    "check_complete",
    "RootCapture",
    "checksum",
    "clear_journal",
    "is_bookkeeping",
    "read_manifest",
    "write_state",
]

MANIFEST_KEY = "nwbzarr.json"
JOURNAL_PREFIX = "nwbzarr.journal/"
State = Literal["writing", "appending", "committing", "complete"]


def checksum(data: bytes) -> list[int]:
    """An object's manifest entry: ``[size, crc32]``."""
    return [len(data), zlib.crc32(data)]


def _journal_key(key: str) -> str:
    return JOURNAL_PREFIX + hashlib.sha1(key.encode(), usedforsecurity=False).hexdigest()


def is_bookkeeping(key: str) -> bool:
    """nwbzarr's own objects (manifest, lock, journal), which are not part of the file."""
    return key in (MANIFEST_KEY, LOCK_KEY) or key.startswith(JOURNAL_PREFIX)


@dataclass
class _Record:
    """Shared by every copy zarr makes of a ManifestStore."""

    objects: dict[str, list[int]]
    last_complete: frozenset[str]  # objects an append must journal before it overwrites them
    journaled: set[str] = field(default_factory=set)


class ManifestStore(WrapperStore[Store]):
    """Records the size and CRC-32 of every object set through it; journals what an append overwrites.

    ``objects`` is the last complete state's list when appending (``None`` for a new store); every
    object of it is journaled before its first overwrite.
    """

    def __init__(
        self, store: Store, objects: dict[str, list[int]] | None = None, *, record: _Record | None = None
    ) -> None:
        super().__init__(store)
        self.record = record or _Record(dict(objects or {}), frozenset(objects or ()))

    @property
    def objects(self) -> dict[str, list[int]]:
        return self.record.objects

    def _with_store(self, store: Store) -> ManifestStore:
        return type(self)(store, record=self.record)

    @property
    def wrapped(self) -> Store:
        """The store underneath, for writers in other processes (they report checksums with :meth:`add`)."""
        return self._store

    def add(self, objects: dict[str, list[int]]) -> None:
        """Record objects written around this store (new objects only: nothing to journal)."""
        self.record.objects.update(objects)

    async def set(self, key: str, value: Buffer) -> None:
        data = value.to_bytes()
        if is_bookkeeping(key):
            await self._store.set(key, value)
            return
        if key in self.record.last_complete and key not in self.record.journaled:
            self.record.journaled.add(key)
            await self._journal(key)
        self.record.objects[key] = checksum(data)
        await self._store.set(key, value)

    async def _journal(self, key: str) -> None:
        old: str | None = None
        if key.endswith("zarr.json"):  # metadata is restored byte for byte; chunks only re-checksummed
            buffer = await self._store.get(key, prototype=default_buffer_prototype())
            old = buffer.to_bytes().decode() if buffer is not None else None
        entry = json.dumps({"key": key, "old": old}).encode()
        await self._store.set(_journal_key(key), default_buffer_prototype().buffer.from_bytes(entry))

    async def get(self, key: str, prototype: BufferPrototype, byte_range: ByteRequest | None = None) -> Buffer | None:
        return await self._store.get(key, prototype, byte_range)

    async def delete(self, key: str) -> None:
        self.record.objects.pop(key, None)
        await self._store.delete(key)

    async def set_if_not_exists(self, key: str, value: Buffer) -> None:
        if not await self._store.exists(key):
            await self.set(key, value)

    def _set_many(self, values: Iterable[tuple[str, Buffer]]) -> Any:  # pragma: no cover - zarr internals
        raise NotImplementedError


class RootCapture(WrapperStore[Store]):
    """Keeps the root ``zarr.json`` that consolidation writes instead of storing it (for the commit)."""

    def __init__(self, store: Store, box: list[bytes] | None = None) -> None:
        super().__init__(store)
        self.box = box if box is not None else []

    def _with_store(self, store: Store) -> RootCapture:
        return type(self)(store, self.box)

    async def set(self, key: str, value: Buffer) -> None:
        if key == "zarr.json":
            self.box.append(value.to_bytes())
            return
        await self._store.set(key, value)

    def captured(self) -> bytes:
        if not self.box:
            raise RuntimeError("consolidation wrote no root document")
        return self.box[-1]


async def clear_journal(store: Store) -> None:
    """Delete the journal of the append that just committed (or was repaired)."""
    keys = [key async for key in store.list_prefix(JOURNAL_PREFIX)]
    for key in keys:
        await store.delete(key)


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
    if manifest is None or manifest.get("state") in ("complete", "appending", "committing"):
        return
    started = manifest.get("started", "an unknown time")
    raise IncompleteStoreError(
        f"{where} is incomplete: a write started at {started} never finished (the writer was interrupted). "
        f"Write it again with mode 'w' (or convert with overwrite, `nwbzarr convert --overwrite`) to replace it, "
        "or delete the store"
    )


def write_state(
    store: Store,
    state: State,
    objects: dict[str, list[int]] | None = None,
    previous: dict[str, Any] | None = None,
    *,
    root: bytes | None = None,
) -> dict[str, Any]:
    """Put the manifest; ``committing`` and ``complete`` carry every object's ``[size, crc32]``.

    ``whole`` says the list covers every object of the store (nwbzarr wrote it from the start), which
    lets a rollback delete what an interrupted append left behind; ``root`` (``committing`` only) is the
    consolidated root document about to be written, so that a commit can be rolled forward.
    """
    from nwbzarr import __version__

    now = datetime.now(UTC).isoformat()
    manifest: dict[str, Any] = {"format": "nwbzarr-manifest/1", "writer": f"nwbzarr {__version__}", "state": state}
    manifest["whole"] = state == "writing" or bool((previous or {}).get("whole"))
    if state in ("complete", "committing"):
        manifest["started"] = (previous or {}).get("started", now)
        if state == "complete":
            manifest["finished"] = now
        manifest["objects"] = dict(sorted((objects or {}).items()))
        if root is not None:
            manifest["root"] = root.decode()
    else:
        manifest["started"] = now
        if previous is not None and "objects" in previous:
            manifest["objects"] = previous["objects"]  # an interrupted append keeps the last complete list
    data = json.dumps(manifest, separators=(",", ":")).encode()
    sync(store.set(MANIFEST_KEY, default_buffer_prototype().buffer.from_bytes(data)))
    return manifest
