"""One remote object (``s3://``, ``https://``, any fsspec URL) read by byte range, with retries and clear errors.

The bytes come over the transport Zarr stores use (:mod:`.remote_transport`: obstore for ``s3://`` and
``https://`` when installed, fsspec otherwise), configured by :func:`nwbzarr.storage.make_store` with the
same options (retries with backoff, timeouts, connections for 24 requests in flight). fsspec's HTTP
filesystem does not retry, so :meth:`RemoteSource.get` retries a failed request a few times itself
(obstore and s3fs retry underneath); a server that keeps failing raises :class:`StorageError` within seconds.
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

from nwbzarr.backends.hdf5.remote_transport import Identity, RemoteObject, open_object
from nwbzarr.errors import InvalidStoreError, StorageError, StoreNotFoundError

__all__ = ["ATTEMPTS", "TIMEOUT", "Identity", "RemoteSource", "is_remote"]

#: tries of one ranged GET (after the transport's own retries) before a StorageError
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


@dataclass
class RemoteSource:
    """``RemoteSource(url, storage_options)``: ranged reads of one object; picklable (workers reopen lazily)."""

    url: str
    storage_options: dict[str, Any] | None = None
    _object: RemoteObject | None = field(default=None, repr=False, compare=False)
    _identity: Identity | None = field(default=None, repr=False, compare=False)
    _local: threading.local = field(default_factory=threading.local, repr=False, compare=False)

    def __getstate__(self) -> dict[str, Any]:
        return {"url": self.url, "storage_options": self.storage_options, "_identity": self._identity}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.url, self.storage_options = state["url"], state["storage_options"]
        self._identity, self._object = state["_identity"], None
        self._local = threading.local()

    @property
    def object(self) -> RemoteObject:
        """The object over its transport (made on first use)."""
        if self._object is None:
            self._object = open_object(self.url, self.storage_options)
        return self._object

    @property
    def transport(self) -> str:
        """``"obstore"`` or ``"fsspec"``: what carries the bytes."""
        return self.object.transport

    def identity(self) -> Identity:
        """Size, ETag and modification time (one HEAD request, then remembered)."""
        if self._identity is None:
            found = self._call(lambda: asyncio.wait_for(self.object.head(), TIMEOUT), "cannot reach")
            if found is None:
                raise InvalidStoreError(f"{self.url}: a directory, not an HDF5 file")
            self._identity = found
        return self._identity

    @property
    def size(self) -> int:
        return self.identity().size

    async def get(self, start: int, stop: int, remote: RemoteObject | None = None) -> bytes:
        """Bytes ``[start, stop)``; a short answer (a truncated object) raises InvalidStoreError."""
        remote = remote or self.object
        for attempt in range(ATTEMPTS):
            try:
                data = await asyncio.wait_for(remote.get(start, stop), TIMEOUT)
                break
            except FileNotFoundError as exc:
                raise StoreNotFoundError(f"{self.url}: no such object") from exc
            except Exception as exc:  # s3fs, aiohttp, botocore and obstore errors are not all OSError
                hint = _credentials(exc)
                if hint or attempt == ATTEMPTS - 1 or not _transient(exc):
                    raise StorageError(f"{self.url}: bytes {start}-{stop}: {hint or _first_line(exc)}") from exc
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
        remote = self.object

        async def both() -> list[tuple[bytes, Identity]]:
            tasks = (remote.ranged(0, head), remote.ranged(None, tail))
            return list(await asyncio.wait_for(asyncio.gather(*tasks), TIMEOUT))

        try:
            (first, identity), (last, _) = sync(both())
        except Exception:  # noqa: BLE001 - the plain path (HEAD, then ranges) reports errors with its own words
            return None
        if self._identity is None:
            self._identity = identity
        return first, last

    def read(self, start: int, stop: int) -> bytes:
        """:meth:`get` from synchronous code: h5py's file object, called with h5py's global lock held.

        The request runs on an event loop of this thread's own, never on the shared one: a garbage
        collection in the shared loop's thread that frees h5py objects waits for that lock, and a read
        waiting on that thread would then never end.
        """
        local = self._local
        if getattr(local, "loop", None) is None:
            local.loop = asyncio.new_event_loop()
            local.remote = self.object.for_loop(local.loop)
        return bytes(local.loop.run_until_complete(self.get(start, stop, local.remote)))

    def close(self) -> None:
        """End this thread's own connections (:meth:`read`); other threads' end with their process."""
        local = self._local
        loop = getattr(local, "loop", None)
        if loop is None:
            return
        remote, local.loop, local.remote = local.remote, None, None
        with contextlib.suppress(Exception):  # closing is best effort: a dead connection is closed already
            if remote is not self._object:
                loop.run_until_complete(remote.aclose())
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
                    raise StorageError(f"{self.url}: {what}: {hint or _first_line(failure or exc)}") from exc
                time.sleep(0.05 * 2**attempt * (1 + random.random()))
        raise AssertionError("unreachable")  # pragma: no cover


def _first_line(exc: BaseException) -> str:
    """obstore's messages carry a multi-line debug dump after a blank line: the sentence before it."""
    return str(exc).split("\n\n", 1)[0].strip() or type(exc).__name__


def _credentials(exc: BaseException) -> str:
    """The one-line hint for a request refused for lack of credentials, else ``""``."""
    chain: BaseException | None = exc
    while chain is not None:
        if type(chain).__name__ in ("NoCredentialsError", "PartialCredentialsError"):
            return _CREDENTIAL_HINT
        if _obstore_error(chain) and any(mark in str(chain) for mark in _OBSTORE_NO_CREDENTIALS):
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


def _obstore_error(exc: BaseException) -> bool:
    return any(cls.__module__.startswith("obstore") for cls in type(exc).__mro__)


#: what obstore's error says when it found no credentials and asked the instance metadata service for some
_OBSTORE_NO_CREDENTIALS = ("/latest/api/token", "/latest/meta-data/iam", "rror fetching credentials")


def _transient(exc: BaseException) -> bool:
    """Worth another try: server errors, dropped connections, timeouts (not a refusal or a bad request).

    obstore retried the request itself (its retry configuration): its errors are final here."""
    if isinstance(exc, (PermissionError, ValueError, TypeError)) or _obstore_error(exc):
        return False
    status = getattr(exc, "status", None) or getattr(exc, "code", None)
    return not (isinstance(status, int) and 400 <= status < 500)
