"""The write manifest: how a store tells a finished write from an interrupted one, and proves its bytes.

A writer puts ``nwbzarr.json`` at the store root before it writes anything (``"state": "writing"``, or
``"appending"``), and, once every object is written, commits in three steps: the manifest becomes
``"committing"`` (the size and CRC-32 of every object, and the new consolidated root document), then the
consolidated root ``zarr.json`` is written (readers see the new state from here on), then the manifest
becomes ``"complete"``. Readers refuse a store whose first write never finished; an interrupted append
still shows its last complete state, because its consolidated metadata was not replaced. Before an
append overwrites an object of the last complete state it journals it (``nwbzarr.journal/``: the key,
and for metadata documents their old bytes), so that the next writer can roll the store back exactly
(see :mod:`~nwbzarr.backends.zarr_v3.recovery`). ``verify`` re-reads every object and checks it
against the manifest. Stores written by other tools have no manifest and read as usual.

An object's entry is ``[size, crc32]``; a shard written by nwbzarr's shard writer also records its
index, ``[size, crc32, index_bytes, index_crc32]``, so that a ranged read (which fetches the index from
the shard's tail) can tell a shard swapped for another of the same array.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
import zlib
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

import numpy as np
from zarr.abc.store import ByteRequest, RangeByteRequest, Store, SuffixByteRequest
from zarr.core.buffer import Buffer, BufferPrototype, default_buffer_prototype
from zarr.core.sync import sync
from zarr.storage import WrapperStore

from nwbzarr.backends.zarr_v3.lock import LOCK_PREFIX
from nwbzarr.errors import IncompleteStoreError, InvalidStoreError, LockLostError
from nwbzarr.storage import conditional, multipart
from nwbzarr.storage.jsonlimits import parse_json
from nwbzarr.storage.keys import check_store_key
from nwbzarr.storage.multipart import MultipartTarget

__all__ = [
    "JOURNAL_PREFIX",
    "MANIFEST_KEY",
    "RESUME_PREFIX",
    "CheckedStore",
    "ManifestStore",
    "check_complete",
    "ReadBack",
    "RootCapture",
    "State",
    "checksum",
    "clear_journal",
    "commit_state",
    "delete_all",
    "entry_problem",
    "is_bookkeeping",
    "journal_key",
    "manifest_objects",
    "manifest_version",
    "manifest_version_async",
    "new_state",
    "read_manifest",
    "renewed",
    "write_state",
]

#: metadata documents a write sends at once when it flushes them (small PUTs: latency-bound)
FLUSH_CONCURRENCY = 32
#: documents kept back are sent when this many are waiting, or this many seconds after the last flush, so
#: that an interrupted conversion has most of its metadata stored and recorded for ``--resume``
FLUSH_DOCUMENTS = 32
FLUSH_SECONDS = 1.0

MANIFEST_KEY = "nwbzarr.json"
JOURNAL_PREFIX = "nwbzarr.journal/"
#: the write's progress record (every object written so far), for ``convert --resume``; see :mod:`.resume`
RESUME_PREFIX = "nwbzarr.resume/"
State = Literal["writing", "appending", "committing", "complete"]
Entry = list[int]


def checksum(data: bytes, index_bytes: int | None = None) -> Entry:
    """An object's manifest entry: ``[size, crc32]``, plus ``[index_bytes, crc32 of them]`` for a shard."""
    entry = [len(data), zlib.crc32(data)]
    if index_bytes is not None and 0 < index_bytes <= len(data):
        entry += [index_bytes, zlib.crc32(data[-index_bytes:])]
    return entry


def renewed(entry: Entry | None, data: bytes) -> Entry:
    """The entry of an object rewritten in place (a shard keeps recording its index)."""
    return checksum(data, entry[2] if entry is not None and len(entry) == 4 else None)


def entry_problem(entry: Entry, data: bytes | np.ndarray, byte_range: ByteRequest | None) -> str | None:
    """What is wrong with ``data`` (read with ``byte_range``) by the manifest's ``entry``, or None.

    A whole object is checked by size and CRC-32; a read of a shard's index (a suffix or range that is
    exactly its tail) by the index's CRC-32. Other ranged reads cannot be checked here (their chunks
    carry their own CRC-32C).
    """
    if byte_range is None:
        if len(data) != entry[0]:
            return f"{len(data)} bytes, the writer stored {entry[0]}"
        if zlib.crc32(data) != entry[1]:
            return "its checksum does not match the manifest (the bytes changed, or it was swapped for another object)"
        return None
    if len(entry) != 4:
        return None
    size, _, index_bytes, index_crc = entry
    tail = (isinstance(byte_range, SuffixByteRequest) and byte_range.suffix == index_bytes) or (
        isinstance(byte_range, RangeByteRequest) and (byte_range.start, byte_range.end) == (size - index_bytes, size)
    )
    if tail and zlib.crc32(data) != index_crc:
        return "the checksum of its index does not match the manifest (the shard changed, or was swapped for another)"
    return None


def journal_key(key: str) -> str:
    """Where an append journals ``key`` before it first overwrites it."""
    return JOURNAL_PREFIX + hashlib.sha1(key.encode(), usedforsecurity=False).hexdigest()


def is_bookkeeping(key: str) -> bool:
    """nwbzarr's own objects (manifest, lock and takeover claim, journal), which are not part of the file."""
    return key == MANIFEST_KEY or key.startswith((LOCK_PREFIX, JOURNAL_PREFIX, RESUME_PREFIX))


def _lost(key: str, action: str) -> IncompleteStoreError:
    return IncompleteStoreError(
        f"{key}: written by nwbzarr but missing now; {action} (run `nwbzarr verify` to list every lost object)"
    )


@dataclass
class ReadBack:
    """What a resumed write found stored and kept instead of sending it again."""

    objects: int = 0  # stored as the attempt was killed but in no note: read back, equal, kept
    object_bytes: int = 0
    parts: int = 0  # parts of the multipart uploads it cut off, continued (:mod:`nwbzarr.storage.multipart`)
    part_bytes: int = 0


@dataclass
class _Record:
    """Shared by every copy zarr makes of a ManifestStore."""

    objects: dict[str, Entry]
    last_complete: frozenset[str]  # objects an append must journal before it overwrites them
    journaled: set[str] = field(default_factory=set)
    index_bytes: dict[str, int] = field(default_factory=dict)  # shards about to be set: their index size
    kept: dict[str, Entry] = field(default_factory=dict)  # a resumed write: objects already in the store
    #: a resumed write: sizes of objects in the store that no note records (stored as the attempt was killed)
    leftovers: dict[str, int] = field(default_factory=dict)
    read_back: ReadBack = field(default_factory=ReadBack)  # a resumed write: what it kept, not sent
    #: where shards of two parts or more go as multipart uploads (None: not looked up yet; False: nowhere)
    multipart: MultipartTarget | Literal[False] | None = None
    #: a write that is not fresh: the uploads in progress under the store, by key (listed once, in the background)
    uploads: asyncio.Task[dict[str, list[str]]] | None = field(default=None, repr=False)
    progress: ProgressLog | None = None  # where each object written is noted as the write goes (resume)
    fresh: bool = False  # a new write into a cleared store: nothing is there but what this write stored
    documents: dict[str, bytes] = field(default_factory=dict)  # metadata this write stored (fresh writes)
    defer: bool = False  # a new or resumed write: metadata is sent once, at the end (ManifestStore.flush)
    pending: set[str] = field(default_factory=set)  # documents kept back, not sent yet
    sent: set[str] = field(default_factory=set)  # documents kept back once and sent since
    flushed_at: float = field(default_factory=time.monotonic)


class ProgressLog(Protocol):
    """Notes every object a write stored (:class:`nwbzarr.backends.zarr_v3.resume.ResumeLog`)."""

    async def note(self, key: str, entry: Entry, *, now: bool = False) -> None: ...


class ManifestStore(WrapperStore[Store]):
    """Records the size and CRC-32 of every object set through it; journals what an append overwrites.

    ``objects`` is the last complete state's list when appending (``None`` for a new store); every
    object of it is journaled before its first overwrite. Reads through it are checked against the
    record: an append (or the shard writer's read-update) that meets a lost or changed object raises
    instead of rewriting it from fill values. On S3 a shard of two parts or more goes as a multipart upload
    (:mod:`nwbzarr.storage.multipart`); a write that is not fresh lists the uploads in progress once, in the
    background, and continues the one of each shard it stores again.
    """

    def __init__(
        self,
        store: Store,
        objects: dict[str, Entry] | None = None,
        *,
        record: _Record | None = None,
        kept: dict[str, Entry] | None = None,
        progress: ProgressLog | None = None,
        fresh: bool = False,
        defer: bool = False,
        leftovers: dict[str, int] | None = None,
    ) -> None:
        super().__init__(store)
        self.record = record or _Record(
            dict(objects or {}),
            frozenset(objects or ()),
            kept=dict(kept or {}),
            leftovers=dict(leftovers or {}),
            progress=progress,
            fresh=fresh,
            defer=defer or fresh,
        )

    @property
    def objects(self) -> dict[str, Entry]:
        return self.record.objects

    def _with_store(self, store: Store) -> ManifestStore:
        return type(self)(store, record=self.record)

    @property
    def wrapped(self) -> Store:
        """The store underneath, for writers in other processes (they report checksums with :meth:`add`)."""
        return self._store

    def add(self, objects: dict[str, Entry]) -> None:
        """Record objects written around this store (new objects only: nothing to journal)."""
        self.record.objects.update(objects)

    def reuse(self, keys: list[str]) -> bool:
        """A resumed write: if every one of ``keys`` (shards) is kept from an earlier attempt, record them as
        written now and say so; the caller then skips encoding and storing them."""
        kept = self.record.kept
        if not keys or not all(key in kept and not key.endswith("zarr.json") for key in keys):
            return False
        self.record.objects.update({key: kept[key] for key in keys})
        return True

    def expect_shard(self, key: str, index_bytes: int) -> None:
        """The next set of ``key`` is a shard whose last ``index_bytes`` are its index (recorded too)."""
        self.record.index_bytes[key] = index_bytes

    async def set(self, key: str, value: Buffer) -> None:
        data = value.to_bytes()
        if is_bookkeeping(key):
            await self._store.set(key, value)
            return
        self._list_uploads()
        if key in self.record.last_complete and key not in self.record.journaled:
            self.record.journaled.add(key)
            await self._journal(key)
        index_bytes = self.record.index_bytes.pop(key, None)
        entry = checksum(data, index_bytes)
        self.record.objects[key] = entry
        document = key.endswith("zarr.json")
        if document and self.record.defer:
            self.record.documents[key] = data
        if self.record.kept.get(key) == entry:  # a resumed write: these very bytes are stored already
            self.record.pending.discard(key)
            return
        self.record.kept.pop(key, None)  # replaced now: what is stored is no longer the earlier attempt's
        if not document and await self._stored_already(key, entry):
            if self.record.progress is not None:
                await self.record.progress.note(key, entry, now=index_bytes is not None)
            return
        if document and self.record.defer:
            # sent in batches, together, by flush: zarr rewrites a node's document for every attribute
            # it sets, one request after another, and only the last version of each needs to go
            self.record.pending.add(key)
            due = time.monotonic() - self.record.flushed_at >= FLUSH_SECONDS
            if due or len(self.record.pending) >= FLUSH_DOCUMENTS:
                await self.flush()
            return
        await self._send(key, value, data, shard=index_bytes is not None)
        if self.record.progress is not None:  # a shard is recorded as soon as it is stored: a kill resends none
            await self.record.progress.note(key, entry, now=index_bytes is not None)

    async def _multipart(self) -> MultipartTarget | None:
        """Where multipart uploads go, looked up once (off the event loop: over obstore it imports s3fs)."""
        if self.record.multipart is None:
            found = await asyncio.to_thread(multipart.target_of, self._store)
            if self.record.multipart is None:
                self.record.multipart = found or False
        return self.record.multipart or None

    def _list_uploads(self) -> None:
        """A write that is not fresh (a resume, an append): list the uploads in progress, once, in the background."""
        if self.record.fresh or self.record.uploads is not None:
            return
        self.record.uploads = asyncio.ensure_future(self._uploads_in_progress())

    async def _uploads_in_progress(self) -> dict[str, list[str]]:
        target = await self._multipart()
        return {} if target is None else await target.uploads_by_key()

    async def _send(self, key: str, value: Buffer, data: bytes, *, shard: bool) -> None:
        """Store ``value``: a shard of two parts or more as a multipart upload (continuing one left by a killed
        attempt, :meth:`MultipartTarget.put`), anything else as one PUT."""
        big = shard and len(multipart.part_ranges(len(data))) >= multipart.MIN_PARTS
        if big and self.record.fresh and multipart.native_parts(self._store):  # obstore sends the same parts itself
            big = False
        target = await self._multipart() if big else None
        if target is None:
            await self._store.set(key, value)
            return
        candidates = (await self.record.uploads).pop(key, []) if self.record.uploads is not None else []
        reused = await target.put(key, data, candidates)
        self.record.read_back.parts += reused.parts
        self.record.read_back.part_bytes += reused.nbytes

    async def _stored_already(self, key: str, entry: Entry) -> bool:
        """A resumed write: whether ``key`` is a leftover of the interrupted attempt holding these very bytes.

        A shard whose upload ended as the writer was killed is in the store but in no note; when its size
        is the one about to be sent, it is read back (a download, not an upload) and kept if its CRC-32 is.
        """
        size = self.record.leftovers.pop(key, None)
        if size is None or size != entry[0]:
            return False
        value = await self._store.get(key, prototype=default_buffer_prototype())
        same = value is not None and len(value) == entry[0] and zlib.crc32(value.as_numpy_array()) == entry[1]
        if same:
            self.record.read_back.objects += 1
            self.record.read_back.object_bytes += entry[0]
        return same

    async def flush(self) -> None:
        """Send the metadata a new or resumed write kept back, up to :data:`FLUSH_CONCURRENCY` requests at once.

        Called every :data:`FLUSH_DOCUMENTS` documents or :data:`FLUSH_SECONDS`, and before anything reads
        the store underneath (the commit's listing, Dask workers opening an array): until then the
        documents are served from memory, and only their last version is sent.
        """
        pending = sorted(self.record.pending)
        self.record.flushed_at = time.monotonic()
        if not pending:
            return
        gate = asyncio.Semaphore(FLUSH_CONCURRENCY)
        prototype = default_buffer_prototype()

        async def send(key: str) -> None:
            async with gate:
                await self._store.set(key, prototype.buffer.from_bytes(self.record.documents[key]))

        await asyncio.gather(*(send(key) for key in pending))
        self.record.pending.difference_update(pending)
        self.record.sent.update(pending)
        if self.record.progress is not None:
            for key in pending:
                await self.record.progress.note(key, self.record.objects[key])

    async def _journal(self, key: str) -> None:
        old: str | None = None
        if key.endswith("zarr.json"):  # metadata is restored byte for byte; chunks only re-checksummed
            buffer = await self._store.get(key, prototype=default_buffer_prototype())
            old = buffer.to_bytes().decode() if buffer is not None else None
        entry = json.dumps({"key": key, "old": old}).encode()
        await self._store.set(journal_key(key), default_buffer_prototype().buffer.from_bytes(entry))

    def _known(self, key: str) -> bool:
        """A fresh write knows every object of the store (it holds the lock; the store held nothing else)."""
        return self.record.fresh and not is_bookkeeping(key)

    async def exists(self, key: str) -> bool:
        if key in self.record.pending:
            return True
        if self._known(key):  # no request: zarr asks for every parent and node it creates
            return key in self.record.objects
        return await self._store.exists(key)

    async def get(self, key: str, prototype: BufferPrototype, byte_range: ByteRequest | None = None) -> Buffer | None:
        if key in self.record.pending:  # a document kept back: from memory (a part of it: sent first)
            if byte_range is None:
                return prototype.buffer.from_bytes(self.record.documents[key])
            await self.flush()
        if self._known(key):
            if key not in self.record.objects:
                return None
            document = self.record.documents.get(key)
            if document is not None and byte_range is None:
                return prototype.buffer.from_bytes(document)
        value = await self._store.get(key, prototype, byte_range)
        entry = self.record.objects.get(key)
        if entry is None:
            return value
        if value is None:
            raise _lost(key, "nwbzarr refuses to rewrite it from fill values")
        problem = entry_problem(entry, value.as_numpy_array(), byte_range)
        if problem is not None:
            raise InvalidStoreError(f"{key}: {problem}; nwbzarr refuses to write over it (run `nwbzarr verify`)")
        return value

    async def get_partial_values(
        self, prototype: BufferPrototype, key_ranges: Iterable[tuple[str, ByteRequest | None]]
    ) -> list[Buffer | None]:
        return [await self.get(key, prototype, byte_range) for key, byte_range in key_ranges]

    async def delete(self, key: str) -> None:
        self.record.objects.pop(key, None)
        self.record.kept.pop(key, None)
        self.record.documents.pop(key, None)
        if key in self.record.pending and key not in self.record.sent:  # kept back, never sent
            self.record.pending.discard(key)
            return
        self.record.pending.discard(key)
        self.record.sent.discard(key)
        await self._store.delete(key)

    async def delete_dir(self, prefix: str) -> None:
        """Remove a node's objects (zarr does, to create it anew); a resumed write keeps what it will reuse.

        A fresh write deletes what it stored there itself, without listing the store.
        """
        if self.record.fresh:
            under = prefix.rstrip("/") + "/" if prefix else ""
            for key in [key for key in self.record.objects if key.startswith(under)]:
                await self.delete(key)
            return
        if not self.record.kept and not self.record.leftovers:
            await self._store.delete_dir(prefix)
            return
        keys = [key async for key in self._store.list_prefix(prefix.rstrip("/") + "/" if prefix else "")]
        for key in keys:
            if key not in self.record.kept and key not in self.record.leftovers and not is_bookkeeping(key):
                await self.delete(key)

    async def set_if_not_exists(self, key: str, value: Buffer) -> None:
        if not await self.exists(key):  # zarr writes every parent so: a fresh write knows without asking
            await self.set(key, value)

    def list(self) -> AsyncIterator[str]:
        if self.record.fresh:
            return self._remembered(lambda key: True)
        return self._listed(self._store.list)

    def list_prefix(self, prefix: str) -> AsyncIterator[str]:
        if self.record.fresh:
            return self._remembered(lambda key: key.startswith(prefix))
        return self._listed(lambda: self._store.list_prefix(prefix))

    def list_dir(self, prefix: str) -> AsyncIterator[str]:
        if self.record.fresh:
            return self._children(prefix)
        return self._listed(lambda: self._store.list_dir(prefix))

    async def _remembered(self, wanted: Callable[[str], bool]) -> AsyncIterator[str]:
        """A fresh write lists what it stored from memory (the commit's consolidation walks every group)."""
        for key in sorted(self.record.objects):
            if wanted(key):
                yield key

    async def _children(self, prefix: str) -> AsyncIterator[str]:
        """``list_dir`` from memory: the names right under ``prefix`` (objects and folders), as zarr's stores give."""
        under = prefix.rstrip("/") + "/" if prefix else ""
        names = {key[len(under) :].partition("/")[0] for key in self.record.objects if key.startswith(under)}
        for name in sorted(names):
            yield name

    async def _listed(self, listing: Callable[[], AsyncIterator[str]]) -> AsyncIterator[str]:
        """A listing sees the documents kept back too: they are sent first."""
        await self.flush()
        async for key in listing():
            yield key

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
    await delete_all(store, [key async for key in store.list_prefix(JOURNAL_PREFIX)])


async def delete_all(store: Store, keys: list[str]) -> None:
    """Delete ``keys``, up to :data:`FLUSH_CONCURRENCY` at once (one round trip each on object storage)."""
    gate = asyncio.Semaphore(FLUSH_CONCURRENCY)

    async def delete(key: str) -> None:
        async with gate:
            await store.delete(key)

    await asyncio.gather(*(delete(key) for key in keys))


class CheckedStore(WrapperStore[Store]):
    """Reads checked against the manifest: a lost object is an error, a changed one too, never fill values.

    Zarr reads an absent chunk as the fill value; for a store with a manifest, an object the writer
    stored that is gone now means damage, and reading it raises :class:`IncompleteStoreError`. A whole
    object read (a metadata document, a chunk, a whole shard) is checked by size and CRC-32, and a
    shard's index by its own CRC-32 (:func:`entry_problem`). An object that an append is rewriting
    right now (it is in the journal) or that a newer commit lists with these bytes is accepted: readers
    never wait for writers.
    """

    def __init__(self, store: Store, objects: dict[str, Entry]) -> None:
        super().__init__(store)
        self.objects = objects  # shared by zarr's copies; replaced in place when a newer commit is seen

    def _with_store(self, store: Store) -> CheckedStore:
        return type(self)(store, self.objects)

    async def get(self, key: str, prototype: BufferPrototype, byte_range: ByteRequest | None = None) -> Buffer | None:
        value, _ = await self.get_proven(key, prototype, byte_range)
        return value

    async def get_proven(
        self, key: str, prototype: BufferPrototype, byte_range: ByteRequest | None = None
    ) -> tuple[Buffer | None, bool]:
        """:meth:`get`, and whether the manifest proved every byte read: a whole object whose size and CRC-32
        are those a commit recorded. Then the CRC-32C of each inner chunk of a shard cannot fail, and a
        reader may skip them (a fifth of the CPU a whole shard's decoding takes). Not proven: a ranged read,
        an object the manifest does not list, and one an append is rewriting right now.
        """
        value = await self._store.get(key, prototype, byte_range)
        entry = self.objects.get(key)
        if entry is None:
            return value, False
        if value is None:
            raise _lost(key, "reading it would give fill values instead of the data")
        data = value.as_numpy_array()  # the bytes as they are, not a copy (a whole shard can be 64 MiB)
        problem = entry_problem(entry, data, byte_range)
        if problem is None:
            return value, byte_range is None
        if await self._store.exists(journal_key(key)):  # an append is rewriting it: accepted, not proven
            return value, False
        if await self._listed_by_newer_commit(key, data, byte_range):
            return value, byte_range is None
        hint = (
            f"; if another tool edited the store on purpose, remove {MANIFEST_KEY} to read it unchecked"
            if key == "zarr.json"
            else ""
        )
        raise InvalidStoreError(f"{key}: {problem} (run `nwbzarr verify`){hint}")

    def proves(self, key: str, data: np.ndarray) -> bool:
        """Whether ``data`` is the whole object ``key`` as its commit recorded it (size and CRC-32)."""
        entry = self.objects.get(key)
        return entry is not None and entry_problem(entry, data, None) is None

    async def _listed_by_newer_commit(self, key: str, data: np.ndarray, byte_range: ByteRequest | None) -> bool:
        """Whether a commit since the manifest was read lists exactly these bytes of ``key`` (its list is
        then used from now on)."""
        newer = await _get_json(self._store, MANIFEST_KEY)
        objects = manifest_objects(newer, MANIFEST_KEY) if newer is not None else {}
        entry = objects.get(key)
        if entry is None or entry == self.objects.get(key) or entry_problem(entry, data, byte_range) is not None:
            return False
        self.objects.clear()
        self.objects.update(objects)
        return True

    async def get_partial_values(
        self, prototype: BufferPrototype, key_ranges: Iterable[tuple[str, ByteRequest | None]]
    ) -> list[Buffer | None]:
        return [await self.get(key, prototype, byte_range) for key, byte_range in key_ranges]


async def _get_json(store: Store, key: str) -> dict[str, Any] | None:
    try:
        buffer = await store.get(key, prototype=default_buffer_prototype())
    except ValueError:  # a store that takes Zarr node keys only (icechunk) holds no manifest
        return None
    if buffer is None:
        return None
    value = parse_json(buffer.to_bytes(), what=f"{key}: the write manifest")  # bounded size and depth
    if not isinstance(value, dict):
        raise InvalidStoreError(f"{key}: the write manifest is not a JSON object")
    return value


def manifest_objects(manifest: dict[str, Any], where: str) -> dict[str, Entry]:
    """The manifest's ``objects`` (``{key: [size, crc32(, index_bytes, index_crc32)]}``), checked."""
    objects = manifest.get("objects")
    if objects is None:
        return {}
    if not isinstance(objects, dict):
        raise InvalidStoreError(
            f"{where}: the manifest field 'objects' is a {type(objects).__name__}, not an object of key: entry"
        )
    for key, entry in objects.items():
        check_store_key(key, what=f"{where}: manifest entry")  # verify and recovery read and write these keys
        if (
            not isinstance(entry, list)
            or len(entry) not in (2, 4)
            or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in entry)
        ):
            raise InvalidStoreError(
                f"{where}: the manifest entry of {key!r} is {entry!r}, not [size, crc32] (or a shard's 4 numbers)"
            )
    return objects


def read_manifest(store: Store) -> dict[str, Any] | None:
    """The manifest (its ``objects`` checked), or ``None`` for a store written by another tool."""
    manifest = sync(_get_json(store, MANIFEST_KEY))
    if manifest is not None:
        manifest_objects(manifest, MANIFEST_KEY)
    return manifest


def check_complete(manifest: dict[str, Any] | None, where: str) -> None:
    """Raise if the last write of the store never finished (appends excepted: see the module doc)."""
    if manifest is None or manifest.get("state") in ("complete", "appending", "committing"):
        return
    started = manifest.get("started", "an unknown time")
    resume = (
        "Continue the conversion with `nwbzarr convert SRC DST --resume` (convert(..., resume=True)), or write"
        if isinstance(manifest.get("resume"), dict)
        else "Write"
    )
    raise IncompleteStoreError(
        f"{where} is incomplete: a write started at {started} never finished (the writer was interrupted "
        f"or failed). {resume} it again with mode 'w' (or convert with overwrite, `nwbzarr convert "
        "--overwrite`) to replace it, or delete the store"
    )


def new_state(
    state: State,
    objects: dict[str, Entry] | None = None,
    previous: dict[str, Any] | None = None,
    *,
    root: bytes | None = None,
    plan: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The manifest of ``state``; ``committing`` and ``complete`` carry every object's entry.

    ``whole`` says the list covers every object of the store (nwbzarr wrote it from the start), which
    lets a rollback delete what an interrupted append left behind; ``root`` (``committing`` only) is the
    consolidated root document about to be written, so that a commit can be rolled forward. ``plan``
    (``resume``: the source's fingerprint and the options of a conversion) is carried from ``writing``
    to ``complete``, so that a resume can tell whether it continues the same conversion.
    """
    from nwbzarr import __version__

    now = datetime.now(UTC).isoformat()
    manifest: dict[str, Any] = {"format": "nwbzarr-manifest/1", "writer": f"nwbzarr {__version__}", "state": state}
    manifest["whole"] = state == "writing" or bool((previous or {}).get("whole"))
    given = plan is not None  # an append's plan is recorded only when it is given (append_frames)
    if plan is None and (previous or {}).get("state") in ("writing", "committing"):
        plan = (previous or {}).get("resume")
    if plan is not None and (state != "appending" or given):
        manifest["resume"] = plan
    # the plan of the last append that committed, so that a resume of it can tell it is done
    appended = (previous or {}).get("resume") if (previous or {}).get("state") == "appending" else None
    appended = appended or ((previous or {}).get("appended") if (previous or {}).get("state") == "committing" else None)
    if appended is not None and state in ("committing", "complete"):
        manifest["appended"] = appended
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
    return manifest


def write_state(
    store: Store,
    state: State,
    objects: dict[str, Entry] | None = None,
    previous: dict[str, Any] | None = None,
    *,
    root: bytes | None = None,
) -> dict[str, Any]:
    """Put the manifest unconditionally (recovery, which holds the lock); see :func:`new_state`."""
    manifest = new_state(state, objects, previous, root=root)
    data = json.dumps(manifest, separators=(",", ":")).encode()
    sync(store.set(MANIFEST_KEY, default_buffer_prototype().buffer.from_bytes(data)))
    return manifest


def manifest_version(store: Store) -> str | None:
    """The version (ETag on S3) of the manifest now in the store, None if it has none: what a commit replaces."""
    return sync(manifest_version_async(store))


async def manifest_version_async(store: Store) -> str | None:
    """:func:`manifest_version` as a coroutine, to ask it together with other requests (one round trip).

    A HEAD on S3: the version is the ETag, the manifest's bytes (hundreds of kB for a big file) stay there."""
    return await conditional.version_async(store, MANIFEST_KEY)


def commit_state(
    store: Store,
    state: State,
    version: str | None,
    where: str,
    objects: dict[str, Entry] | None = None,
    previous: dict[str, Any] | None = None,
    *,
    root: bytes | None = None,
    plan: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], str]:
    """Put the manifest only if it still has ``version`` (compare-and-swap): the manifest and its new version.

    A writer whose manifest was replaced meanwhile (it lost its lock, and another writer started) gets
    :class:`LockLostError` and writes nothing over the other's work.
    """
    manifest = new_state(state, objects, previous, root=root, plan=plan)
    data = json.dumps(manifest, separators=(",", ":")).encode()
    new_version = conditional.replace_if_version(store, MANIFEST_KEY, data, version)
    if new_version is None:
        raise LockLostError(
            f"{where}: {MANIFEST_KEY} changed since this writer last wrote it (another writer took the store "
            f"over); the {state!r} state is not written, so nothing of the other writer's work is overwritten"
        )
    return manifest, new_version
