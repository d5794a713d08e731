"""S3 multipart uploads whose parts a later attempt continues: a killed upload resends only its missing parts.

A shard of tens of megabytes sent as one PUT is lost whole when the writer dies during it. Sent as a
multipart upload, every part the server acknowledged stays there (until the upload is completed or
aborted), and a resumed write that encodes the same bytes lists the upload's parts and keeps each
whose ETag is the MD5 of the same slice, sending only the rest (:meth:`MultipartTarget.put`). A part
whose ETag is no MD5 (SSE-KMS) or whose bytes differ is sent again: correct, only slower.

Requests go through s3fs's aiobotocore client (``fs._call_s3``), which nwbzarr already depends on:
for a zarr ``FsspecStore`` over s3fs its own filesystem, for nwbzarr's obstore store
(:class:`~nwbzarr.storage.obstore_store.NWBObjectStore`, which has no multipart API with upload ids)
an s3fs filesystem built once per process from the same URL and storage options (a fresh write there
leaves a large object to obstore, which sends the same parts itself: :data:`NATIVE_PARTS`). A wrapper store can
pass its inner store's uploads on by defining ``multipart_target()`` (a test kill switch does).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import io
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from zarr.abc.store import Store
from zarr.storage import FsspecStore

from nwbzarr.errors import StorageError

__all__ = [
    "MIN_PARTS",
    "NATIVE_PARTS",
    "PARTS_INFLIGHT",
    "PART_BYTES",
    "MultipartTarget",
    "Part",
    "Reused",
    "Upload",
    "fsspec_twin",
    "native_parts",
    "part_ranges",
    "target_of",
]

#: bytes of every part but the last. S3's minimum (moto enforces it too): the smallest unit a kill can
#: cost, and a 25 MB shard still goes in 5 requests (their round trips overlap, see PARTS_INFLIGHT)
PART_BYTES = 5 * 2**20
#: objects of fewer parts are one PUT (metadata, small chunks: a multipart upload would only add requests)
MIN_PARTS = 2
#: parts of one object being sent at once (the shard writer already stores several objects at once)
PARTS_INFLIGHT = 2
#: a fresh write over obstore leaves an object of two parts or more to obstore, which sends it as a multipart
#: upload of the same 5 MiB parts itself, in Rust (its default ``chunk_size``): the same upload a resume
#: continues (a part's ETag is its MD5 whoever sent it), without s3fs, botocore and an MD5 in Python, which
#: cost a 400 MB conversion 2.6 s more CPU (benchmarks/RESULTS-resume.md). False: s3fs sends every part
NATIVE_PARTS = True
_LIST_PAGE = 1000  # S3's own page size for uploads and parts
_ABORTS = 16  # aborts in flight at once (small requests: latency-bound)

_built: dict[tuple[int, str, str], FsspecStore] = {}  # obstore stores: their s3fs twin, per process


@dataclass(frozen=True)
class Upload:
    """A multipart upload in progress: the store key it will become and its id."""

    key: str
    upload_id: str


@dataclass(frozen=True)
class Part:
    """A part the server holds: its number, ETag (quoted, as S3 gives it) and size."""

    number: int
    etag: str
    size: int


@dataclass(frozen=True)
class Reused:
    """What one :meth:`MultipartTarget.put` kept of an earlier attempt's upload: parts and their bytes."""

    parts: int = 0
    nbytes: int = 0


class _Slice(io.RawIOBase):
    """A part's bytes as a file for botocore: a view of the object in memory, read where it lies (no copy)."""

    def __init__(self, view: memoryview) -> None:
        super().__init__()
        self._view = view
        self._at = 0

    def __len__(self) -> int:
        return len(self._view)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._at

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._at, io.SEEK_END: len(self._view)}[whence]
        self._at = min(max(0, base + offset), len(self._view))
        return self._at

    def readinto(self, buffer: Any) -> int:
        target = memoryview(buffer).cast("B")
        n = min(len(target), len(self._view) - self._at)
        target[:n] = self._view[self._at : self._at + n]
        self._at += n
        return n

    def read(self, size: int = -1) -> bytes:
        end = len(self._view) if size is None or size < 0 else min(len(self._view), self._at + size)
        data = bytes(self._view[self._at : end])
        self._at = end
        return data


def part_ranges(size: int, part_bytes: int | None = None) -> list[tuple[int, int, int]]:
    """``(number, start, stop)`` of every part of an object of ``size`` bytes (numbers from 1, as S3's)."""
    step = part_bytes or PART_BYTES
    return [(i // step + 1, i, min(size, i + step)) for i in range(0, size, step)]


def _md5(view: memoryview) -> bytes:
    return hashlib.md5(view, usedforsecurity=False).digest()


@dataclass(frozen=True)
class MultipartTarget:
    """Multipart uploads into the S3 prefix ``root`` (``bucket/path``) through the s3fs filesystem ``fs``.

    ``before_part(key)`` is called before each part is sent (a test's kill switch counts parts as changes).
    """

    fs: Any
    root: str
    before_part: Callable[[str], None] | None = None

    def observed(self, before_part: Callable[[str], None]) -> MultipartTarget:
        """The same target, calling ``before_part(key)`` before each part."""
        return replace(self, before_part=before_part)

    def _where(self, key: str) -> tuple[str, str]:
        bucket, path, _ = self.fs.split_path(f"{self.root}/{key}" if key else self.root)
        return bucket, path

    async def create(self, key: str) -> str:
        bucket, path = self._where(key)
        response = await self.fs._call_s3("create_multipart_upload", Bucket=bucket, Key=path)
        return str(response["UploadId"])

    async def upload_part(self, key: str, upload_id: str, number: int, view: memoryview, md5: bytes) -> str:
        """Send one part (its ``Content-MD5`` lets the server refuse bytes damaged on the way); its ETag."""
        if self.before_part is not None:
            self.before_part(key)
        bucket, path = self._where(key)
        response = await self.fs._call_s3(
            "upload_part",
            Bucket=bucket,
            Key=path,
            UploadId=upload_id,
            PartNumber=number,
            Body=_Slice(view),
            ContentLength=len(view),
            ContentMD5=base64.b64encode(md5).decode(),
        )
        return str(response["ETag"])

    async def list_uploads(self) -> list[Upload]:
        """Every multipart upload in progress under the prefix (all pages), keys relative to it."""
        bucket, path = self._where("")
        prefix = path.rstrip("/") + "/" if path else ""
        found: list[Upload] = []
        markers: dict[str, str] = {}
        while True:
            page = await self.fs._call_s3(
                "list_multipart_uploads", Bucket=bucket, Prefix=prefix, MaxUploads=_LIST_PAGE, **markers
            )
            for upload in page.get("Uploads") or []:
                found.append(Upload(str(upload["Key"])[len(prefix) :], str(upload["UploadId"])))
            if not page.get("IsTruncated") or not page.get("NextKeyMarker"):  # never a loop on a page with no next
                return found
            markers = {
                "KeyMarker": page.get("NextKeyMarker") or "",
                "UploadIdMarker": page.get("NextUploadIdMarker") or "",
            }

    async def uploads_by_key(self) -> dict[str, list[str]]:
        """The ids of the uploads in progress, by key; none if they cannot be listed (then nothing is reused)."""
        try:
            uploads = await self.list_uploads()
        except OSError:
            return {}
        found: dict[str, list[str]] = {}
        for upload in uploads:
            found.setdefault(upload.key, []).append(upload.upload_id)
        return found

    async def abort_all(self) -> int:
        """Abort every upload in progress under the prefix (a committed write's debris); how many there were."""
        uploads = await self.list_uploads()
        gate = asyncio.Semaphore(_ABORTS)

        async def abort(upload: Upload) -> None:
            async with gate:
                await self.abort(upload)

        await asyncio.gather(*(abort(upload) for upload in uploads))
        return len(uploads)

    async def list_parts(self, key: str, upload_id: str) -> list[Part]:
        """The parts the server holds for an upload (all pages); none if the upload is gone."""
        bucket, path = self._where(key)
        found: list[Part] = []
        marker: dict[str, int] = {}
        while True:
            try:
                page = await self.fs._call_s3(
                    "list_parts", Bucket=bucket, Key=path, UploadId=upload_id, MaxParts=_LIST_PAGE, **marker
                )
            except FileNotFoundError:  # completed or aborted since it was listed
                return []
            for part in page.get("Parts") or []:
                found.append(Part(int(part["PartNumber"]), str(part["ETag"]), int(part["Size"])))
            following = int(page.get("NextPartNumberMarker") or 0)
            if not page.get("IsTruncated") or following <= marker.get("PartNumberMarker", 0):
                return found
            marker = {"PartNumberMarker": following}

    async def complete(self, key: str, upload_id: str, etags: dict[int, str]) -> None:
        bucket, path = self._where(key)
        parts = [{"PartNumber": n, "ETag": etags[n]} for n in sorted(etags)]
        try:
            await self.fs._call_s3(
                "complete_multipart_upload",
                Bucket=bucket,
                Key=path,
                UploadId=upload_id,
                MultipartUpload={"Parts": parts},
            )
        finally:
            self.fs.invalidate_cache(f"{self.root}/{key}")

    async def abort(self, upload: Upload) -> None:
        """Abort an upload (its parts stop costing storage); one gone already is fine."""
        bucket, path = self._where(upload.key)
        with contextlib.suppress(FileNotFoundError):
            await self.fs._call_s3("abort_multipart_upload", Bucket=bucket, Key=path, UploadId=upload.upload_id)

    async def put(self, key: str, data: bytes, candidates: list[str] | None = None) -> Reused:
        """Store ``data`` at ``key`` as a multipart upload, continuing the best of the ``candidates`` (upload ids).

        A candidate's part is kept when its number, size and ETag are those of the same slice of ``data``
        (its MD5); the upload keeping the most bytes is continued, the others are left for the commit to
        abort. A part that fails for good raises :class:`StorageError` naming ``key``; the upload stays, so
        the next ``--resume`` continues it.
        """
        view = memoryview(data)
        ranges = part_ranges(len(view))
        digests: dict[int, bytes] = {}

        async def digest(number: int, start: int, stop: int) -> bytes:
            if number not in digests:
                digests[number] = await asyncio.to_thread(_md5, view[start:stop])
            return digests[number]

        upload_id, kept = await self._continued(key, ranges, candidates or [], digest)
        if upload_id is None:
            upload_id = await self._call(key, "starting its multipart upload", self.create(key))
        etags = dict(kept)
        gate = asyncio.Semaphore(max(1, PARTS_INFLIGHT))
        assert upload_id is not None

        async def send(number: int, start: int, stop: int) -> None:
            async with gate:
                md5 = await digest(number, start, stop)
                etags[number] = await self.upload_part(key, upload_id, number, view[start:stop], md5)

        missing = [r for r in ranges if r[0] not in kept]
        try:
            async with asyncio.TaskGroup() as group:
                for number, start, stop in missing:
                    group.create_task(send(number, start, stop))
        except BaseExceptionGroup as failures:  # the other parts were cancelled: nothing is left running
            first = failures.exceptions[0]
            if not isinstance(first, OSError):
                raise first from None
            raise StorageError(
                f"{key}: a part of its multipart upload failed ({first}); the parts stored are kept in the upload "
                f"{upload_id}, which the next `nwbzarr convert --resume` continues"
            ) from first
        try:
            await self.complete(key, upload_id, etags)
        except OSError as exc:
            if kept:  # the upload continued is gone, or a kept part with it (aborted meanwhile): all of it anew
                return await self.put(key, data)
            raise StorageError(f"{key}: completing its multipart upload failed: {exc}") from exc
        return Reused(len(kept), sum(stop - start for number, start, stop in ranges if number in kept))

    async def _continued(
        self,
        key: str,
        ranges: list[tuple[int, int, int]],
        candidates: list[str],
        digest: Callable[[int, int, int], Any],
    ) -> tuple[str | None, dict[int, str]]:
        """The candidate upload holding the most bytes of ``ranges`` and its matching parts' ETags, or (None, {})."""
        best: tuple[int, str | None, dict[int, str]] = (0, None, {})
        sizes = {number: (start, stop) for number, start, stop in ranges}
        for upload_id in candidates:
            matching: dict[int, str] = {}
            for part in await self._call(key, "listing the parts of its upload", self.list_parts(key, upload_id)):
                span = sizes.get(part.number)
                if span is None or span[1] - span[0] != part.size:
                    continue
                if part.etag.strip('"').lower() == (await digest(part.number, *span)).hex():
                    matching[part.number] = part.etag
            nbytes = sum(sizes[n][1] - sizes[n][0] for n in matching)
            if nbytes > best[0]:
                best = (nbytes, upload_id, matching)
        return best[1], best[2]

    async def _call(self, key: str, what: str, call: Any) -> Any:
        try:
            return await call
        except OSError as exc:
            raise StorageError(f"{key}: {what} failed: {exc}") from exc


def target_of(store: Store, *, build: bool = True) -> MultipartTarget | None:
    """Where ``store`` takes multipart uploads: S3 through s3fs or through nwbzarr's obstore store; else None.

    ``build=False``: only if that costs nothing (an obstore store's s3fs twin is not made for it: making it
    imports s3fs and starts a botocore session, about a second, which a write without multipart uploads
    never needs).
    """
    hook = getattr(store, "multipart_target", None)
    if callable(hook):
        found = hook(build)
        return found if isinstance(found, MultipartTarget) else None
    if isinstance(store, FsspecStore):
        protocol = getattr(store.fs, "protocol", None) or ()
        return MultipartTarget(store.fs, store.path) if "s3" in protocol else None
    remembered = getattr(store, "s3fs_twin", None)  # an NWBObjectStore over S3 remembers its URL and options
    if callable(remembered):
        twin = remembered(build)
        return None if twin is None else MultipartTarget(twin.fs, twin.path)
    return None


def native_parts(store: Store) -> bool:
    """Whether ``store`` sends a large object as a multipart upload of :data:`PART_BYTES` parts itself (obstore
    over S3, with :data:`NATIVE_PARTS`): a fresh write then leaves it the whole object."""
    from zarr.storage import ObjectStore

    url = getattr(store, "url", None)
    return (
        NATIVE_PARTS and isinstance(store, ObjectStore) and isinstance(url, str) and url.startswith(("s3://", "s3a://"))
    )


def fsspec_twin(url: str, options: dict[str, Any], key: str, *, build: bool = True) -> FsspecStore | None:
    """The s3fs store of ``url`` with ``options`` (built once per process and options ``key``; None if not
    built yet and not ``build``)."""
    from nwbzarr.storage.resolve import make_store

    cache = (os.getpid(), url, key)
    store = _built.get(cache)
    if store is None and build:
        made = make_store(url, read_only=False, storage_options={**options, "transport": "fsspec"})
        assert isinstance(made, FsspecStore)
        store = _built[cache] = made
    return store
