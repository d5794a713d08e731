"""One remote object (``s3://``, ``https://``, any fsspec URL) read by byte range, with retries and clear errors.

The filesystem comes from :func:`nwbzarr.storage.make_store` so a remote HDF5 file gets the same s3fs
options as a Zarr store (retries with backoff, timeouts, a connection pool big enough for 24 requests in
flight). HTTP servers get no retries from fsspec, so :meth:`RemoteSource.get` retries a failed request a
few times itself; a server that keeps failing raises :class:`StorageError` within seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from zarr.core.sync import sync

from nwbzarr.errors import InvalidStoreError, StorageError, StoreNotFoundError
from nwbzarr.storage import make_store

__all__ = ["ATTEMPTS", "TIMEOUT", "Identity", "RemoteSource", "is_remote"]

#: tries of one ranged GET (after the filesystem's own retries) before a StorageError
ATTEMPTS = 4
#: seconds one request may take (a stalled connection is retried, then an error: never a hang)
TIMEOUT = 60.0

_CREDENTIAL_HINT = (
    "no credentials for this bucket: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (or AWS_PROFILE), "
    "or pass storage_options={'anon': True} for a public bucket"
)


def is_remote(target: str) -> bool:
    """Whether ``target`` is a URL other than ``file://`` (local paths stay with h5py's own driver)."""
    return "://" in target and not target.startswith("file://")


@dataclass(frozen=True)
class Identity:
    """What says an object changed: its ETag where the server gives one, else size and modification time."""

    size: int
    etag: str = ""
    modified: str = ""


@dataclass
class RemoteSource:
    """``RemoteSource(url, storage_options)``: ranged reads of one object; picklable (workers reopen lazily)."""

    url: str
    storage_options: dict[str, Any] | None = None
    _fs: Any = field(default=None, repr=False, compare=False)
    _path: str = field(default="", repr=False, compare=False)
    _identity: Identity | None = field(default=None, repr=False, compare=False)
    _local: threading.local = field(default_factory=threading.local, repr=False, compare=False)

    def __getstate__(self) -> dict[str, Any]:
        return {"url": self.url, "storage_options": self.storage_options, "_identity": self._identity}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.url, self.storage_options = state["url"], state["storage_options"]
        self._identity, self._fs, self._path = state["_identity"], None, ""
        self._local = threading.local()

    @property
    def fs(self) -> Any:
        if self._fs is None:
            options = {**(self.storage_options or {}), "transport": "fsspec"}  # this reader drives s3fs itself
            store: Any = make_store(self.url, read_only=True, storage_options=options)
            self._fs, self._path = store.fs, store.path
        return self._fs

    @property
    def path(self) -> str:
        _ = self.fs
        return self._path

    def identity(self) -> Identity:
        """Size, ETag and modification time (one HEAD request, then remembered)."""
        if self._identity is None:
            info = self._call(lambda: asyncio.wait_for(self.fs._info(self.path), TIMEOUT), "cannot reach")
            if info.get("type") == "directory":
                raise InvalidStoreError(f"{self.url}: a directory, not an HDF5 file")
            size = info.get("size")
            if size is None:
                raise StorageError(f"{self.url}: the server does not say how large the object is")
            etag = str(info.get("ETag") or info.get("etag") or "").strip('"')
            modified = str(info.get("LastModified") or info.get("Last-Modified") or info.get("mtime") or "")
            self._identity = Identity(size=int(size), etag=etag, modified=modified)
        return self._identity

    @property
    def size(self) -> int:
        return self.identity().size

    async def get(self, start: int, stop: int, fs: Any = None) -> bytes:
        """Bytes ``[start, stop)``; a short answer (a truncated object) raises InvalidStoreError."""
        fs = fs or self.fs
        for attempt in range(ATTEMPTS):
            try:
                data = bytes(await asyncio.wait_for(fs._cat_file(self.path, start=start, end=stop), TIMEOUT))
                break
            except FileNotFoundError as exc:
                raise StoreNotFoundError(f"{self.url}: no such object") from exc
            except Exception as exc:  # s3fs, aiohttp and botocore errors are not all OSError
                hint = _credentials(exc)
                if hint or attempt == ATTEMPTS - 1 or not _transient(exc):
                    raise StorageError(f"{self.url}: bytes {start}-{stop}: {hint or exc}") from exc
                await asyncio.sleep(0.05 * 2**attempt * (1 + random.random()))
        if len(data) != stop - start:
            raise InvalidStoreError(
                f"{self.url}: bytes {start}-{stop} asked, {len(data)} received: the object is truncated "
                "(shorter than its HDF5 structure says)"
            )
        return data

    def probe(self, head: int, tail: int) -> tuple[bytes, bytes] | None:
        """The first ``head`` and the last ``tail`` bytes in two requests sent together, with the object's
        identity taken from their answers (no HEAD request): a cold open's first round trip brings the
        superblock, the root group and the objects a writer put after the bulk data. ``None`` (nothing
        learnt, nothing raised) for filesystems other than S3 and HTTP, or when the server will not say."""
        fs = self.fs
        protocols = getattr(fs, "protocol", ())
        protocol = protocols if isinstance(protocols, str) else next(iter(protocols), "")
        if protocol in ("s3", "s3a"):
            one = self._s3_range
        elif protocol in ("http", "https"):
            one = self._http_range
        else:
            return None

        async def both() -> list[tuple[bytes, Identity]]:
            tasks = (one(fs, f"bytes=0-{head - 1}"), one(fs, f"bytes=-{tail}"))
            return list(await asyncio.wait_for(asyncio.gather(*tasks), TIMEOUT))

        try:
            (first, identity), (last, _) = sync(both())
        except Exception:  # noqa: BLE001 - the plain path (HEAD, then ranges) reports errors with its own words
            return None
        if self._identity is None:
            self._identity = identity
        return first, last

    async def _s3_range(self, fs: Any, header: str) -> tuple[bytes, Identity]:
        bucket, key, version = fs.split_path(self.path)
        extra = {"VersionId": version} if version else {}
        answer = await fs._call_s3("get_object", Bucket=bucket, Key=key, Range=header, **extra)
        body = answer["Body"]
        try:
            data = bytes(await body.read())
        finally:
            body.close()
        size = int(str(answer["ContentRange"]).rsplit("/", 1)[1])
        etag = str(answer.get("ETag") or "").strip('"')
        return data, Identity(size=size, etag=etag, modified=str(answer.get("LastModified") or ""))

    async def _http_range(self, fs: Any, header: str) -> tuple[bytes, Identity]:
        options = dict(fs.kwargs)
        options["headers"] = {**options.get("headers", {}), "Range": header}
        session = await fs.set_session()
        async with session.get(fs.encode_url(self.path), **options) as answer:
            if answer.status != 206:
                raise StorageError(f"{self.url}: status {answer.status} to a ranged GET")
            data = bytes(await answer.read())
            size = int(answer.headers["Content-Range"].rsplit("/", 1)[1])
            etag = str(answer.headers.get("ETag") or "").strip('"')
            return data, Identity(size=size, etag=etag, modified=str(answer.headers.get("Last-Modified") or ""))

    def read(self, start: int, stop: int) -> bytes:
        """:meth:`get` from synchronous code: h5py's file object, called with h5py's global lock held.

        The request runs on an event loop of this thread's own, never on the shared one: a garbage
        collection in the shared loop's thread that frees h5py objects waits for that lock, and a read
        waiting on that thread would then never end.
        """
        local = self._local
        if getattr(local, "loop", None) is None:
            local.loop = asyncio.new_event_loop()
            base = self.fs
            options = {**base.storage_options, "asynchronous": True, "skip_instance_cache": True, "loop": local.loop}
            if getattr(base, "session", None) is not None and "session" not in options:
                # s3fs: the AioSession holds botocore's parsed service models; a client of a new session
                # parses them again (0.25-0.7 s of CPU measured on this machine, on every cold open)
                options["session"] = base.session
            local.fs = type(base)(**options)
        return bytes(local.loop.run_until_complete(self.get(start, stop, local.fs)))

    def close(self) -> None:
        """End this thread's own connections (:meth:`read`); other threads' end with their process."""
        local = self._local
        loop = getattr(local, "loop", None)
        if loop is None:
            return
        fs, local.loop, local.fs = local.fs, None, None
        with contextlib.suppress(Exception):  # closing is best effort: a dead connection is closed already
            for client in (getattr(fs, "_session", None), getattr(fs, "_s3", None)):
                if client is not None:
                    loop.run_until_complete(client.close())
            creator = getattr(fs, "_s3creator", None)
            if creator is not None:
                loop.run_until_complete(creator.__aexit__(None, None, None))
        loop.close()

    def _call(self, make: Any, what: str) -> Any:
        """``make()``'s coroutine run, retried as :meth:`get` retries."""
        for attempt in range(ATTEMPTS):
            try:
                return sync(make())
            except Exception as exc:  # see get()
                failure = _http_failure(exc)  # fsspec's HTTP info() says "not found" for any failure
                if isinstance(exc, FileNotFoundError) and failure is None:
                    raise StoreNotFoundError(f"{self.url}: no such object") from exc
                hint = _credentials(exc)
                if hint or attempt == ATTEMPTS - 1 or not _transient(failure or exc):
                    raise StorageError(f"{self.url}: {what}: {hint or failure or exc}") from exc
                time.sleep(0.05 * 2**attempt * (1 + random.random()))
        raise AssertionError("unreachable")  # pragma: no cover


def _credentials(exc: BaseException) -> str:
    """The one-line hint for a request refused for lack of credentials, else ``""``."""
    chain: BaseException | None = exc
    while chain is not None:
        if type(chain).__name__ in ("NoCredentialsError", "PartialCredentialsError"):
            return _CREDENTIAL_HINT
        chain = chain.__cause__ or chain.__context__
    return ""


def _http_failure(exc: BaseException) -> BaseException | None:
    """The HTTP error (not a 404) behind ``exc``, if any."""
    chain: BaseException | None = exc
    while chain is not None:
        status = getattr(chain, "status", None)
        if isinstance(status, int) and status != 404:
            return chain
        chain = chain.__cause__ or chain.__context__
    return None


def _transient(exc: BaseException) -> bool:
    """Worth another try: server errors, dropped connections, timeouts (not a refusal or a bad request)."""
    if isinstance(exc, (PermissionError, ValueError, TypeError)):
        return False
    status = getattr(exc, "status", None) or getattr(exc, "code", None)
    return not (isinstance(status, int) and 400 <= status < 500)
