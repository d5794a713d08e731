"""Resolve any store-like input to a zarr v3 store.

Local paths and ``file://`` give a :class:`~nwbzarr.storage.local.SafeLocalStore` (a ``LocalStore``
that stays inside its root and bounds every read; a plain ``LocalStore`` passed in becomes one); other
URLs go through a transport: obstore (:mod:`.obstore_store`) for ``s3://`` and ``https://`` when it is
installed, fsspec for every other URL (``memory://``, ``gcs://``...) and when it is not; a zarr store
passes through. ``storage_options`` only make sense for URLs, except nwbzarr's own two:

- ``transport``: ``"obstore"`` or ``"fsspec"``, to choose instead of the default (also for a whole
  process: the ``NWBZARR_TRANSPORT`` environment variable);
- ``max_inflight``: requests one read keeps in flight (:mod:`.inflight`; local paths take it too).
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
from pathlib import Path
from typing import Any

from zarr.abc.store import Store
from zarr.storage import FsspecStore, LocalStore

from nwbzarr.errors import NWBZarrError, ReadOnlyError, StorageError
from nwbzarr.storage.inflight import DEFAULT_MAX_INFLIGHT, parse_max_inflight, set_max_inflight
from nwbzarr.storage.local import SafeLocalStore

__all__ = [
    "NWBZARR_OPTIONS",
    "TRANSPORTS",
    "StoreLike",
    "default_transport",
    "fsspec_options",
    "make_store",
    "store_exists",
]

StoreLike = str | os.PathLike[str] | Store

TRANSPORTS = ("obstore", "fsspec")
#: storage options nwbzarr reads itself and never hands to a transport
NWBZARR_OPTIONS = ("transport", "max_inflight")
#: URL schemes obstore serves by default (when installed); ``http://`` is left to fsspec unless asked
_OBSTORE_SCHEMES = ("s3://", "s3a://", "https://")


def default_transport(url: str) -> str:
    """``"obstore"`` for ``s3://`` and ``https://`` when obstore is installed, else ``"fsspec"``."""
    chosen = os.environ.get("NWBZARR_TRANSPORT", "")
    if chosen:
        if chosen not in TRANSPORTS:
            raise NWBZarrError(f"NWBZARR_TRANSPORT={chosen!r}: expected one of {list(TRANSPORTS)}")
        return chosen
    if url.startswith(_OBSTORE_SCHEMES) and importlib.util.find_spec("obstore") is not None:
        return "obstore"
    return "fsspec"


def fsspec_options(options: dict[str, Any] | None) -> dict[str, Any]:
    """``options`` without nwbzarr's own keys: what code that opens an fsspec filesystem itself passes on."""
    return {k: v for k, v in (options or {}).items() if k not in NWBZARR_OPTIONS}


def make_store(target: StoreLike, *, read_only: bool, storage_options: dict[str, Any] | None = None) -> Store:
    """A zarr store for ``target``; ``storage_options`` go to the transport of a URL (s3fs spelling)."""
    options = dict(storage_options or {})
    inflight = parse_max_inflight(options.pop("max_inflight")) if "max_inflight" in options else None
    store = _make_store(target, read_only=read_only, options=options)
    if inflight is not None:
        set_max_inflight(store, inflight)
    return store


def _make_store(target: StoreLike, *, read_only: bool, options: dict[str, Any]) -> Store:
    if isinstance(target, Store):
        if options:
            raise NWBZarrError("storage_options are ignored for a store object; configure the store instead")
        if type(target) is LocalStore:  # the same folder, read safely
            return SafeLocalStore(target.root, read_only=read_only)
        return target.with_read_only(read_only) if target.read_only != read_only else target
    text = os.fspath(target)
    if "://" not in text or text.startswith("file://"):
        if options:
            raise NWBZarrError(f"storage_options {sorted(options)} are ignored for the local path {text!r}")
        path = Path(text.removeprefix("file://"))
        return SafeLocalStore(path, read_only=read_only)
    if text.startswith(("http://", "https://")) and not read_only:
        raise ReadOnlyError(f"{text}: HTTP(S) stores are read-only; write to a path or to s3:// instead")
    transport = options.pop("transport", None) or default_transport(text)
    if transport not in TRANSPORTS:
        raise NWBZarrError(f"storage option transport={transport!r}: expected one of {list(TRANSPORTS)}")
    if transport == "obstore":
        from nwbzarr.storage.obstore_store import obstore_store

        return obstore_store(text, options, read_only=read_only)
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
        # a read keeps up to max_inflight ranged requests in flight (a time course: one per inner chunk),
        # and Dask runs several reads at once; botocore's pool of 10 connections would queue them
        config.setdefault("max_pool_connections", DEFAULT_MAX_INFLIGHT)
        options["config_kwargs"] = config
    return FsspecStore.from_url(text, storage_options=options, read_only=read_only)


#: what marks a store: a v3 or v2 root, or the manifest and lock an nwbzarr writer puts before anything else
#: (so a write killed before its root existed still reads as an incomplete store, not as nothing)
_ROOT_MARKERS = ("zarr.json", ".zgroup", "nwbzarr.json", "nwbzarr.lock")


async def _has_root(store: Store) -> bool:
    # asked together: one round trip on object storage, not four
    return any(await asyncio.gather(*(store.exists(key) for key in _ROOT_MARKERS)))


def store_exists(store: Store) -> bool:
    """Whether a Zarr hierarchy (v3 or v2), or an interrupted nwbzarr write of one, is in ``store``."""
    from zarr.core.sync import sync

    try:
        return bool(sync(_has_root(store)))
    except FileNotFoundError:
        return False
    except OSError as exc:  # network, permissions: after the filesystem's own retries
        raise StorageError(f"{store}: cannot reach the store: {exc}") from exc
