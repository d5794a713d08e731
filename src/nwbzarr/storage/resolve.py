"""Resolve any store-like input to a zarr v3 store.

Local paths and ``file://`` give a :class:`~nwbzarr.storage.local.SafeLocalStore` (a ``LocalStore``
that stays inside its root and bounds every read; a plain ``LocalStore`` passed in becomes one); other
URLs go through fsspec (``memory://``, ``s3://``...); a zarr store passes through. ``storage_options``
only make sense for URLs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from zarr.abc.store import Store
from zarr.storage import FsspecStore, LocalStore

from nwbzarr.errors import NWBZarrError, ReadOnlyError, StorageError
from nwbzarr.storage.local import SafeLocalStore

__all__ = ["StoreLike", "make_store", "store_exists"]

StoreLike = str | os.PathLike[str] | Store


def make_store(target: StoreLike, *, read_only: bool, storage_options: dict[str, Any] | None = None) -> Store:
    """A zarr store for ``target``; ``storage_options`` go to the fsspec filesystem of a URL."""
    if isinstance(target, Store):
        if storage_options:
            raise NWBZarrError("storage_options are ignored for a store object; configure the store instead")
        if type(target) is LocalStore:  # the same folder, read safely
            return SafeLocalStore(target.root, read_only=read_only)
        return target.with_read_only(read_only) if target.read_only != read_only else target
    text = os.fspath(target)
    if "://" not in text or text.startswith("file://"):
        if storage_options:
            raise NWBZarrError(f"storage_options {sorted(storage_options)} are ignored for the local path {text!r}")
        path = Path(text.removeprefix("file://"))
        return SafeLocalStore(path, read_only=read_only)
    if text.startswith(("http://", "https://")) and not read_only:
        raise ReadOnlyError(f"{text}: HTTP(S) stores are read-only; write to a path or to s3:// instead")
    options = dict(storage_options or {})
    if text.startswith(("s3://", "s3a://")):
        # s3fs splits a whole-object read into concurrent ranges after a HEAD for the size; zarr objects
        # are small and zarr already reads many at once, so one GET per object is both fewer and faster
        options.setdefault("max_concurrency", 1)
        # a listing cached by a long-lived process goes stale when another process rewrites the store;
        # nwbzarr lists rarely (consolidated metadata), so it always asks the server
        options.setdefault("use_listings_cache", False)
        # transient 5xx answers and dropped connections are retried with backoff; a stalled or dead
        # endpoint fails after the timeouts instead of hanging
        config = dict(options.get("config_kwargs") or {})
        config.setdefault("retries", {"max_attempts": 8, "mode": "standard"})
        config.setdefault("connect_timeout", 10)
        config.setdefault("read_timeout", 30)
        # a read keeps up to 24 ranged requests in flight (a time course: one per chunk slab), and Dask
        # runs several reads at once; botocore's pool of 10 connections would queue them
        config.setdefault("max_pool_connections", 64)
        options["config_kwargs"] = config
    return FsspecStore.from_url(text, storage_options=options, read_only=read_only)


#: what marks a store: a v3 or v2 root, or the manifest and lock an nwbzarr writer puts before anything else
#: (so a write killed before its root existed still reads as an incomplete store, not as nothing)
_ROOT_MARKERS = ("zarr.json", ".zgroup", "nwbzarr.json", "nwbzarr.lock")


async def _has_root(store: Store) -> bool:
    for key in _ROOT_MARKERS:
        if await store.exists(key):
            return True
    return False


def store_exists(store: Store) -> bool:
    """Whether a Zarr hierarchy (v3 or v2), or an interrupted nwbzarr write of one, is in ``store``."""
    from zarr.core.sync import sync

    try:
        return bool(sync(_has_root(store)))
    except FileNotFoundError:
        return False
    except OSError as exc:  # network, permissions: after the filesystem's own retries
        raise StorageError(f"{store}: cannot reach the store: {exc}") from exc
