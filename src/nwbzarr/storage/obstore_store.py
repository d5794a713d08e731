"""``s3://`` and ``https://`` stores over obstore (Rust's ``object_store``): little CPU per request.

s3fs and botocore spend about 1.5 ms of Python a request; a time course of 170 ranged reads then costs
a quarter of a second of client CPU before any latency. obstore signs and sends requests in Rust, off
the interpreter lock. Users keep the s3fs spelling of their storage options; this module maps them to
obstore's configuration and refuses the ones it cannot honour, naming them.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, Self
from urllib.parse import urlsplit

from zarr.abc.store import ByteRequest, Store
from zarr.core.buffer import Buffer, BufferPrototype
from zarr.storage import FsspecStore, ObjectStore

from nwbzarr.core.optional import require
from nwbzarr.errors import NWBZarrError

__all__ = ["S3FS_ONLY_NOOPS", "NWBObjectStore", "obstore_options", "obstore_store"]

#: s3fs options that only tune s3fs itself; with obstore they change nothing the user sees (one GET per
#: object, no listing cache, a connection pool that grows as needed), so they are accepted and dropped
S3FS_ONLY_NOOPS = frozenset({"max_concurrency", "use_listings_cache", "listings_expiry_time", "skip_instance_cache"})
_CONFIG_KEYS = frozenset({"retries", "connect_timeout", "read_timeout", "max_pool_connections", "region_name"})
_CLIENT_KEYS = frozenset({"endpoint_url", "region_name"})


def _seconds(value: Any, name: str) -> timedelta:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise NWBZarrError(f"storage option {name}={value!r}: expected a positive number of seconds")
    return timedelta(seconds=float(value))


def obstore_options(url: str, options: dict[str, Any]) -> dict[str, Any]:
    """obstore keyword arguments (``config``, ``client_options``, ``retry_config``) for s3fs-style ``options``."""
    options = dict(options)
    scheme = urlsplit(url).scheme
    config: dict[str, Any] = {}
    client: dict[str, Any] = {}
    retry: dict[str, Any] = {}
    unknown: list[str] = []
    for name in sorted(S3FS_ONLY_NOOPS & options.keys()):
        options.pop(name)
    client_kwargs = dict(options.pop("client_kwargs", None) or {})
    config_kwargs = dict(options.pop("config_kwargs", None) or {})
    unknown += [f"client_kwargs.{k}" for k in sorted(client_kwargs.keys() - _CLIENT_KEYS)]
    unknown += [f"config_kwargs.{k}" for k in sorted(config_kwargs.keys() - _CONFIG_KEYS)]
    endpoint = options.pop("endpoint_url", None) or client_kwargs.get("endpoint_url")
    region = options.pop("region", None) or client_kwargs.get("region_name") or config_kwargs.get("region_name")
    if scheme in ("s3", "s3a"):
        for ours, theirs in (("key", "access_key_id"), ("secret", "secret_access_key"), ("token", "session_token")):
            value = options.pop(ours, None)
            if value is not None:
                config[theirs] = str(value)
        if options.pop("anon", False):
            config["skip_signature"] = True
        if options.pop("requester_pays", False):
            config["request_payer"] = True
        if endpoint:
            config["endpoint"] = str(endpoint)
            if str(endpoint).startswith("http://"):
                client["allow_http"] = True
            config.setdefault("virtual_hosted_style_request", False)  # S3-compatible servers: path-style URLs
        if region:
            config["region"] = str(region)
        # zarr deletes one key at a time: a DELETE each (as s3fs sends), not a one-key bulk-delete POST
        config["disable_bulk_delete"] = True
    elif endpoint or region:
        unknown += ["endpoint_url" if endpoint else "region"]
    retries = config_kwargs.get("retries")
    if retries is not None:
        # botocore: ``max_attempts`` counts retries after the first request, ``total_max_attempts`` all of them
        given = dict(retries) if isinstance(retries, dict) else {}
        total = given.get("total_max_attempts")
        count = given.get("max_attempts") if total is None else (total - 1 if isinstance(total, int) else None)
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise NWBZarrError(
                f"storage option config_kwargs.retries={retries!r}: expected {{'max_attempts': n >= 0}} "
                "or {'total_max_attempts': n >= 1}"
            )
        retry["max_retries"] = count
    if "connect_timeout" in config_kwargs:
        client["connect_timeout"] = _seconds(config_kwargs["connect_timeout"], "config_kwargs.connect_timeout")
    if "read_timeout" in config_kwargs:  # both: the longest wait for the next bytes of an answer
        client["read_timeout"] = _seconds(config_kwargs["read_timeout"], "config_kwargs.read_timeout")
    # nwbzarr's defaults on s3fs (storage/resolve.py), the same here: 8 retries with backoff, a dead endpoint
    # fails after 10 s, a stalled answer after 30 s; no bound on a whole request (a 64 MiB shard on a slow link)
    retry.setdefault("max_retries", 8)
    client.setdefault("connect_timeout", timedelta(seconds=10))
    client.setdefault("read_timeout", timedelta(seconds=30))
    client.setdefault("timeout", timedelta(hours=1))
    unknown += sorted(options)
    if unknown:
        raise NWBZarrError(
            f"storage options {unknown} have no meaning for the obstore transport of {url}; use "
            "key/secret/token, anon, endpoint_url, region, requester_pays, client_kwargs (endpoint_url, "
            "region_name) and config_kwargs (retries, connect_timeout, read_timeout), or "
            "storage_options={'transport': 'fsspec'} for s3fs's own options"
        )
    return {"config": config, "client_options": client, "retry_config": retry}


def _as_oserror(exc: Exception) -> Exception:
    """obstore's errors (not OSError, apart from not-found) as the OSError the rest of nwbzarr handles."""
    from obstore.exceptions import BaseError, PermissionDeniedError, UnauthenticatedError

    if isinstance(exc, (PermissionDeniedError, UnauthenticatedError)):
        return PermissionError(str(exc))
    if isinstance(exc, BaseError):
        return OSError(f"{type(exc).__name__}: {exc}")
    return exc


@contextmanager
def _translating() -> Iterator[None]:
    """obstore's failures inside the block raised as :func:`_as_oserror` gives them (never swallowed)."""
    try:
        yield
    except Exception as exc:
        raise _as_oserror(exc) from exc


class NWBObjectStore(ObjectStore[Any]):
    """zarr's ``ObjectStore`` whose failures are ``OSError``, as fsspec's are (retries are obstore's).

    It remembers the URL and s3fs-style options it was made from (``url``, ``options``; pickled with it),
    because obstore has no multipart API with upload ids: resumable uploads go through s3fs
    (:meth:`s3fs_twin`, :mod:`nwbzarr.storage.multipart`).
    """

    url: str | None = None
    options: dict[str, Any] | None = None

    def with_read_only(self, read_only: bool = False) -> Self:
        copy = super().with_read_only(read_only)
        copy.url, copy.options = self.url, self.options
        return copy

    def s3fs_twin(self, build: bool = True) -> FsspecStore | None:
        """An s3fs store of the same ``s3://`` URL and options (one per process), or None for other URLs (and,
        unless ``build``, if it was not made yet)."""
        if self.url is None or urlsplit(self.url).scheme not in ("s3", "s3a"):
            return None
        from nwbzarr.storage.multipart import fsspec_twin

        options = dict(self.options or {})
        return fsspec_twin(self.url, options, json.dumps(options, sort_keys=True, default=repr), build=build)

    async def get(self, key: str, prototype: BufferPrototype, byte_range: ByteRequest | None = None) -> Buffer | None:
        with _translating():
            return await super().get(key, prototype, byte_range)

    async def get_partial_values(
        self, prototype: BufferPrototype, key_ranges: Iterable[tuple[str, ByteRequest | None]]
    ) -> list[Buffer | None]:
        with _translating():
            return await super().get_partial_values(prototype, key_ranges)

    async def exists(self, key: str) -> bool:
        with _translating():
            return await super().exists(key)

    async def set(self, key: str, value: Buffer) -> None:
        with _translating():
            await super().set(key, value)

    async def set_if_not_exists(self, key: str, value: Buffer) -> None:
        with _translating():
            await super().set_if_not_exists(key, value)

    async def delete(self, key: str) -> None:
        with _translating():
            await super().delete(key)

    async def delete_dir(self, prefix: str) -> None:
        with _translating():
            await super().delete_dir(prefix)

    async def getsize(self, key: str) -> int:
        with _translating():
            return await super().getsize(key)

    def list(self) -> AsyncGenerator[str, None]:
        return _translated(super().list())

    def list_prefix(self, prefix: str) -> AsyncGenerator[str, None]:
        return _translated(super().list_prefix(prefix))

    def list_dir(self, prefix: str) -> AsyncGenerator[str, None]:
        return _translated(super().list_dir(prefix))


async def _translated(items: AsyncIterator[str]) -> AsyncGenerator[str, None]:
    with _translating():
        async for item in items:
            yield item


def obstore_store(url: str, options: dict[str, Any], *, read_only: bool) -> Store:
    """A zarr ``ObjectStore`` for an ``s3://``, ``http://`` or ``https://`` URL."""
    require("obstore", "the obstore transport (storage_options={'transport': 'obstore'})")
    from obstore.store import HTTPStore, S3Store

    kwargs = obstore_options(url, options)
    parts = urlsplit(url)
    if parts.scheme in ("s3", "s3a"):
        if not parts.netloc:
            raise NWBZarrError(f"{url}: an s3:// URL names a bucket (s3://bucket/path)")
        inner: Any = S3Store(
            parts.netloc,
            prefix=parts.path.strip("/") or None,
            config=kwargs["config"] or None,
            client_options=kwargs["client_options"] or None,
            retry_config=kwargs["retry_config"] or None,
        )
    elif parts.scheme in ("http", "https"):
        client: Any = dict(kwargs["client_options"])
        if parts.scheme == "http":
            client["allow_http"] = True
        inner = HTTPStore.from_url(
            url.rstrip("/"), client_options=client or None, retry_config=kwargs["retry_config"] or None
        )
    else:
        raise NWBZarrError(f"{url}: the obstore transport reads s3:// and http(s):// URLs; use transport='fsspec'")
    store = NWBObjectStore(inner, read_only=read_only)
    store.url, store.options = url, dict(options)
    return store
