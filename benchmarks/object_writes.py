"""The writes of the benchmark object server (``object_server.py --writable``): S3's PUT, DELETE and
multipart uploads, with the conditional headers nwbzarr's lock and commit rely on.

moto parses every request in Python through Werkzeug, and the benchmark proxy forwards it again. In an
upload benchmark on two cores, moto spent more CPU than the writer it measured (3.4-4.3 s against
1.6-2.0 s for a 200 MB conversion), so the ratio measured the server. This module answers writes from
the files themselves, as the read side does:

- ``PUT key``: the body goes to a staging file, then replaces the object in one ``os.replace``.
  ``If-None-Match: *`` answers 412 if the key exists; ``If-Match: etag`` answers 412 unless it has that
  ETag. The check and the replace happen under an ``flock`` that every worker process shares, so two
  create-only PUTs of one key at the same instant give one 200 and one 412, as on S3.
- ``DELETE key`` (and ``If-Match``), ``POST ?delete`` (DeleteObjects).
- Multipart: ``POST ?uploads`` (create), ``PUT ?partNumber&uploadId`` (a part, ETag = its MD5, as S3
  gives it), ``POST ?uploadId`` (complete, conditional headers too), ``DELETE ?uploadId`` (abort),
  ``GET ?uploads`` (list uploads) and ``GET ?uploadId`` (list parts).

An object's ETag comes from its file's key, size, modification time and inode (:func:`etag_of`): every
replace makes a new one, and no byte is hashed. Bodies arrive with ``Content-Length`` (after a
``100 Continue`` if the client asks for one) or chunked. Authorization and checksum headers are accepted
and ignored. It is for benchmarks and tests on loopback only: there are no users, no versions and no
other storage classes.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from xml.sax.saxutils import escape

__all__ = ["Answer", "Writes", "error", "etag_of", "key_path"]

Answer = tuple[int, dict[str, str], bytes]
_NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"'


def key_path(root: Path, key: str) -> Path | None:
    """The file of ``key`` under ``root``, or None for a key no file can hold (empty parts, dot folders)."""
    if not key or key.endswith("/") or any(p in ("", ".", "..") for p in key.split("/")):
        return None
    return root / key


def etag_of(key: str, stat: os.stat_result) -> str:
    """The quoted ETag of the object whose file has ``stat``: new at every replace, no bytes hashed."""
    tag = f"{key}:{stat.st_size}:{stat.st_mtime_ns}:{stat.st_ino}".encode()
    return f'"{hashlib.md5(tag, usedforsecurity=False).hexdigest()}"'


class Writes:
    """The write requests of one worker; ``staging`` (on the root's file system) holds bodies and parts."""

    def __init__(self, root: Path, staging: Path, bucket: str) -> None:
        self.root, self.staging, self.bucket = root, staging, bucket
        (staging / "uploads").mkdir(parents=True, exist_ok=True)
        self._lock_file = staging / "lock"
        self._lock_file.touch()

    def answer(self, method: str, key: str, query: dict[str, str], headers: dict[str, str], body: bytes) -> Answer:
        """(status, headers, body) of a write, or of a multipart listing."""
        if method == "POST" and "uploads" in query:
            return self._create(key)
        if method == "POST" and "uploadId" in query:
            return self._complete(key, query["uploadId"], headers, body)
        if method == "POST" and "delete" in query:
            return self._delete_many(body)
        if method == "PUT" and "uploadId" in query:
            return self._part(query["uploadId"], query.get("partNumber", ""), body)
        if method == "PUT":
            if "x-amz-copy-source" in headers:
                return error(501, "NotImplemented", "CopyObject is not served by the benchmark server", key)
            return self._put(key, headers, body)
        if method == "DELETE" and "uploadId" in query:
            return self._abort(query["uploadId"])
        if method == "DELETE":
            return self._delete(key, headers)
        if method == "GET" and "uploads" in query:
            return self._uploads(query.get("prefix", ""))
        if method == "GET" and "uploadId" in query:
            return self._parts(key, query["uploadId"])
        return error(405, "MethodNotAllowed", f"{method} is not served by the benchmark server", key)

    @staticmethod
    def is_write(method: str, query: dict[str, str]) -> bool:
        """Whether :meth:`answer` takes the request (the rest are reads of objects and listings)."""
        return method in ("PUT", "POST", "DELETE") or (method == "GET" and ("uploads" in query or "uploadId" in query))

    # --- objects -------------------------------------------------------------------------------------
    def _put(self, key: str, headers: dict[str, str], body: bytes) -> Answer:
        target = self._target(key)
        if target is None:
            return error(400, "InvalidObjectName", f"a key the benchmark server cannot store: {key!r}", key)
        staged = self._stage(body)
        return self._commit(key, target, staged, headers)

    def _commit(self, key: str, target: Path, staged: Path, headers: dict[str, str]) -> Answer:
        """Move ``staged`` over the object if the request's conditions hold (under the shared lock)."""
        with self._locked():
            refused = _refused(key, target, headers)
            if refused is not None:
                staged.unlink(missing_ok=True)
                return refused
            target.parent.mkdir(parents=True, exist_ok=True)
            staged.replace(target)
            return 200, {"ETag": etag_of(key, target.stat())}, b""

    def _delete(self, key: str, headers: dict[str, str]) -> Answer:
        target = self._target(key)
        if target is None:
            return 204, {}, b""
        with self._locked():
            if "if-match" in headers:
                if not target.is_file():
                    return error(404, "NoSuchKey", "The specified key does not exist.", key)
                refused = _refused(key, target, headers)
                if refused is not None:
                    return refused
            if target.is_file():  # a folder is no object: deleting its name deletes nothing, as on S3
                target.unlink()
                self._prune(target.parent)
        return 204, {}, b""

    def _delete_many(self, body: bytes) -> Answer:
        keys = [_unescape(k) for k in re.findall(rb"<Key>(.*?)</Key>", body, re.S)]
        quiet = b"<Quiet>true</Quiet>" in body
        out = [f"<DeleteResult {_NS}>"]
        for key in keys:
            self._delete(key, {})
            if not quiet:
                out.append(f"<Deleted><Key>{escape(key)}</Key></Deleted>")
        out.append("</DeleteResult>")
        return _xml(out)

    # --- multipart uploads ---------------------------------------------------------------------------
    def _create(self, key: str) -> Answer:
        if self._target(key) is None:
            return error(400, "InvalidObjectName", f"a key the benchmark server cannot store: {key!r}", key)
        upload = uuid.uuid4().hex
        folder = self.staging / "uploads" / upload
        folder.mkdir()
        (folder / "key").write_text(key)
        (folder / "initiated").write_text(time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()))
        return _xml(
            [
                f"<InitiateMultipartUploadResult {_NS}><Bucket>{self.bucket}</Bucket>",
                f"<Key>{escape(key)}</Key><UploadId>{upload}</UploadId></InitiateMultipartUploadResult>",
            ]
        )

    def _part(self, upload: str, number: str, body: bytes) -> Answer:
        folder = self._upload(upload)
        if folder is None:
            return error(404, "NoSuchUpload", "The specified upload does not exist.", upload)
        if not number.isdigit() or not 1 <= int(number) <= 10000:
            return error(400, "InvalidArgument", f"partNumber {number!r} is not 1-10000", upload)
        staged = self._stage(body)
        etag = f'"{hashlib.md5(body, usedforsecurity=False).hexdigest()}"'
        staged.replace(folder / f"part-{int(number):05d}")
        (folder / f"etag-{int(number):05d}").write_text(etag)
        return 200, {"ETag": etag}, b""

    def _complete(self, key: str, upload: str, headers: dict[str, str], body: bytes) -> Answer:
        folder = self._upload(upload)
        target = self._target(key)
        if folder is None or target is None or (folder / "key").read_text() != key:
            return error(404, "NoSuchUpload", "The specified upload does not exist.", upload)
        wanted = re.findall(rb"<PartNumber>\s*(\d+)\s*</PartNumber>\s*<ETag>(.*?)</ETag>", body, re.S)
        wanted += [(n, e) for e, n in re.findall(rb"<ETag>(.*?)</ETag>\s*<PartNumber>\s*(\d+)\s*</PartNumber>", body)]
        if not wanted:
            return error(400, "MalformedXML", "CompleteMultipartUpload names no parts", key)
        numbers = [int(n) for n, _ in wanted]
        if numbers != sorted(set(numbers)):
            return error(400, "InvalidPartOrder", "The list of parts was not in ascending order.", key)
        staged = self.staging / f"complete-{uuid.uuid4().hex}"
        with staged.open("wb") as out:
            for number, etag in wanted:
                part = folder / f"part-{int(number):05d}"
                stored = folder / f"etag-{int(number):05d}"
                if not part.is_file() or stored.read_text().strip('"') != _unescape(etag).strip('"'):
                    out.close()
                    staged.unlink()
                    return error(400, "InvalidPart", f"part {int(number)} was not uploaded with that ETag", key)
                with part.open("rb") as source:
                    shutil.copyfileobj(source, out, 16 * 1024 * 1024)
        status, extra, answer = self._commit(key, target, staged, headers)
        if status != 200:
            return status, extra, answer
        shutil.rmtree(folder, ignore_errors=True)
        return _xml(
            [
                f"<CompleteMultipartUploadResult {_NS}><Location>/{self.bucket}/{escape(key)}</Location>",
                f"<Bucket>{self.bucket}</Bucket><Key>{escape(key)}</Key>",
                f"<ETag>{escape(extra['ETag'])}</ETag></CompleteMultipartUploadResult>",
            ]
        )

    def _abort(self, upload: str) -> Answer:
        folder = self._upload(upload)
        if folder is None:
            return error(404, "NoSuchUpload", "The specified upload does not exist.", upload)
        shutil.rmtree(folder, ignore_errors=True)
        return 204, {}, b""

    def _uploads(self, prefix: str) -> Answer:
        out = [f"<ListMultipartUploadsResult {_NS}><Bucket>{self.bucket}</Bucket>"]
        out.append(f"<Prefix>{escape(prefix)}</Prefix><IsTruncated>false</IsTruncated>")
        found = []
        for folder in (self.staging / "uploads").iterdir():
            with contextlib.suppress(FileNotFoundError):  # completed or aborted meanwhile
                key = (folder / "key").read_text()
                if key.startswith(prefix):
                    found.append((key, folder.name, (folder / "initiated").read_text()))
        for key, upload, initiated in sorted(found):
            out.append(
                f"<Upload><Key>{escape(key)}</Key><UploadId>{upload}</UploadId>"
                f"<Initiated>{initiated}</Initiated><StorageClass>STANDARD</StorageClass></Upload>"
            )
        out.append("</ListMultipartUploadsResult>")
        return _xml(out)

    def _parts(self, key: str, upload: str) -> Answer:
        folder = self._upload(upload)
        if folder is None:
            return error(404, "NoSuchUpload", "The specified upload does not exist.", upload)
        out = [f"<ListPartsResult {_NS}><Bucket>{self.bucket}</Bucket><Key>{escape(key)}</Key>"]
        out.append(f"<UploadId>{upload}</UploadId><IsTruncated>false</IsTruncated>")
        for part in sorted(folder.glob("part-*")):
            number = int(part.name.removeprefix("part-"))
            etag = (folder / f"etag-{number:05d}").read_text()
            out.append(
                f"<Part><PartNumber>{number}</PartNumber><ETag>{escape(etag)}</ETag>"
                f"<Size>{part.stat().st_size}</Size></Part>"
            )
        out.append("</ListPartsResult>")
        return _xml(out)

    # --- helpers -------------------------------------------------------------------------------------
    def _target(self, key: str) -> Path | None:
        return key_path(self.root, key)

    def _upload(self, upload: str) -> Path | None:
        folder = self.staging / "uploads" / upload
        return folder if re.fullmatch(r"[0-9a-f]{32}", upload) and folder.is_dir() else None

    def _stage(self, body: bytes) -> Path:
        staged = self.staging / f"body-{uuid.uuid4().hex}"
        staged.write_bytes(body)
        return staged

    def _prune(self, folder: Path) -> None:
        """Remove folders a delete left empty (S3 has none), up to the root."""
        while folder != self.root and folder.is_relative_to(self.root):
            try:
                folder.rmdir()
            except OSError:
                return
            folder = folder.parent

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Held by one worker process at a time: a check and its replace are one step for every client."""
        with self._lock_file.open("rb") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _refused(key: str, target: Path, headers: dict[str, str]) -> Answer | None:
    """The 412 that S3 answers when ``If-None-Match`` / ``If-Match`` do not hold for ``target``, or None."""
    exists = target.is_file()
    if headers.get("if-none-match", "").strip() == "*" and exists:
        return _precondition_failed(key)
    wanted = headers.get("if-match")
    if wanted is not None:
        current = etag_of(key, target.stat()) if exists else None
        if current is None:
            return error(404, "NoSuchKey", "The specified key does not exist.", key)
        if wanted.strip().strip('"') != current.strip('"'):
            return _precondition_failed(key)
    return None


def _precondition_failed(key: str) -> Answer:
    return error(412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold", key)


def _unescape(value: bytes) -> str:
    text = value.decode()
    for entity, char in (("&quot;", '"'), ("&apos;", "'"), ("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&")):
        text = text.replace(entity, char)
    return text


def _xml(parts: list[str]) -> Answer:
    body = '<?xml version="1.0" encoding="UTF-8"?>' + "".join(parts)
    return 200, {"Content-Type": "application/xml"}, body.encode()


def error(status: int, code: str, message: str, resource: str) -> Answer:
    """An S3 error answer: ``status`` and an XML body naming ``code``."""
    xml = (
        f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code><Message>{escape(message)}</Message>'
        f"<Resource>{escape(resource)}</Resource><RequestId>bench</RequestId></Error>"
    )
    return status, {"Content-Type": "application/xml"}, xml.encode()
