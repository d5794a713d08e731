"""The transport under one remote HDF5 object: obstore for ``s3://`` and ``https://`` as Zarr stores use it,
fsspec (s3fs, aiohttp) for every other URL.

Both give the same four things to :class:`.remote_source.RemoteSource`: the object's identity (size, ETag,
modification time), a ranged GET, a ranged GET whose answer also carries the identity (a cold open's
probe), and a copy for another thread's event loop. The transport is chosen as for Zarr stores
(:func:`nwbzarr.storage.resolve.default_transport`, the ``transport`` storage option), with three cases
left to fsspec unless obstore is asked for by name: URLs with a query (presigned) or percent-escapes
(obstore would escape them again), and ``s3://`` without credentials in the options or the environment
(botocore reads profiles and config files, which obstore does not, and its missing-credentials error is
the one :mod:`.remote_source` turns into a one-line hint).
"""

from __future__ import annotations

import asyncio
import email.utils
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

from nwbzarr.storage import make_store
from nwbzarr.storage.resolve import default_transport

__all__ = ["FsspecObject", "Identity", "ObstoreObject", "RemoteObject", "choose_transport", "open_object"]

#: retries obstore makes of a failed request (its backoff: 0.1 s doubling): a server that keeps failing is an
#: error within seconds, as on fsspec (:data:`.remote_source.ATTEMPTS`), unless the options set ``retries``
OBSTORE_RETRIES = 4

#: environment variables that give obstore (object_store) credentials for S3 without a profile
_CREDENTIAL_ENV = (
    "AWS_ACCESS_KEY_ID",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
)


@dataclass(frozen=True)
class Identity:
    """What says an object changed: its ETag where the server gives one, else size and modification time.

    Both transports spell it alike (quotes off the ETag, no time beside an ETag, times in UTC ISO form), so a
    disk cache a read over one transport left serves a read over the other.
    """

    size: int
    etag: str = ""
    modified: str = ""

    @classmethod
    def of(cls, size: Any, etag: Any, modified: Any) -> Identity:
        tag = str(etag or "").strip('"')
        return cls(size=int(size), etag=tag, modified="" if tag else _utc(modified))


def _utc(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat() if value.tzinfo else value.isoformat()
    text = str(value or "")
    try:
        return email.utils.parsedate_to_datetime(text).astimezone(UTC).isoformat()
    except (TypeError, ValueError, IndexError):
        return text


class RemoteObject(Protocol):
    """One object, read by range on the running event loop."""

    transport: str

    async def head(self) -> Identity | None: ...

    async def get(self, start: int, stop: int) -> bytes: ...

    async def ranged(self, first: int | None, count: int) -> tuple[bytes, Identity]: ...

    def for_loop(self, loop: asyncio.AbstractEventLoop) -> RemoteObject: ...

    async def aclose(self) -> None: ...


def choose_transport(url: str, options: dict[str, Any] | None) -> str:
    """``"obstore"`` or ``"fsspec"`` for the object ``url`` (see the module's docstring)."""
    options = options or {}
    asked = options.get("transport")
    if asked:
        return str(asked)
    transport = default_transport(url)
    if transport != "obstore":
        return transport
    parts = urlsplit(url)
    if parts.query or parts.fragment or "%" in url:
        return "fsspec"
    if parts.scheme in ("s3", "s3a") and not _has_credentials(options):
        return "fsspec"
    return "obstore"


def _has_credentials(options: dict[str, Any]) -> bool:
    if options.get("anon") or options.get("key") or options.get("token"):
        return True
    return any(os.environ.get(name) for name in _CREDENTIAL_ENV)


def open_object(url: str, options: dict[str, Any] | None) -> RemoteObject:
    """The object ``url`` over the transport :func:`choose_transport` picks, configured as Zarr stores are."""
    options = dict(options or {})
    transport = choose_transport(url, options)
    options["transport"] = transport
    if transport == "obstore":
        folder, _, name = url.rstrip("/").rpartition("/")
        if not name or folder.endswith(":/"):
            from nwbzarr.errors import NWBZarrError

            raise NWBZarrError(f"{url}: names no object (a bucket or host alone)")
        config = dict(options.get("config_kwargs") or {})
        config.setdefault("retries", {"max_attempts": OBSTORE_RETRIES})
        options["config_kwargs"] = config
        store: Any = make_store(folder, read_only=True, storage_options=options)
        return ObstoreObject(store.store, unquote(name))
    store = make_store(url, read_only=True, storage_options=options)
    return FsspecObject(store.fs, store.path)


class ObstoreObject:
    """Ranged GETs in Rust (obstore), off the interpreter lock; any event loop can await them."""

    transport = "obstore"

    def __init__(self, store: Any, path: str) -> None:
        self.store, self.path = store, path

    async def head(self) -> Identity:
        import obstore

        meta = await obstore.head_async(self.store, self.path)
        return Identity.of(meta["size"], meta.get("e_tag"), meta.get("last_modified"))

    async def get(self, start: int, stop: int) -> bytes:
        import obstore

        return bytes(await obstore.get_range_async(self.store, self.path, start=start, end=stop))

    async def ranged(self, first: int | None, count: int) -> tuple[bytes, Identity]:
        """``count`` bytes from ``first``, or the last ``count`` bytes if ``first`` is None."""
        import obstore

        wanted: Any = {"suffix": count} if first is None else (first, first + count)
        answer = await obstore.get_async(self.store, self.path, options={"range": wanted})
        meta = answer.meta
        data = bytes(await answer.bytes_async())
        return data, Identity.of(meta["size"], meta.get("e_tag"), meta.get("last_modified"))

    def for_loop(self, loop: asyncio.AbstractEventLoop) -> ObstoreObject:
        return self  # obstore's client lives in its own runtime, not in an event loop

    async def aclose(self) -> None:
        return None


class FsspecObject:
    """Ranged GETs through an async fsspec filesystem (s3fs, fsspec's HTTP, any other)."""

    transport = "fsspec"

    def __init__(self, fs: Any, path: str) -> None:
        self.fs, self.path = fs, path

    @property
    def protocol(self) -> str:
        protocols = getattr(self.fs, "protocol", ())
        return protocols if isinstance(protocols, str) else next(iter(protocols), "")

    async def head(self) -> Identity | None:
        """None for a directory (the caller names it)."""
        info = await self.fs._info(self.path)
        if info.get("type") == "directory":
            return None
        size = info.get("size")
        if size is None:
            raise ValueError("the server does not say how large the object is")
        etag = info.get("ETag") or info.get("etag")
        return Identity.of(size, etag, info.get("LastModified") or info.get("Last-Modified") or info.get("mtime"))

    async def get(self, start: int, stop: int) -> bytes:
        return bytes(await self.fs._cat_file(self.path, start=start, end=stop))

    async def ranged(self, first: int | None, count: int) -> tuple[bytes, Identity]:
        header = f"bytes=-{count}" if first is None else f"bytes={first}-{first + count - 1}"
        if self.protocol in ("s3", "s3a"):
            return await self._s3_range(header)
        if self.protocol in ("http", "https"):
            return await self._http_range(header)
        raise NotImplementedError(f"no identity from a ranged read over {self.protocol!r}")

    async def _s3_range(self, header: str) -> tuple[bytes, Identity]:
        fs = self.fs
        bucket, key, version = fs.split_path(self.path)
        extra = {"VersionId": version} if version else {}
        answer = await fs._call_s3("get_object", Bucket=bucket, Key=key, Range=header, **extra)
        body = answer["Body"]
        try:
            data = bytes(await body.read())
        finally:
            body.close()
        size = int(str(answer["ContentRange"]).rsplit("/", 1)[1])
        return data, Identity.of(size, answer.get("ETag"), answer.get("LastModified"))

    async def _http_range(self, header: str) -> tuple[bytes, Identity]:
        fs = self.fs
        options = dict(fs.kwargs)
        options["headers"] = {**options.get("headers", {}), "Range": header}
        session = await fs.set_session()
        async with session.get(fs.encode_url(self.path), **options) as answer:
            if answer.status != 206:
                raise OSError(f"status {answer.status} to a ranged GET")
            data = bytes(await answer.read())
            size = int(answer.headers["Content-Range"].rsplit("/", 1)[1])
            return data, Identity.of(size, answer.headers.get("ETag"), answer.headers.get("Last-Modified"))

    def for_loop(self, loop: asyncio.AbstractEventLoop) -> FsspecObject:
        """A filesystem of the same options bound to ``loop`` (an fsspec filesystem belongs to one loop)."""
        base = self.fs
        options = {**base.storage_options, "asynchronous": True, "skip_instance_cache": True, "loop": loop}
        if getattr(base, "session", None) is not None and "session" not in options:
            # s3fs: the AioSession holds botocore's parsed service models; a client of a new session
            # parses them again (0.25-0.7 s of CPU measured on this machine, on every cold open)
            options["session"] = base.session
        return FsspecObject(type(base)(**options), self.path)

    async def aclose(self) -> None:
        fs = self.fs
        for client in (getattr(fs, "_session", None), getattr(fs, "_s3", None)):
            if client is not None:
                await client.close()
        creator = getattr(fs, "_s3creator", None)
        if creator is not None:
            await creator.__aexit__(None, None, None)
