"""Resuming an interrupted write: what it recorded as it went, and whether a resume continues the same work.

Every object a resumable write stores (through :class:`~.manifest.ManifestStore`) is noted with its size
and CRC-32, and the notes are saved as small objects under ``nwbzarr.resume/`` every :data:`EVERY`
objects, :data:`BYTES` bytes or :data:`SECONDS` seconds, whichever comes first; object stores cannot
append, so the record is a series of objects, each named by the attempt (its start time) and a
sequence number. A writer killed at any point loses at most the notes since the last save: those
objects are written again. The manifest of the write (``"writing"``) carries the *plan*: the source's
fingerprint and the conversion's options, which a resume must match.

A resume keeps every recorded object whose stored size is still the recorded one (one ``stat`` or
``HEAD`` per object, never a read of its bytes); the CRC-32 of each is checked by the verification that
follows every conversion, which re-reads the whole store. Whole shards that are kept are not even read
from the source nor encoded again (:func:`reusable`); other objects (metadata, chunks written by zarr)
are encoded again and their upload is skipped when the bytes are the recorded ones. A shard whose
multipart upload was cut off keeps the parts the server holds (:mod:`nwbzarr.storage.multipart`); the
commit aborts every upload still in progress (:func:`clear_progress`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any

import zarr
from zarr.abc.store import Store
from zarr.core.buffer import default_buffer_prototype

from nwbzarr.backends.zarr_v3.manifest import (
    RESUME_PREFIX,
    Entry,
    ManifestStore,
    delete_all,
    is_bookkeeping,
    manifest_objects,
)
from nwbzarr.backends.zarr_v3.shard_format import Region, ShardLayout
from nwbzarr.errors import ResumeRefusedError
from nwbzarr.storage import multipart
from nwbzarr.storage.jsonlimits import parse_json

__all__ = [
    "BYTES",
    "EVERY",
    "SECONDS",
    "ResumeLog",
    "check_plan",
    "clear_progress",
    "kept_objects",
    "leftover_sizes",
    "read_progress",
    "reusable",
]

#: the notes are saved after this many objects...
EVERY = 32
#: ... or this many bytes of objects...
BYTES = 4 * 2**20
#: ... or this many seconds since the last save
SECONDS = 1.0
_CHECKS = 16  # size checks in flight at once (HEAD requests on object storage)


class ResumeLog:
    """Notes each stored object; saves the notes as one small object now and then (see the module doc)."""

    def __init__(
        self, store: Store, *, every: int | None = None, nbytes: int | None = None, seconds: float | None = None
    ) -> None:
        self.store = store
        self.every = every if every is not None else EVERY  # the module's values are read now: settable
        self.nbytes = nbytes if nbytes is not None else BYTES
        self.seconds = seconds if seconds is not None else SECONDS
        self.attempt = f"{time.time_ns():020d}"  # sorts after every earlier attempt's notes
        self.saved = 0  # notes saved so far
        self._seq = 0
        self._pending: dict[str, Entry] = {}
        self._pending_bytes = 0
        self._last = time.monotonic()

    async def note(self, key: str, entry: Entry, *, now: bool = False) -> None:
        """Note that ``key`` is stored with ``entry``; save the notes if enough came or time passed (or ``now``).

        ``now`` for a shard: its note is saved at once (one small object per shard of megabytes), so that a
        kill costs only the shards whose upload had not finished.
        """
        self._pending[key] = entry
        self._pending_bytes += entry[0]
        if (
            now
            or len(self._pending) >= self.every
            or self._pending_bytes >= self.nbytes
            or time.monotonic() - self._last >= self.seconds
        ):
            await self.flush()

    def saved_keys(self) -> list[str]:
        """The objects of the notes this log saved (a new write's commit removes them without listing)."""
        return [f"{RESUME_PREFIX}{self.attempt}-{seq:08d}.json" for seq in range(1, self._seq + 1)]

    async def flush(self) -> None:
        """Save the pending notes as one object (nothing if there are none)."""
        if not self._pending:
            return
        batch, self._pending, self._pending_bytes = self._pending, {}, 0
        self._last = time.monotonic()
        self._seq += 1
        key = f"{RESUME_PREFIX}{self.attempt}-{self._seq:08d}.json"
        data = json.dumps({"objects": batch}, separators=(",", ":")).encode()
        await self.store.set(key, default_buffer_prototype().buffer.from_bytes(data))
        self.saved += len(batch)


async def read_progress(store: Store, where: str) -> dict[str, Entry]:
    """Every object the earlier attempts noted (the latest note of a key wins), checked like a manifest."""
    keys = sorted([key async for key in store.list_prefix(RESUME_PREFIX)])
    objects: dict[str, Entry] = {}
    for key in keys:
        value = await store.get(key, prototype=default_buffer_prototype())
        if value is None:
            continue
        doc = parse_json(value.to_bytes(), what=f"{where}: the resume record {key}")
        objects.update(manifest_objects(doc if isinstance(doc, dict) else {"objects": doc}, f"{where}: {key}"))
    return objects


async def _sizes(store: Store, keys: list[str]) -> list[int | None]:
    """The stored size of each of ``keys`` (None where it is gone), ``_CHECKS`` requests at a time."""
    limit = asyncio.Semaphore(_CHECKS)

    async def size(key: str) -> int | None:
        async with limit:
            try:
                return await store.getsize(key)
            except FileNotFoundError:
                return None

    return await asyncio.gather(*(size(key) for key in keys))


async def kept_objects(store: Store, recorded: dict[str, Entry]) -> dict[str, Entry]:
    """The recorded objects still stored with their recorded size (the rest is written again)."""
    sizes = await _sizes(store, list(recorded))
    return {key: entry for (key, entry), n in zip(recorded.items(), sizes, strict=True) if n == entry[0]}


async def leftover_sizes(store: Store, recorded: dict[str, Entry]) -> dict[str, int]:
    """Objects in the store that no note records (documents and bookkeeping aside), with their sizes.

    Their uploads finished as the interrupted attempt was killed, before their notes were saved; the
    resumed write reads back those it is about to send with the same size, and keeps them if equal.
    """
    keys = [
        key
        async for key in store.list()
        if key not in recorded and not is_bookkeeping(key) and not key.endswith("zarr.json")
    ]
    sizes = await _sizes(store, keys)
    return {key: n for key, n in zip(keys, sizes, strict=True) if n}


async def clear_progress(store: Store, saved: list[str] | None = None) -> None:
    """Delete the resume record, and abort the multipart uploads left in progress (the write committed).

    Every object of the write is stored by now (the manifest lists them), so an upload still in progress
    under the store is debris of an interrupted attempt (or of an upload the write replaced) that costs
    storage until aborted. They are listed while the notes are deleted (one request, overlapped). An
    abort that fails leaves its upload to the next commit (the write itself is complete). ``saved``: the
    notes, when the caller knows them all (a new write: :meth:`ResumeLog.saved_keys`), so none are listed.
    """
    notes = saved if saved is not None else [key async for key in store.list_prefix(RESUME_PREFIX)]
    await asyncio.gather(delete_all(store, notes), _abort_uploads(store))


async def _abort_uploads(store: Store) -> None:
    # over obstore only if this process made multipart uploads there (or listed them for a resume): a write of
    # small objects imports no s3fs for it; the debris of an earlier attempt waits for a commit that does
    target = multipart.target_of(store, build=False)
    if target is None:
        return
    with contextlib.suppress(OSError):
        await target.abort_all()


def check_plan(recorded: Any, plan: dict[str, Any], where: str) -> None:
    """Refuse a resume whose source or options differ from the first attempt's, naming what changed."""
    if not isinstance(recorded, dict):
        raise ResumeRefusedError(
            f"{where}: cannot resume: the interrupted write recorded no conversion plan (it was no conversion, "
            "or an nwbzarr without resume wrote it); convert again with --overwrite"
        )
    for part, what in (("source", "the source changed since the first attempt"), ("options", "the options differ")):
        then, now = recorded.get(part) or {}, plan.get(part) or {}
        changed = [
            f"{name}: {then.get(name)!r} then, {now.get(name)!r} now"
            for name in sorted(set(then) | set(now))
            if then.get(name) != now.get(name)
        ]
        if changed:
            raise ResumeRefusedError(
                f"{where}: cannot resume: {what} ({'; '.join(changed)}). The copy there is left as it is; "
                "resume with the first attempt's source and options, or convert again with --overwrite"
            )


def reusable(array: zarr.Array[Any], region: Region) -> bool:
    """Whether every shard of ``region`` (each wholly inside it) is kept from an earlier attempt.

    Then the region need not be read from the source nor encoded: the kept shards are recorded as
    written. A shard that ``region`` covers only in part is never reused (an earlier attempt may have
    stored it before its other part was written).
    """
    store = array.store_path.store
    if not isinstance(store, ManifestStore) or not store.record.kept:
        return False
    layout = ShardLayout.of(array)
    if layout is None:
        return False
    keys: list[str] = []
    for coords, part in layout.shards_touching(region):
        if part != layout.extent(coords):
            return False
        keys.append(layout.key(coords))
    return store.reuse(keys)
