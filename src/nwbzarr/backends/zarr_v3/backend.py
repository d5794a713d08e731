"""The Zarr v3 backend: one open store, read lazily, written with the NWB Zarr v3 convention."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import warnings
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import zarr
from zarr.abc.store import Store
from zarr.core.buffer import default_buffer_prototype
from zarr.core.sync import sync
from zarr.storage import LocalStore

from nwbzarr.abc.backend import Backend, Capabilities
from nwbzarr.backends.zarr_v2.reader import read_v2_tree
from nwbzarr.backends.zarr_v3.attributes import NonFinite
from nwbzarr.backends.zarr_v3.lock import LOCK_KEY, LOCK_PREFIX, Held, write_lock
from nwbzarr.backends.zarr_v3.manifest import (
    MANIFEST_KEY,
    CheckedStore,
    ManifestStore,
    ReadBack,
    RootCapture,
    State,
    check_complete,
    checksum,
    clear_journal,
    commit_state,
    delete_all,
    manifest_objects,
    manifest_version,
    manifest_version_async,
    read_manifest,
)
from nwbzarr.backends.zarr_v3.reader import read_tree
from nwbzarr.backends.zarr_v3.recovery import interrupted, recover, resumable_append
from nwbzarr.backends.zarr_v3.resume import (
    ResumeLog,
    check_plan,
    clear_progress,
    kept_objects,
    leftover_sizes,
    read_progress,
)
from nwbzarr.backends.zarr_v3.resume_append import Finished, Resumed, resume_append
from nwbzarr.backends.zarr_v3.writer import TreeWriter, payload_bytes
from nwbzarr.core.progress import Callback
from nwbzarr.errors import (
    IncompleteStoreError,
    InvalidStoreError,
    LegacyStoreError,
    LockLostError,
    NWBZarrError,
    ReadOnlyError,
    StorageError,
    StoreExistsError,
    StoreLockedError,
    StoreNotFoundError,
    UnsafeDataError,
)
from nwbzarr.tree.nodes import Group

__all__ = ["ZarrBackend"]


class ZarrBackend(Backend):
    """A Zarr v3 store. ``read_only`` stores are never written."""

    capabilities = Capabilities(writable=True, appendable=True, remote=True, sharding=True)

    def __init__(
        self, store: Store, *, where: str, allow_pickle: bool = False, nonfinite: NonFinite = "strict"
    ) -> None:
        self.store = store
        self.nonfinite: NonFinite = nonfinite  # how NaN/infinite attributes are written (attributes.NonFinite)
        self.where = where
        self.allow_pickle = allow_pickle  # only for legacy v2 stores read through this backend
        self._root: zarr.Group | None = None
        self._held: Held | None = None  # the write lock, while a write holds it
        self._version: str | None = None  # the manifest's version as this writer last wrote it
        #: after a resumed write: (objects recorded by the earlier attempts, objects kept, bytes kept)
        self.resumed: tuple[int, int, int] | None = None
        #: after a resumed write: [objects, bytes] found stored but never noted, read back and kept
        self.read_back = ReadBack()  # a resume: what it found stored and kept (see ManifestStore)
        self._log: ResumeLog | None = None  # a resumable write's record of the objects stored so far
        self._leftovers: dict[str, int] = {}  # a resume: unrecorded objects the interrupted attempt left
        self.grown: dict[str, zarr.Array[Any]] = {}  # the arrays the last write's ``grow`` appended to
        #: a new write (mode "w-"): refuse, under the lock, a store that is there (StoreExistsError)
        self.refuse_existing = False
        self._seen: tuple[str | None] | None = None  # the manifest's version read with the survey (one use)

    def _open_root(self) -> zarr.Group:
        if self._root is None:
            try:
                manifest = read_manifest(self.store)
            except FileNotFoundError:  # some fsspec filesystems raise for the missing root itself
                manifest = None
            check_complete(manifest, self.where)
            store: Store = self.store
            if manifest is not None:  # every mode: lost or changed objects (the root first) are errors, never fill
                objects = manifest_objects(manifest, MANIFEST_KEY)
                if manifest.get("state") == "committing":  # until the commit ends, the old root is as legal as the new
                    objects = {key: entry for key, entry in objects.items() if key != "zarr.json"}
                store = CheckedStore(self.store, objects)
            try:
                root = zarr.open_group(
                    store,
                    mode="r" if self.store.read_only else "r+",
                    zarr_format=3,
                    use_consolidated=None,
                )
            except FileNotFoundError:
                if _holds(self.store, LOCK_KEY):  # a first write that died before it wrote its manifest
                    raise IncompleteStoreError(
                        f"{self.where} is incomplete: a write began here and never finished (only its lock "
                        f"{LOCK_KEY} is left). Write it again with mode 'w' (or convert with overwrite) to replace "
                        "it, or delete the store"
                    ) from None
                if _holds(self.store, ".zgroup"):  # only a v2 root is there
                    raise LegacyStoreError(
                        f"{self.where} is a Zarr v2 store (hdmf-zarr <= 0.13): open it read-only with the legacy "
                        "reader or upgrade it with `nwbzarr convert`"
                    ) from None
                raise StoreNotFoundError(f"{self.where}: no NWB Zarr store here") from None
            except NWBZarrError:  # the checked store names the damaged object (e.g. an edited root zarr.json)
                raise
            except OSError as exc:
                raise StorageError(f"{self.where}: cannot read the store: {exc}") from exc
            except (ValueError, KeyError, TypeError, OverflowError) as exc:
                if "pickle" in str(exc):
                    raise UnsafeDataError(
                        f"{self.where}: an array is encoded with pickle, which runs code from the file when "
                        "decoded; nwbzarr refuses it"
                    ) from exc
                raise InvalidStoreError(f"{self.where}: not a readable Zarr v3 group: {exc}") from exc
            self._root = root
        return self._root

    def read_tree(self) -> Group:
        try:
            root = self._open_root()
        except LegacyStoreError:
            if not self.store.read_only:
                raise
            return read_v2_tree(self.store, allow_pickle=self.allow_pickle)  # hdmf-zarr <= 0.13, read-only
        try:
            return read_tree(root)
        except (ValueError, TypeError, KeyError, OverflowError) as exc:  # malformed metadata deep in the hierarchy
            raise InvalidStoreError(f"{self.where}: unreadable metadata: {type(exc).__name__}: {exc}") from exc

    def existing_paths(self) -> set[str]:
        root = self._open_root()
        return {"/"} | {"/" + rel for rel, _ in root.members(max_depth=None)}

    def write_tree(
        self,
        tree: Group,
        *,
        append: bool,
        progress: Callback,
        plan: dict[str, Any] | None = None,
        resume: bool = False,
        grow: dict[str, Any] | None = None,
    ) -> None:
        """Write ``tree`` (see :class:`Backend`); ``plan`` makes a new write resumable, ``resume`` continues one.

        ``grow`` (``{path: rows}``, with ``append``): rows added to stored arrays (a table's columns) in the
        same commit as the new objects, so a failure undoes both; the grown arrays are left in ``self.grown``.

        With a ``plan`` (what :func:`nwbzarr.operations.convert.convert` passes: the source's fingerprint and the
        options), every object is recorded as it is stored (:mod:`.resume`), and a write interrupted by
        a storage error or Ctrl-C keeps what it stored, so that ``resume=True`` with the same plan can
        continue it; a different plan is refused (:class:`~nwbzarr.errors.ResumeRefusedError`).
        """
        if self.store.read_only:
            raise ReadOnlyError(f"{self.where}: opened read-only; reopen with mode 'w', 'w-' or 'a' to write")
        existed = True
        try:
            with write_lock(self.store, self.where) as self._held:
                existed = self._holds_a_store(append)
                if existed and self.refuse_existing:
                    raise StoreExistsError(
                        f"{self.where} already exists (pass overwrite=True / --overwrite to replace it)"
                    )
                # a refused resume raises here, before anything is written: the partial copy stays as it is
                kept = self._begin_resume(plan) if resume and plan is not None and not append else None
                try:
                    self._write_tree(tree, append=append, progress=progress, plan=plan, kept=kept, grow=grow)
                except LockLostError:  # another writer owns the store now: touch nothing of its work
                    raise
                except BaseException as exc:
                    if plan is not None and not append and _interruption(exc):
                        self._save_notes()
                        raise  # kept for a resume: the manifest still says "writing", readers refuse it
                    self._undo(append=append, existed=existed)  # still holding the lock: nobody else is writing
                    raise
        except BaseException:
            if not existed and isinstance(self.store, LocalStore):  # the folder this attempt made, if empty now
                with contextlib.suppress(OSError):
                    Path(self.store.root).rmdir()
            raise
        finally:
            self._seen = None  # read under that lock only

    def _holds_a_store(self, append: bool = False) -> bool:
        """Whether the store held a file (complete or not) before this write: its lock aside, anything of it.

        A new write reads the manifest's version in the same round (the roots' checks and the manifest
        asked together: one round trip on object storage, not four): its first state replaces that version.
        """
        keys = ("zarr.json", ".zgroup")

        async def holds(key: str) -> bool:
            try:
                return bool(await self.store.exists(key))
            except OSError:
                return False

        async def survey() -> tuple[bool, tuple[str | None] | None]:
            if append:  # the repair of an interrupted append may rewrite the manifest first: read it later
                return any(await asyncio.gather(*(holds(key) for key in (*keys, MANIFEST_KEY)))), None
            found, current = await asyncio.gather(
                asyncio.gather(*(holds(key) for key in keys)), manifest_version_async(self.store)
            )
            return any(found) or current is not None, (current,)

        existed, self._seen = sync(survey())
        return existed

    def _undo(self, *, append: bool, existed: bool) -> None:
        """After a failed write (the lock held): remove what this attempt created, and only that.

        A failed append is rolled back at once (:mod:`.recovery`), so the store is its last complete state
        again. A failed write into a new store removes all it wrote. A failed overwrite of an existing
        store keeps the manifest that marked it ``"writing"`` before the old content was cleared: the old
        file is gone from that moment, and the store reads as incomplete (``IncompleteStoreError``), not as
        the old file with holes in it, nor as nothing. If undoing fails too, the next writer repairs it.
        """
        try:
            if append:
                recover(self.store, self.where)
            elif existed:
                manifest = read_manifest(self.store)
                if manifest is not None and manifest.get("state") == "writing":
                    self._clear(keep={MANIFEST_KEY})
            else:
                self._clear(keep=set())
        except (OSError, NWBZarrError):
            pass
        finally:
            self._root = None

    def _write_tree(
        self,
        tree: Group,
        *,
        append: bool,
        progress: Callback,
        plan: dict[str, Any] | None,
        kept: dict[str, Any] | None,
        grow: dict[str, Any] | None = None,
    ) -> None:
        if append:
            existing, started, recorder, root = self._begin_append()
        else:
            existing = set()
            # mark the store unfinished before anything of the old content goes: a writer killed while
            # clearing leaves a store that reads as incomplete, never as the old file with holes in it
            if kept is None:
                started = self._started_clearing(plan)
            else:
                started = self._put_state("writing", start=True, plan=plan)
            self._log = ResumeLog(self.store) if plan is not None else None
            recorder = ManifestStore(
                self.store, kept=kept, progress=self._log, fresh=kept is None, defer=True, leftovers=self._leftovers
            )
            root = zarr.open_group(recorder, mode="a", zarr_format=3)  # the store holds only the manifest
        progress.set_total(payload_bytes(tree))
        TreeWriter(root, existing=existing, progress=progress, nonfinite=self.nonfinite).write(tree)
        self.read_back = recorder.record.read_back
        if grow:
            if not append:
                raise InvalidStoreError(f"{self.where}: rows are added to stored arrays only by an append")
            self.grown = self._grow(root, grow, progress)
        self._finish(recorder, started)

    def _started_clearing(self, plan: dict[str, Any] | None) -> dict[str, Any]:
        """A new write: the manifest marked "writing", then everything else of the store removed.

        On object storage the listing of what to remove goes out with the manifest's put (one round trip
        for both); nothing is removed before the put succeeded, so a writer killed while clearing still
        leaves a store that reads as incomplete.
        """
        if isinstance(self.store, LocalStore) or not self.store.supports_deletes:
            started = self._put_state("writing", start=True, plan=plan)
            self._clear(keep={MANIFEST_KEY})
            return started

        async def both() -> tuple[dict[str, Any], list[str]]:
            state = asyncio.to_thread(self._put_state, "writing", start=True, plan=plan)
            started, keys = await asyncio.gather(state, self._removable(keep={MANIFEST_KEY}))
            return started, keys

        started, keys = sync(both())
        sync(delete_all(self.store, keys))
        self._root = None
        return started

    async def _removable(self, *, keep: set[str]) -> list[str]:
        """Every key of the store but ``keep`` and the objects of the lock."""
        return [key async for key in self.store.list() if key not in keep and not key.startswith(LOCK_PREFIX)]

    def _save_notes(self) -> None:
        """An interrupted resumable write: save the last notes if the store still answers (best effort)."""
        if self._log is not None:
            with contextlib.suppress(OSError, NWBZarrError):
                sync(self._log.flush())

    def _begin_resume(self, plan: dict[str, Any]) -> dict[str, Any]:
        """Under the lock: check that the store holds an unfinished write of ``plan``; the objects to keep."""
        manifest = read_manifest(self.store)
        if manifest is None or manifest.get("state") != "writing":
            state = "no manifest" if manifest is None else f"its manifest says {manifest.get('state')!r}"
            raise IncompleteStoreError(f"{self.where}: nothing to resume ({state}, not an interrupted conversion)")
        check_plan(manifest.get("resume"), plan, self.where)
        recorded = sync(read_progress(self.store, self.where))
        kept = sync(kept_objects(self.store, recorded))
        self._leftovers = sync(leftover_sizes(self.store, recorded))
        self.resumed = (len(recorded), len(kept), sum(entry[0] for entry in kept.values()))
        return kept

    def _begin_append(
        self, plan: dict[str, Any] | None = None
    ) -> tuple[set[str], dict[str, Any], ManifestStore, zarr.Group]:
        """Start an append (the lock is held): the existing paths, the new manifest, the recorder and root.

        An earlier append that was killed is undone (or its commit finished) first, and a store whose
        first write broke off is refused. With a ``plan`` the append is recorded as it goes (resumable).
        """
        previous = recover(self.store, self.where)
        self._root = None  # the repair may have changed what the cached root shows
        check_complete(previous, self.where)
        existing = self.existing_paths()
        started = self._put_state("appending", start=True, previous=previous, plan=plan)
        self._log = ResumeLog(self.store) if plan is not None else None
        recorder = ManifestStore(self.store, (previous or {}).get("objects"), progress=self._log)
        return existing, started, recorder, zarr.open_group(recorder, mode="r+", zarr_format=3)

    def append_rows(
        self,
        appends: dict[str, Any],
        *,
        progress: Callback,
        plan: dict[str, Any] | None = None,
        resume: bool = False,
    ) -> dict[str, zarr.Array[Any]]:
        """Grow existing arrays along their first axis (``{path: rows}``), as one recorded append.

        Used to add frames to a stored series: the new rows are written, then the consolidated
        metadata and the manifest are replaced, so readers see all of the append or none of it.

        With a ``plan`` (``append_frames``: what the frames and the series are), every object is recorded
        as it is stored and an interrupted append is kept for ``resume=True`` with the same plan, which
        starts again from the old length and sends only the objects not stored yet (:mod:`.resume`).
        """
        if self.store.read_only:
            raise ReadOnlyError(f"{self.where}: opened read-only; reopen with mode 'a' to append")
        with write_lock(self.store, self.where) as self._held:
            # a refused resume raises here, before anything is changed
            start = resume_append(self.store, plan, self.where) if resume and plan is not None else None
            if isinstance(start, Finished):
                self.resumed = (0, 0, 0)
                root = zarr.open_group(self.store, mode="r", zarr_format=3)
                return {path: _array(root, path) for path in appends}
            try:
                return self._append_rows(appends, progress=progress, plan=plan, start=start)
            except LockLostError:
                raise
            except BaseException as exc:
                if plan is not None and _interruption(exc):
                    self._save_notes()
                    raise  # kept for a resume: readers still see the last complete state
                self._undo(append=True, existed=True)
                raise

    def _append_rows(
        self,
        appends: dict[str, Any],
        *,
        progress: Callback,
        plan: dict[str, Any] | None,
        start: Resumed | None,
    ) -> dict[str, zarr.Array[Any]]:
        if start is None:
            _, started, recorder, root = self._begin_append(plan)
        else:  # the interrupted append's documents are back as they were; its chunks and shards stay
            self.resumed = (len(start.recorded), len(start.kept), sum(entry[0] for entry in start.kept.values()))
            started = self._put_state("appending", start=True, previous=start.manifest, plan=plan)
            self._log = ResumeLog(self.store)
            recorder = ManifestStore(
                self.store,
                start.manifest.get("objects"),
                kept=start.kept,
                progress=self._log,
                leftovers=start.leftovers,
            )
            recorder.objects.update(start.objects)
            self.read_back = recorder.record.read_back
            root = zarr.open_group(recorder, mode="r+", zarr_format=3)
        grown = self._grow(root, appends, progress)
        self._finish(recorder, started)
        return grown

    def _grow(self, root: zarr.Group, appends: dict[str, Any], progress: Callback) -> dict[str, zarr.Array[Any]]:
        """Append ``{path: rows}`` to existing arrays along their first axis (inside an append's commit)."""
        grown: dict[str, zarr.Array[Any]] = {}
        for path, rows in appends.items():
            array = _array(root, path)
            TreeWriter(root, existing=set(), progress=progress).append_rows(array, rows)
            grown[path] = array
        return grown

    def _finish(self, recorder: ManifestStore, started: dict[str, Any]) -> None:
        """Commit: manifest "committing" (with the new root), the consolidated root, manifest "complete"."""
        sync(recorder.flush())  # the metadata a fresh write kept back, all at once
        capture = RootCapture(recorder)
        with warnings.catch_warnings():  # the listing meets our manifest, which is not a zarr node
            warnings.filterwarnings("ignore", message="Object at nwbzarr.(json|lock|journal|resume) is not recognized")
            warnings.filterwarnings("ignore", message="Consolidated metadata is currently not part")
            zarr.consolidate_metadata(capture, zarr_format=3)
        root = capture.captured()
        objects = {**recorder.objects, "zarr.json": checksum(root)}
        committing = self._put_state("committing", objects=objects, previous=started, root=root)
        prototype = default_buffer_prototype()
        # readers see the new state once the root is stored; the journal and the resume notes go in the same
        # round (from "committing" on, an interrupted commit is rolled forward, which needs neither)
        root_put = self.store.set("zarr.json", prototype.buffer.from_bytes(root))
        sync(_gathered(root_put, *self._bookkeeping_cleared(recorder)))
        self._put_state("complete", objects=objects, previous=committing)
        self._root = None

    def _bookkeeping_cleared(self, recorder: ManifestStore) -> list[Coroutine[Any, Any, None]]:
        """Removing the journal and the resume notes: a new write knows the notes it saved (the store was
        cleared and it held the lock since) and has no journal, so it lists neither."""
        if recorder.record.fresh:
            return [clear_progress(self.store, saved=self._log.saved_keys() if self._log is not None else [])]
        return [clear_journal(self.store), clear_progress(self.store)]

    def _put_state(
        self,
        state: State,
        *,
        start: bool = False,
        objects: dict[str, Any] | None = None,
        previous: dict[str, Any] | None = None,
        root: bytes | None = None,
        plan: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Move the manifest to ``state`` with a compare-and-swap on the version this writer last saw.

        ``start``: the first state of a write, replacing the manifest as it is now (read under the lock). A
        writer that lost its lock (its lease expired and another writer took over) is refused here, before
        it writes anything of the commit: :class:`~nwbzarr.errors.LockLostError`.
        """
        if self._held is not None:
            self._held.check(self.where)
        seen, self._seen = self._seen, None
        expected = self._version
        if start:  # the version read under the lock with the survey, if nothing wrote the manifest since
            expected = seen[0] if seen is not None else manifest_version(self.store)
        manifest, self._version = commit_state(
            self.store, state, expected, self.where, objects=objects, previous=previous, root=root, plan=plan
        )
        return manifest

    def recover(self) -> None:
        """Roll an interrupted append back (or its commit forward); see :mod:`.recovery`."""
        manifest = read_manifest(self.store)
        # an append_frames that recorded its plan waits for its resume (a different write rolls it back first)
        if self.store.read_only or not interrupted(manifest) or resumable_append(manifest):
            return
        try:
            with write_lock(self.store, self.where):
                recover(self.store, self.where)
        except StoreLockedError:  # the append is alive, not interrupted: its writer will commit it
            return
        self._root = None

    def _clear(self, *, keep: set[str]) -> None:
        """Remove everything in the store but ``keep`` and the objects of the lock (the writer holds it)."""
        if isinstance(self.store, LocalStore):
            root = Path(self.store.root)
            for child in root.iterdir() if root.is_dir() else ():
                if child.name not in keep and not child.name.startswith(LOCK_PREFIX):
                    shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
        elif self.store.supports_deletes:
            sync(delete_all(self.store, sync(self._removable(keep=keep))))  # many at once, not one after another
        self._root = None

    def discard(self) -> None:
        """Nothing to do: a failed write undoes its own attempt while it still holds the lock (see ``_undo``).

        Removing anything here, after the lock is gone or when the write was refused, could delete a
        store this writer never made, or the work of the writer that holds the lock.
        """
        self._root = None

    def close(self) -> None:
        self._root = None


async def _gathered(*steps: Coroutine[Any, Any, None]) -> None:
    await asyncio.gather(*steps)


def _array(root: zarr.Group, path: str) -> zarr.Array[Any]:
    array = root[path.lstrip("/")]
    if not isinstance(array, zarr.Array):
        raise InvalidStoreError(f"{path}: not an array")
    return array


def _holds(store: Store, key: str) -> bool:
    try:
        return bool(sync(store.exists(key)))
    except OSError:
        return False


def _interruption(exc: BaseException) -> bool:
    """A failure that says nothing against the copy (a dropped connection, a full disk, Ctrl-C): worth resuming."""
    if isinstance(exc, KeyboardInterrupt | StorageError):
        return True
    return isinstance(exc, OSError) and not isinstance(exc, NWBZarrError)
