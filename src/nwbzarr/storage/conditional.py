"""Conditional writes: create-only and compare-and-swap puts, so that a lock and a commit cannot be torn.

Each object read here comes with a *version*: the ETag on S3, the SHA-256 of the bytes elsewhere. A
put or delete conditioned on a version happens only if the object still has it.

- S3 (an ``FsspecStore`` over s3fs): ``If-None-Match: *`` and ``If-Match: <etag>`` on PutObject and
  DeleteObject, one request each, atomic on the server. Whether the server honours them is probed once
  per bucket (an S3-compatible server may ignore the headers); if it does not, a
  :class:`ConditionalWritesWarning` says so and the calls fall back to check-then-put.
- S3 over obstore (a zarr ``ObjectStore``): the same two headers through obstore's ``put(mode="create")``
  and ``put(mode={"e_tag": ...})``, probed the same way. obstore has no conditional delete: removing the
  lock there is check-then-delete (only a holder whose lease another writer took over can lose that race,
  and its commit is refused by the compare-and-swap anyway).
- Local disk: create-only is an exclusive hard link (atomic); compare-and-swap is check-then-replace
  (the window is microseconds, and only a writer that already lost its lock can be in it).
- ``MemoryStore``: every call is atomic under one lock of this process.
- Any other store: check-then-put, as nwbzarr did before conditional writes.
"""

from __future__ import annotations

import errno
import hashlib
import os
import threading
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zarr.abc.store import Store
from zarr.core.buffer import default_buffer_prototype
from zarr.core.sync import sync
from zarr.storage import FsspecStore, LocalStore, MemoryStore, ObjectStore

__all__ = [
    "PROBE_PREFIX",
    "ConditionalWritesWarning",
    "Versioned",
    "create_only",
    "delete_if_version",
    "delete_seen",
    "is_atomic",
    "probe",
    "read_versioned",
    "read_versioned_async",
    "replace_if_version",
    "version_async",
]

#: probe objects (they start with the lock prefix, so a writer's clear leaves them to their prober)
PROBE_PREFIX = "nwbzarr.lock.probe."

_memory_lock = threading.Lock()
_probed: dict[tuple[str, str], bool] = {}
_probe_lock = threading.Lock()


class ConditionalWritesWarning(UserWarning):
    """The store ignores conditional writes: nwbzarr's lock and commit fall back to check-then-put."""


@dataclass(frozen=True)
class Versioned:
    """An object's bytes and the version a conditional write can name."""

    data: bytes
    version: str


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _s3(store: Store) -> Any | None:
    """The s3fs filesystem under ``store``, or None."""
    if isinstance(store, FsspecStore) and "s3" in (getattr(store.fs, "protocol", None) or ()):
        return store.fs
    return None


def _obstore(store: Store) -> Any | None:
    """The obstore store under a zarr ``ObjectStore`` (S3 through obstore), or None."""
    return store.store if isinstance(store, ObjectStore) else None


async def _ob_get(store: ObjectStore[Any], key: str) -> Versioned | None:
    import obstore

    try:
        result = await obstore.get_async(store.store, key)
    except FileNotFoundError:
        return None
    data = bytes(await result.bytes_async())
    return Versioned(data, str(result.meta.get("e_tag") or _digest(data)))


async def _ob_put(store: ObjectStore[Any], key: str, data: bytes, mode: Any) -> str | None:
    """Put with ``mode`` ("create" or {"e_tag": ...}); the new ETag, or None when the condition did not hold."""
    import obstore
    from obstore.exceptions import AlreadyExistsError, PreconditionError

    try:
        result = await obstore.put_async(store.store, key, data, mode=mode)
    except (AlreadyExistsError, PreconditionError):
        return None
    return str(result.get("e_tag") or _digest(data))


def _s3_key(store: FsspecStore, key: str) -> tuple[str, str]:
    bucket, path, _ = store.fs.split_path(f"{store.path}/{key}")
    return bucket, path


def _precondition_failed(exc: OSError) -> bool:
    """A 412 (or a 409 conflict) from S3; s3fs surfaces it as FileExistsError or OSError(EINVAL)."""
    if isinstance(exc, FileExistsError):
        return True
    response = getattr(exc.__cause__, "response", None)
    code = response.get("Error", {}).get("Code") if isinstance(response, dict) else None
    return code in ("PreconditionFailed", "ConditionalRequestConflict") or (
        exc.errno == errno.EINVAL and "pre-condition" in str(exc)
    )


async def _s3_get(store: FsspecStore, key: str) -> Versioned | None:
    bucket, path = _s3_key(store, key)
    try:
        response = await store.fs._call_s3("get_object", Bucket=bucket, Key=path)
    except FileNotFoundError:
        return None
    data = await response["Body"].read()
    return Versioned(bytes(data), str(response["ETag"]))


async def _s3_put(store: FsspecStore, key: str, data: bytes, **condition: str) -> str | None:
    """Put with a condition; the new ETag, or None when the condition did not hold."""
    bucket, path = _s3_key(store, key)
    try:
        response = await store.fs._call_s3("put_object", Bucket=bucket, Key=path, Body=data, **condition)
    except OSError as exc:
        if _precondition_failed(exc):
            return None
        raise
    finally:
        store.fs.invalidate_cache(f"{store.path}/{key}")
    return str(response["ETag"])


async def _s3_delete(store: FsspecStore, key: str, etag: str) -> bool:
    bucket, path = _s3_key(store, key)
    try:
        await store.fs._call_s3("delete_object", Bucket=bucket, Key=path, IfMatch=etag)
    except FileNotFoundError:
        return False
    except OSError as exc:
        if _precondition_failed(exc):
            return False
        raise
    finally:
        store.fs.invalidate_cache(f"{store.path}/{key}")
    return True


def _bucket(store: Store) -> tuple[str, str] | None:
    """The (endpoint, bucket) whose conditional writes are probed, or None for a store that needs no probe."""
    if isinstance(store, ObjectStore):
        config = getattr(store.store, "config", None) or {}
        return str(config.get("endpoint", "")), str(config.get("bucket", store.store))
    fs = _s3(store)
    if fs is None:
        return None
    assert isinstance(store, FsspecStore)
    endpoint = str(
        getattr(fs, "endpoint_url", None) or (getattr(fs, "client_kwargs", None) or {}).get("endpoint_url", "")
    )
    return endpoint, store.path.split("/", 1)[0]


def _probe_of(store: Store) -> Any:
    """The probe coroutine of an S3 store (not started)."""
    return _ob_probe(store) if isinstance(store, ObjectStore) else _probe(store)  # type: ignore[arg-type]


def is_atomic(store: Store) -> bool:
    """Whether conditional writes on ``store`` are atomic (probed once per S3 bucket, warning if not)."""
    if isinstance(store, (LocalStore, MemoryStore)):
        return True
    where = _bucket(store)
    if where is None:
        return False
    with _probe_lock:
        if where not in _probed:
            _answered(where, store, sync(_probe_of(store)))
        return _probed[where]


async def probe(store: Store) -> None:
    """Probe ``store``'s bucket now if it was never probed (nothing otherwise), without blocking the event loop.

    A writer awaits it together with its destination checks, so the probe costs no round trip of its own;
    :func:`is_atomic` then answers from the cache. Two probes of one bucket at once are harmless (the
    first answer is kept).
    """
    where = _bucket(store)
    if where is None or where in _probed:
        return
    answer = await _probe_of(store)
    with _probe_lock:
        if where not in _probed:
            _answered(where, store, answer)


def _answered(where: tuple[str, str], store: Store, answer: bool) -> None:
    """Cache the probe's ``answer`` for ``where`` (the caller holds ``_probe_lock``); warn if the server ignores it."""
    _probed[where] = answer
    if not answer:
        warnings.warn(
            f"{store} (endpoint {where[0] or 'AWS'}) ignores conditional writes (If-None-Match): "
            "nwbzarr's write lock and commit fall back to check-then-put there, so two writers starting "
            "in the same instant are not excluded",
            ConditionalWritesWarning,
            stacklevel=5,
        )


async def _ob_probe(store: ObjectStore[Any]) -> bool:
    """:func:`_probe` through obstore."""
    import obstore

    key = f"{PROBE_PREFIX}{uuid.uuid4().hex}"
    first = await _ob_put(store, key, b"probe", "overwrite")
    try:
        return first is not None and await _ob_put(store, key, b"again", "create") is None
    finally:
        await obstore.delete_async(store.store, key)


async def _probe(store: FsspecStore) -> bool:
    """Create an object, then create it again create-only: a server honouring the header refuses."""
    key = f"{PROBE_PREFIX}{uuid.uuid4().hex}"
    first = await _s3_put(store, key, b"probe")
    try:
        return first is not None and await _s3_put(store, key, b"again", IfNoneMatch="*") is None
    finally:
        bucket, path = _s3_key(store, key)
        await store.fs._call_s3("delete_object", Bucket=bucket, Key=path)


def _local(store: Store, key: str) -> Path | None:
    return Path(store.root) / key if isinstance(store, LocalStore) else None


async def version_async(store: Store, key: str) -> str | None:
    """The object's version without its bytes (a HEAD on S3), or None if it is absent.

    What a compare-and-swap or a conditional delete names: a writer that needs only the version does not
    download the object (on S3 the ETag of a HEAD is that of a GET; elsewhere the digest needs the bytes).
    """
    if isinstance(store, ObjectStore):
        import obstore

        try:
            meta = await obstore.head_async(store.store, key)
        except FileNotFoundError:
            return None
        if meta.get("e_tag"):
            return str(meta["e_tag"])
    elif _s3(store) is not None:
        assert isinstance(store, FsspecStore)
        bucket, path = _s3_key(store, key)
        try:
            response = await store.fs._call_s3("head_object", Bucket=bucket, Key=path)
        except FileNotFoundError:
            return None
        return str(response["ETag"])
    current = await read_versioned_async(store, key)
    return None if current is None else current.version


def read_versioned(store: Store, key: str) -> Versioned | None:
    """The object's bytes and version, or None if it is absent."""
    return sync(read_versioned_async(store, key))


async def read_versioned_async(store: Store, key: str) -> Versioned | None:
    """:func:`read_versioned` as a coroutine, to read a version together with other requests (one round trip)."""
    if isinstance(store, ObjectStore):
        return await _ob_get(store, key)
    if _s3(store) is not None:
        assert isinstance(store, FsspecStore)
        return await _s3_get(store, key)
    if isinstance(store, MemoryStore):
        with _memory_lock:
            buffer = store._store_dict.get(key)
            return None if buffer is None else Versioned(buffer.to_bytes(), _digest(buffer.to_bytes()))
    buffer = await store.get(key, prototype=default_buffer_prototype())
    return None if buffer is None else Versioned(buffer.to_bytes(), _digest(buffer.to_bytes()))


def _set(store: Store, key: str, data: bytes) -> None:
    sync(store.set(key, default_buffer_prototype().buffer.from_bytes(data)))


def create_only(store: Store, key: str, data: bytes) -> str | None:
    """Create ``key`` holding ``data`` unless it exists: the new version, or None if it existed."""
    path = _local(store, key)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f"{path.name}.{uuid.uuid4().hex}.tmp")
        temporary.write_bytes(data)
        try:
            os.link(temporary, path)  # atomic and exclusive: fails if the key exists
        except FileExistsError:
            return None
        finally:
            temporary.unlink(missing_ok=True)
        return _digest(data)
    if isinstance(store, MemoryStore):
        with _memory_lock:
            if key in store._store_dict:
                return None
            _set(store, key, data)
            return _digest(data)
    if is_atomic(store):
        if isinstance(store, ObjectStore):
            return sync(_ob_put(store, key, data, "create"))
        assert isinstance(store, FsspecStore)
        return sync(_s3_put(store, key, data, IfNoneMatch="*"))
    # fallback: check-then-put, with a read-back that settles most races (the last put wins); the check is
    # explicit because a store's own set_if_not_exists may rely on the header the server ignores (obstore)
    if sync(store.exists(key)):
        return None
    sync(store.set_if_not_exists(key, default_buffer_prototype().buffer.from_bytes(data)))
    current = read_versioned(store, key)
    return current.version if current is not None and current.data == data else None


def replace_if_version(store: Store, key: str, data: bytes, version: str | None) -> str | None:
    """Put ``data`` if ``key`` still has ``version`` (``None``: if it is absent); the new version, or None."""
    if version is None:
        return create_only(store, key, data)
    if isinstance(store, MemoryStore):
        with _memory_lock:
            buffer = store._store_dict.get(key)
            if buffer is None or _digest(buffer.to_bytes()) != version:
                return None
            _set(store, key, data)
            return _digest(data)
    if is_atomic(store) and isinstance(store, ObjectStore):
        return sync(_ob_put(store, key, data, {"e_tag": version}))
    if is_atomic(store) and _s3(store) is not None:
        assert isinstance(store, FsspecStore)
        return sync(_s3_put(store, key, data, IfMatch=version))
    current = read_versioned(store, key)
    if current is None or current.version != version:
        return None
    path = _local(store, key)
    if path is None:
        _set(store, key, data)
        written = read_versioned(store, key)
        return written.version if written is not None and written.data == data else None
    temporary = path.with_name(f"{path.name}.{uuid.uuid4().hex}.tmp")
    temporary.write_bytes(data)
    temporary.replace(path)  # readers see the old bytes or the new, never half
    return _digest(data)


def _deletes_by_version(store: Store) -> bool:
    """Whether :func:`delete_if_version` is one atomic request on ``store`` (S3 over s3fs honouring If-Match)."""
    return _s3(store) is not None and is_atomic(store)


def delete_seen(store: Store, key: str, seen: Versioned) -> bool:
    """Remove ``key``, which :func:`read_versioned` just gave as ``seen``, only if it still has that version.

    Atomic where the store can condition a delete (S3 over s3fs: ``If-Match``; memory); elsewhere (obstore,
    which has no conditional delete, and plain stores) the read that gave ``seen`` was the check, so the
    object is deleted without reading it a second time: one request instead of two.
    """
    if isinstance(store, MemoryStore) or _deletes_by_version(store):
        return delete_if_version(store, key, seen.version)
    path = _local(store, key)
    if path is not None:
        current = read_versioned(store, key)  # a file read, no round trip
        if current is None or current.version != seen.version:
            return False
    sync(store.delete(key))
    return True


def delete_if_version(store: Store, key: str, version: str) -> bool:
    """Remove ``key`` only if it still has ``version``; whether this call removed it.

    One request where the store conditions deletes (s3fs: ``If-Match``); a HEAD and a delete on obstore; a
    read and a delete elsewhere. The object's bytes are never downloaded on S3."""
    if isinstance(store, MemoryStore):
        with _memory_lock:
            buffer = store._store_dict.get(key)
            if buffer is None or _digest(buffer.to_bytes()) != version:
                return False
            del store._store_dict[key]
            return True
    if _deletes_by_version(store):
        assert isinstance(store, FsspecStore)
        return sync(_s3_delete(store, key, version))
    # check-then-delete (obstore has no conditional delete): the version by a HEAD where there is one
    if sync(version_async(store, key)) != version:
        return False
    sync(store.delete(key))
    return True
