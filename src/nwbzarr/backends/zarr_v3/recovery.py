"""Finish or undo an append that was interrupted, so the next writer starts from a complete store.

An append killed before its commit (manifest ``"appending"``) is rolled **back**: metadata documents it
overwrote get their old bytes from the journal, chunks it rewrote (the last, partly filled ones, whose
old rows it kept) get their checksums renewed, and objects it added are deleted, so nothing of it can
surface later. An append killed during its commit (``"committing"``: every object was written) is
rolled **forward**: the consolidated root document from the manifest is written if it is not there yet.
Either way the store ends ``"complete"`` and verifies.

An append that recorded a plan (``append_frames``) can instead be *resumed*: :func:`rewind` puts the
metadata documents back as the last complete state had them and keeps every chunk, so the resumed
append starts from the old length again and keeps the shards already stored (see :mod:`.resume`).
"""

from __future__ import annotations

from typing import Any

from zarr.abc.store import Store
from zarr.core.buffer import default_buffer_prototype
from zarr.core.sync import sync

from nwbzarr.backends.zarr_v3.manifest import (
    JOURNAL_PREFIX,
    MANIFEST_KEY,
    RESUME_PREFIX,
    checksum,
    clear_journal,
    delete_all,
    is_bookkeeping,
    read_manifest,
    renewed,
    write_state,
)
from nwbzarr.errors import InvalidStoreError
from nwbzarr.storage.jsonlimits import parse_json
from nwbzarr.storage.keys import check_store_key

__all__ = ["interrupted", "recover", "resumable_append", "rewind"]


def interrupted(manifest: dict[str, Any] | None) -> bool:
    """Whether ``manifest`` is that of an append that never finished."""
    return manifest is not None and manifest.get("state") in ("appending", "committing")


def resumable_append(manifest: dict[str, Any] | None) -> bool:
    """Whether ``manifest`` is that of an interrupted append that recorded its plan (``append_frames``)."""
    return (
        manifest is not None
        and manifest.get("state") == "appending"
        and isinstance(manifest.get("resume"), dict)
        and manifest["resume"].get("kind") == "append"
    )


def recover(store: Store, where: str) -> dict[str, Any] | None:
    """Repair an interrupted append (the caller holds the write lock); return the manifest after it."""
    manifest = read_manifest(store)
    if manifest is None or not interrupted(manifest):
        return manifest
    if manifest["state"] == "committing":
        sync(_roll_forward(store, manifest, where))
    else:
        sync(_roll_back(store, manifest, where))
        # the renewed checksums are saved before the journal goes: a repair killed midway can run again
        manifest = write_state(store, "appending", previous=manifest) | {"started": manifest.get("started")}
    sync(clear_journal(store))
    sync(_clear_notes(store))
    return write_state(store, "complete", objects=manifest["objects"], previous=manifest)


async def _roll_forward(store: Store, manifest: dict[str, Any], where: str) -> None:
    root = manifest.get("root")
    expected = (manifest.get("objects") or {}).get("zarr.json")
    if not isinstance(root, str) or expected is None:
        raise InvalidStoreError(f"{where}: {MANIFEST_KEY} is committing but lacks its root document")
    prototype = default_buffer_prototype()
    current = await store.get("zarr.json", prototype=prototype)
    if current is None or checksum(current.to_bytes()) != expected:
        await store.set("zarr.json", prototype.buffer.from_bytes(root.encode()))


def rewind(store: Store, manifest: dict[str, Any], where: str) -> dict[str, list[int]]:
    """Before a resumed append (the lock held): the documents it overwrote get their old bytes back; chunks stay.

    Returns the last complete state's objects with the entries of the chunks the interrupted attempt
    rewrote renewed (they keep their old rows), for the resumed append to check its reads against. The
    journal and the manifest stay as they are: killed again, the store still rolls back exactly.
    """
    objects = {key: list(entry) for key, entry in (manifest.get("objects") or {}).items()}
    sync(_restore(store, objects, where))
    return objects


async def _clear_notes(store: Store) -> None:
    """The resume notes of an append rolled back (or finished): no resume continues it any more."""
    await delete_all(store, [key async for key in store.list_prefix(RESUME_PREFIX)])


async def _roll_back(store: Store, manifest: dict[str, Any], where: str) -> None:
    objects: dict[str, list[int]] = manifest.setdefault("objects", {})
    await _restore(store, objects, where)
    if manifest.get("whole"):  # the list covers the store: what is not on it was added by the append
        leftovers = [key async for key in store.list() if key not in objects and not is_bookkeeping(key)]
        for key in leftovers:
            await store.delete(key)


async def _restore(store: Store, objects: dict[str, list[int]], where: str) -> None:
    """Journaled documents get their old bytes, journaled chunks renewed entries (in ``objects``)."""
    prototype = default_buffer_prototype()
    records: list[tuple[str, bytes | None]] = []  # every entry is checked before anything is changed
    async for entry_key in store.list_prefix(JOURNAL_PREFIX):
        entry = await store.get(entry_key, prototype=prototype)
        if entry is None:
            continue
        what = f"{where}: journal entry {entry_key}"
        try:
            record = parse_json(entry.to_bytes(), what=what)
            key, old = record["key"], record["old"]
            check_store_key(key, what=what)
            if is_bookkeeping(key) or not (old is None or isinstance(old, str)):
                raise InvalidStoreError(f"{what}: names {key!r} with {type(old).__name__} old content; not replayed")
            records.append((key, old.encode() if isinstance(old, str) else None))
        except (KeyError, TypeError, UnicodeEncodeError) as exc:
            raise InvalidStoreError(f"{what} is unreadable ({exc})") from exc
    for key, old in records:
        if old is not None:
            await store.set(key, prototype.buffer.from_bytes(old))
            objects[key] = checksum(old)
        else:  # a rewritten chunk keeps its old rows: renew its checksum
            current = await store.get(key, prototype=prototype)
            if current is not None:
                objects[key] = renewed(objects.get(key), current.to_bytes())
