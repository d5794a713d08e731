"""An S3 endpoint on loopback that serves a local directory as a bucket, fast enough not to be the
bottleneck of a benchmark: read-only by default, and with ``writable=True`` (``--writable``) the writes
of :mod:`object_writes` too (PUT, DELETE, multipart, conditional headers).

    .venv/bin/python benchmarks/object_server.py --self-test     # obstore, s3fs and zarr read through it
    .venv/bin/python benchmarks/object_server.py --self-test --compare-moto   # + moto behind the proxy
    .venv/bin/python benchmarks/object_server.py --self-test --writable       # its writes, and conversions

moto parses every request in Python through Werkzeug and the benchmark proxy forwards it in Python
again: about 300 requests a second on two cores, so a read of 175 ranges measured the server. This
server answers from the files themselves (key = path below the root) on asyncio streams, in
``processes`` worker processes that share one port (SO_REUSEPORT: the kernel spreads connections
over them). It adds the latency of a request with ``asyncio.sleep`` (no thread held), and counts
requests and response-body bytes by method and logs (method, path, Range) for the benchmark.

S3 it speaks: GET (``Range``: 206 + ``Content-Range``, 416 beyond the end; suffix and open ranges),
HEAD, ``ETag``/``Last-Modified``/``Content-Length``, 404 ``NoSuchKey`` XML, ListObjectsV2 (and v1) with
prefix, delimiter, max-keys and continuation. Authorization headers are accepted and ignored. Writes
answer 405 unless the server is writable.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import email.utils
import os
import shutil
import socket
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit
from xml.sax.saxutils import escape

from object_writes import Writes, etag_of, key_path
from object_writes import error as _error

__all__ = ["CountingWorkers", "DirectoryServer"]

#: connections the kernel queues per worker before accepting (a read's burst of 256 new connections)
BACKLOG = 4096
#: bytes a connection's stream buffers before it pauses the socket, on a writable server
STREAM_LIMIT = 8 * 2**20
_REASONS = {200: "OK", 204: "No Content", 206: "Partial Content", 400: "Bad Request", 404: "Not Found"}
_REASONS |= {405: "Method Not Allowed", 409: "Conflict", 412: "Precondition Failed", 416: "Range Not Satisfiable"}
_REASONS |= {500: "Internal Server Error", 501: "Not Implemented"}


class CountingWorkers:
    """What a benchmark asks of server processes that count: each child answers ``reset``, ``counts`` and
    ``log`` over its pipe (``self._children``: (pipe, process) pairs), and the answers are summed here."""

    _children: list[tuple[Any, Any]]

    def _ask(self, command: str) -> list[Any]:
        for pipe, _ in self._children:
            pipe.send(command)
        return [pipe.recv() for pipe, _ in self._children]

    def reset(self) -> None:
        """Zero the counts and the log of every worker."""
        self._ask("reset")

    def counts(self) -> tuple[int, int, dict[str, int]]:
        """(requests, response-body bytes, requests by method) since the last reset, over every worker."""
        total, sent, methods = 0, 0, Counter[str]()
        for n, b, by in self._ask("counts"):
            total, sent = total + n, sent + b
            methods.update(by)
        return total, sent, dict(methods)

    def log(self) -> list[tuple[str, str, str]]:
        """(method, path, Range header or "") of every request since the last reset, over every worker."""
        return [entry for part in self._ask("log") for entry in part]


class DirectoryServer(CountingWorkers):
    """``with DirectoryServer(folder) as server: s3fs.S3FileSystem(**server.options).ls("bench")``.

    Starts its worker processes in ``__enter__`` and stops every one in ``__exit__``.
    """

    def __init__(
        self, root: Path, *, bucket: str = "bench", latency: float = 0.02, processes: int = 2, writable: bool = False
    ) -> None:
        self.root = Path(root).resolve()
        self.bucket, self.latency, self.processes = bucket, latency, max(1, processes)
        self.writable = writable
        self.staging: Path | None = None  # bodies and parts of writes, on the root's file system
        self.url = ""
        self.options: dict[str, Any] = {}
        self._children: list[tuple[Any, Any]] = []
        self._reserved: socket.socket | None = None

    def __enter__(self) -> DirectoryServer:
        import multiprocessing

        # the port is chosen here and held (bound, never listening, so it is given no connections) while
        # every worker binds and listens on it too
        if self.writable:
            import tempfile

            self.staging = Path(tempfile.mkdtemp(prefix=f".{self.root.name}-writes-", dir=self.root.parent))
        reserved = _reuse_port_socket(0)
        self._reserved = reserved
        port = reserved.getsockname()[1]
        context = multiprocessing.get_context("spawn")
        try:
            for _ in range(self.processes):
                pipe, child = context.Pipe()
                staging = str(self.staging) if self.staging is not None else None
                args = (child, str(self.root), self.bucket, self.latency, port, staging)
                process = context.Process(target=_worker, args=args, daemon=True)
                process.start()
                self._children.append((pipe, process))
            for pipe, _ in self._children:
                if pipe.recv() != "ready":
                    raise RuntimeError("an object-server worker did not start")
        except BaseException:
            self.__exit__()
            raise
        self.url = f"http://127.0.0.1:{port}"
        self.options = {"endpoint_url": self.url, "key": "bench", "secret": "bench-secret"}
        return self

    def __exit__(self, *exc: object) -> None:
        for pipe, _ in self._children:
            with contextlib.suppress(BrokenPipeError, OSError):
                pipe.send("stop")
        for _, process in self._children:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
                process.join(timeout=10)
        self._children.clear()
        if self._reserved is not None:
            self._reserved.close()
            self._reserved = None
        if self.staging is not None:
            shutil.rmtree(self.staging, ignore_errors=True)
            self.staging = None


def _reuse_port_socket(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", port))
    return sock


# --- the worker process ------------------------------------------------------------------------------
class _Stats:
    """Counts and log of one worker; the event loop adds, the pipe thread reads and resets."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.methods: Counter[str] = Counter()
        self.bytes = 0
        self.entries: list[tuple[str, str, str]] = []

    def add(self, method: str, path: str, rng: str, nbytes: int) -> None:
        with self.lock:
            self.methods[method] += 1
            self.bytes += nbytes
            self.entries.append((method, path, rng))


def _worker(pipe: Any, root: str, bucket: str, latency: float, port: int, staging: str | None = None) -> None:
    loop: asyncio.AbstractEventLoop | None = None
    if os.environ.get("NWBZARR_BENCH_UVLOOP", "1") != "0":  # measured: ~6,000 requests/s against ~5,000
        try:
            import uvloop

            loop = uvloop.new_event_loop()
        except ImportError:
            pass
    loop = loop or asyncio.new_event_loop()
    stats = _Stats()
    writes = Writes(Path(root), Path(staging), bucket) if staging is not None else None
    handler = _Handler(Path(root), bucket, latency, stats, writes)
    sock = _reuse_port_socket(port)
    sock.listen(BACKLOG)
    # a write's body of tens of MB arrives in one read buffer: at the default limit (64 KiB) the stream
    # paused the socket every 128 KiB
    limit = STREAM_LIMIT if writes is not None else 2**16
    server = loop.run_until_complete(asyncio.start_server(handler.serve, sock=sock, backlog=BACKLOG, limit=limit))

    def control() -> None:
        pipe.send("ready")
        while True:
            try:
                command = pipe.recv()
            except EOFError:
                command = "stop"
            if command == "stop":
                loop.call_soon_threadsafe(loop.stop)
                return
            with stats.lock:
                if command == "reset":
                    stats.methods.clear()
                    stats.bytes = 0
                    stats.entries = []
                    answer: Any = None
                elif command == "log":
                    answer = list(stats.entries)
                else:
                    answer = (sum(stats.methods.values()), stats.bytes, dict(stats.methods))
            pipe.send(answer)

    threading.Thread(target=control, daemon=True).start()
    try:
        loop.run_forever()
    finally:
        server.close()
        tasks = asyncio.all_tasks(loop)
        for task in tasks:  # open keep-alive connections: closed before the loop is
            task.cancel()
        loop.run_until_complete(_settle(tasks))
        loop.close()


async def _settle(tasks: set[asyncio.Task[Any]]) -> None:
    await asyncio.gather(*tasks, return_exceptions=True)


class _Handler:
    """One worker's HTTP/1.1 keep-alive connections and the S3 requests on them."""

    def __init__(self, root: Path, bucket: str, latency: float, stats: _Stats, writes: Writes | None = None) -> None:
        self.root, self.bucket, self.latency, self.stats = root, bucket, latency, stats
        self.writes = writes

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = ([*lines[0].split(" ", 2), "", ""])[:3]
                headers: dict[str, str] = {}
                for line in lines[1:]:
                    name, sep, value = line.partition(":")
                    if sep:
                        headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length", "0") or 0)
                waits = headers.get("expect", "").lower() == "100-continue"  # sends no body before an answer
                received = b""
                if self.writes is not None and method in ("PUT", "POST"):
                    if waits:
                        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                        await writer.drain()
                        waits = False
                    if headers.get("transfer-encoding", "").lower() == "chunked":
                        received = await _chunked(reader)
                    elif length:
                        received = await reader.readexactly(length)
                elif length and not waits:
                    await reader.readexactly(length)  # a write's body, refused below
                if self.latency > 0:
                    await asyncio.sleep(self.latency)
                rng = headers.get("range", "")
                try:
                    status, extra, body = self.answer(method, target, rng, headers, received)
                except OSError as exc:  # answered, so a client sees the failure instead of a closed connection
                    status, extra, body = _error(500, "InternalError", f"{type(exc).__name__}: {exc}", target)
                send_body = method != "HEAD"
                self.stats.add(method, target, rng, len(body) if send_body else 0)
                out = [f"HTTP/1.1 {status} {_REASONS.get(status, 'OK')}"]
                out += [f"{k}: {v}" for k, v in extra.items()]
                if "Content-Length" not in extra:
                    out.append(f"Content-Length: {len(body)}")
                out.append("x-amz-request-id: bench")
                writer.write(("\r\n".join(out) + "\r\n\r\n").encode("latin-1"))
                if send_body and body:
                    writer.write(body)
                await writer.drain()
                if waits or headers.get("connection", "").lower() == "close":
                    return
        except ConnectionError:
            return
        finally:
            writer.close()

    def answer(
        self, method: str, target: str, rng: str, headers: dict[str, str] | None = None, received: bytes = b""
    ) -> tuple[int, dict[str, str], bytes]:
        """(status, headers, body) for one request (``received``: its body)."""
        parts = urlsplit(target)
        path = unquote(parts.path)
        bucket, _, key = path.lstrip("/").partition("/")
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        if bucket != self.bucket:
            return _error(404, "NoSuchBucket", f"The specified bucket does not exist: {bucket}", bucket)
        if self.writes is not None and Writes.is_write(method, query):
            return self.writes.answer(method, key, query, headers or {}, received)
        if method not in ("GET", "HEAD"):
            return _error(405, "MethodNotAllowed", f"{method} on a read-only benchmark server", key)
        if not key:
            if method == "HEAD":
                return 200, {"Content-Type": "application/xml"}, b""
            if "location" in query:
                xml = '<?xml version="1.0" encoding="UTF-8"?><LocationConstraint>us-east-1</LocationConstraint>'
                return 200, {"Content-Type": "application/xml"}, xml.encode()
            return self.listing(query)
        file = self._file(key)
        if file is None:
            return _error(404, "NoSuchKey", "The specified key does not exist.", key)
        stat = file.stat()
        size = stat.st_size
        meta = {
            "ETag": etag_of(key, stat),
            "Last-Modified": email.utils.formatdate(stat.st_mtime, usegmt=True),
            "Accept-Ranges": "bytes",
            "Content-Type": "application/octet-stream",
        }
        if method == "HEAD":
            return 200, meta | {"Content-Length": str(size)}, b""
        if not rng:
            return 200, meta, file.read_bytes()
        span = _span(rng, size)
        if span is None:
            status, headers, body = _error(416, "InvalidRange", "The requested range is not satisfiable", key)
            return status, headers | {"Content-Range": f"bytes */{size}"}, body
        start, stop = span
        with file.open("rb") as f:
            data = os.pread(f.fileno(), stop - start, start)
        return 206, meta | {"Content-Range": f"bytes {start}-{stop - 1}/{size}"}, data

    def _file(self, key: str) -> Path | None:
        file = key_path(self.root, key)
        return file if file is not None and file.is_file() else None

    def listing(self, query: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        """ListObjectsV2 (``list-type=2``) or v1: keys in order, ``delimiter`` folding, pages of ``max-keys``."""
        v2 = query.get("list-type") == "2"
        prefix, delimiter = query.get("prefix", ""), query.get("delimiter", "")
        limit = max(1, min(1000, int(query.get("max-keys", "1000") or 1000)))
        after = query.get("continuation-token", "") or query.get("start-after", "") if v2 else query.get("marker", "")
        encode = query.get("encoding-type") == "url"
        entries: list[tuple[str, bool]] = []  # (key or common prefix, is a prefix)
        seen: set[str] = set()
        for key in self._keys(prefix):
            rest = key[len(prefix) :]
            if delimiter and delimiter in rest:
                common = prefix + rest.split(delimiter, 1)[0] + delimiter
                if common not in seen:
                    seen.add(common)
                    entries.append((common, True))
            else:
                entries.append((key, False))
        entries.sort()
        entries = [e for e in entries if e[0] > after] if after else entries
        page, truncated = entries[:limit], len(entries) > limit

        def text(value: str) -> str:
            return escape(quote(value, safe="/") if encode else value)

        body = ['<?xml version="1.0" encoding="UTF-8"?>']
        body.append('<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">')
        body.append(f"<Name>{self.bucket}</Name><Prefix>{text(prefix)}</Prefix><MaxKeys>{limit}</MaxKeys>")
        if delimiter:
            body.append(f"<Delimiter>{text(delimiter)}</Delimiter>")
        if encode:
            body.append("<EncodingType>url</EncodingType>")
        body.append(f"<IsTruncated>{'true' if truncated else 'false'}</IsTruncated>")
        if v2:
            body.append(f"<KeyCount>{len(page)}</KeyCount>")
            if truncated:
                body.append(f"<NextContinuationToken>{escape(page[-1][0])}</NextContinuationToken>")
        elif truncated:
            body.append(f"<NextMarker>{text(page[-1][0])}</NextMarker>")
        for name, is_prefix in page:
            if is_prefix:
                body.append(f"<CommonPrefixes><Prefix>{text(name)}</Prefix></CommonPrefixes>")
                continue
            try:
                stat = (self.root / name).stat()
            except FileNotFoundError:  # deleted since it was listed
                continue
            modified = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(stat.st_mtime))
            body.append(
                f"<Contents><Key>{text(name)}</Key><LastModified>{modified}</LastModified>"
                f"<ETag>{escape(etag_of(name, stat))}</ETag><Size>{stat.st_size}</Size>"
                "<StorageClass>STANDARD</StorageClass></Contents>"
            )
        body.append("</ListBucketResult>")
        return 200, {"Content-Type": "application/xml"}, "".join(body).encode()

    def _keys(self, prefix: str) -> list[str]:
        """Every file's key that starts with ``prefix`` (walking only the folder the prefix names)."""
        folder = prefix.rpartition("/")[0]
        base = self.root / folder if folder else self.root
        if not base.is_dir():
            return []
        keys = []
        for dirpath, _, files in os.walk(base):
            rel = os.path.relpath(dirpath, self.root)
            for name in files:
                key = name if rel == "." else f"{rel}/{name}".replace(os.sep, "/")
                if key.startswith(prefix):
                    keys.append(key)
        return keys


def _span(rng: str, size: int) -> tuple[int, int] | None:
    """``(start, stop)`` of a ``bytes=a-b`` / ``bytes=a-`` / ``bytes=-n`` header, or None if unsatisfiable."""
    first, _, last = rng.strip().removeprefix("bytes=").partition("-")
    try:
        if not first:
            n = int(last)
            return (max(0, size - n), size) if n > 0 and size > 0 else None
        start = int(first)
        stop = min(size, int(last) + 1) if last else size
    except ValueError:
        return None
    return (start, stop) if start < size and stop > start else None


async def _chunked(reader: asyncio.StreamReader) -> bytes:
    """A body sent with ``Transfer-Encoding: chunked``, its trailers read and dropped."""
    parts: list[bytes] = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers, then the blank line
                pass
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)


# --- the self-test -----------------------------------------------------------------------------------
async def _burst(store: Any, key: str, n: int, size: int) -> float:
    """Seconds for ``n`` ranged GETs of 4 KiB of ``key``, all in flight at once (obstore)."""
    import obstore

    start = time.perf_counter()
    await asyncio.gather(
        *(obstore.get_range_async(store, key, start=(i * 4096) % (size - 4096), length=4096) for i in range(n))
    )
    return time.perf_counter() - start


def _rate(endpoint: str, options: dict[str, Any], key: str, n: int, size: int) -> float:
    """Requests a second of ``n`` concurrent small ranged GETs (best of three bursts) through ``endpoint``."""
    from obstore.store import S3Store

    store = S3Store(
        "bench",
        config={
            "endpoint": endpoint,
            "access_key_id": options["key"],
            "secret_access_key": options["secret"],
            "virtual_hosted_style_request": False,
            "region": "us-east-1",
        },
        client_options={"allow_http": True, "pool_max_idle_per_host": "2048"},
    )

    async def run() -> float:
        await _burst(store, key, 50, size)  # connections opened before timing
        return min([await _burst(store, key, n, size) for _ in range(3)])

    return n / asyncio.run(run())


def self_test(compare_moto: bool, processes: int, latency: float) -> int:
    """obstore, s3fs and zarr read a store through the server; then the requests a second of 1000 GETs."""
    import tempfile

    import numpy as np
    import s3fs
    import zarr
    from zarr.storage import FsspecStore, ObjectStore

    with tempfile.TemporaryDirectory(prefix="nwbzarr-objsrv-") as tmp:
        root = Path(tmp)
        data = np.arange(64 * 64 * 8, dtype="u2").reshape(8, 64, 64)
        zarr.create_array(root / "store.zarr", data=data, chunks=(2, 32, 32), shards=(4, 64, 64))
        (root / "blob.bin").write_bytes(os.urandom(1 << 20))
        with DirectoryServer(root, latency=0.0, processes=processes) as server:
            import obstore
            from obstore.store import S3Store

            s3 = S3Store(
                "bench",
                prefix="store.zarr",
                config={
                    "endpoint": server.url,
                    "access_key_id": "k",
                    "secret_access_key": "s",
                    "virtual_hosted_style_request": False,
                    "region": "us-east-1",
                },
                client_options={"allow_http": True},
            )
            got = zarr.open_array(ObjectStore(s3, read_only=True), mode="r")[:]
            assert np.array_equal(got, data), "obstore + zarr read wrong data"
            listed = sorted(obstore.list(s3).collect(), key=lambda m: m["path"])
            assert any(m["path"] == "zarr.json" for m in listed), listed
            fs_options = server.options | {"skip_instance_cache": True, "use_listings_cache": False}
            fs_array = zarr.open_array(FsspecStore.from_url("s3://bench/store.zarr", storage_options=fs_options))
            assert np.array_equal(fs_array[:], data), "s3fs + zarr read wrong data"
            fs = s3fs.S3FileSystem(**fs_options)
            assert fs.cat_file("bench/blob.bin", start=10, end=20) == (root / "blob.bin").read_bytes()[10:20]
            assert sorted(fs.ls("bench", detail=False)) == ["bench/blob.bin", "bench/store.zarr"]
            assert "bench/store.zarr/c/0/0/0" in fs.find("bench/store.zarr")
            assert not fs.exists("bench/missing")
            store = FsspecStore.from_url("s3://bench/store.zarr", storage_options=fs_options)
            keys = sorted(zarr.core.sync.sync(_collect(store.list_dir(""))))
            assert keys == ["c", "zarr.json"], keys
            total, nbytes, methods = server.counts()
            print(f"self-test reads: PASS ({total} requests, {nbytes} bytes, {methods})")
            server.reset()
            rate = _rate(server.url, server.options, "blob.bin", 1000, 1 << 20)
            print(f"directory server, {processes} process(es), latency 0: {rate:.0f} requests/s (1000 in flight)")
        for loop_name, flag in (("uvloop", "1"), ("asyncio", "0")):
            os.environ["NWBZARR_BENCH_UVLOOP"] = flag  # read by the workers
            with DirectoryServer(root, latency=latency, processes=processes) as server:
                rate = _rate(server.url, server.options, "blob.bin", 1000, 1 << 20)
            print(
                f"directory server ({loop_name}), {processes} process(es), latency "
                f"{latency * 1e3:.0f} ms: {rate:.0f} requests/s"
            )
        os.environ.pop("NWBZARR_BENCH_UVLOOP")
        if compare_moto:
            sys.path.insert(0, str(Path(__file__).resolve().parent))
            from remote import ServerProcess, fresh_fs

            for lat in (0.0, latency):
                with ServerProcess(lat, stock_moto=False, servers=processes) as moto:
                    for endpoint in moto.endpoint_urls:
                        fs = fresh_fs(moto.options | {"endpoint_url": endpoint})
                        fs.put_file(str(root / "blob.bin"), "bench/blob.bin")
                        fs.cat_file("bench/blob.bin", start=0, end=1)  # loads the in-memory patch
                    rate = _rate(moto.url, moto.options, "blob.bin", 1000, 1 << 20)
                    print(
                        f"moto + counting proxy, {processes} process(es), latency {lat * 1e3:.0f} ms: "
                        f"{rate:.0f} requests/s"
                    )
    return 0


def write_self_test(processes: int) -> int:
    """The writable server: conditional writes as on S3 (50 races of two create-only PUTs: one winner
    each), a stale ETag refused, an s3fs multipart upload, and nwbzarr conversions over both transports
    that verify (every object read back and checked) and read back equal."""
    import tempfile
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np
    import obstore
    import s3fs
    from obstore.exceptions import AlreadyExistsError, PreconditionError
    from obstore.store import S3Store
    from run import write_pynwb_hdf5

    from nwbzarr import NWBZarrIO
    from nwbzarr.operations.convert import convert
    from nwbzarr.testing.synthetic import SyntheticSession

    with tempfile.TemporaryDirectory(prefix="nwbzarr-objsrv-") as tmp:
        root = Path(tmp) / "bucket"
        root.mkdir()
        with DirectoryServer(root, latency=0.0, processes=processes, writable=True) as server:
            config: Any = {
                "endpoint": server.url,
                "access_key_id": "k",
                "secret_access_key": "s",
                "region": "us-east-1",
            }
            store = S3Store(
                "bench", config=config | {"virtual_hosted_style_request": False}, client_options={"allow_http": True}
            )
            first = obstore.put(store, "a/lock", b"one", mode="create")
            try:
                obstore.put(store, "a/lock", b"two", mode="create")
                raise AssertionError("a second create-only PUT of one key was accepted")
            except AlreadyExistsError:
                pass
            second = obstore.put(store, "a/lock", b"two", mode={"e_tag": first["e_tag"]})
            try:
                obstore.put(store, "a/lock", b"three", mode={"e_tag": first["e_tag"]})
                raise AssertionError("a PUT with a stale If-Match was accepted")
            except PreconditionError:
                pass
            assert bytes(obstore.get(store, "a/lock").bytes()) == b"two" and second["e_tag"] != first["e_tag"]

            def create(key: str) -> bool:
                try:
                    obstore.put(store, key, b"x", mode="create")
                    return True
                except AlreadyExistsError:
                    return False

            with ThreadPoolExecutor(2) as pool:
                for attempt in range(50):
                    won = list(pool.map(create, [f"race/{attempt}"] * 2))
                    assert sorted(won) == [False, True], f"race {attempt}: {won}"
            fs = s3fs.S3FileSystem(**server.options, skip_instance_cache=True, use_listings_cache=False)
            blob = os.urandom(12 * 2**20)
            with fs.open("bench/multi/blob", "wb", block_size=5 * 2**20) as f:  # 3 parts
                f.write(blob)
            assert fs.cat_file("bench/multi/blob") == blob, "an s3fs multipart upload read back wrong"
            assert server.counts()[2].get("POST", 0) >= 2, "the upload was not multipart"
            fs.rm("bench/multi", recursive=True)
            assert not fs.exists("bench/multi/blob")
            print("self-test writes: PASS (create-only, compare-and-swap, 50 races, s3fs multipart, delete)")

            session = Path(tmp) / "session.nwb"
            movie = np.asarray(SyntheticSession(n_frames=300, height=128, width=128, n_cells=20).frames(0, 300))
            write_pynwb_hdf5(movie, session, gzip=False)
            options = dict(server.options)
            for transport in ("obstore", "fsspec"):
                url = f"s3://bench/{transport}.nwb.zarr"
                convert(session, url, dst_storage_options=options | {"transport": transport})  # verifies
                with NWBZarrIO(url, "r", storage_options=options | {"transport": transport}) as io:
                    got = np.asarray(io.read().acquisition["TwoPhotonSeries"].data[:])
                assert np.array_equal(got, movie), f"{transport}: the converted movie reads back wrong"
            print(f"self-test conversions: PASS (obstore and s3fs, verified, equal; {server.counts()[2]})")
    return 0


async def _collect(items: Any) -> list[str]:
    return [item async for item in items]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--self-test", action="store_true", help="read a store through it and measure requests/s")
    parser.add_argument("--compare-moto", action="store_true", help="with --self-test: the same burst on moto")
    parser.add_argument("--writable", action="store_true", help="serve writes too; with --self-test: test them")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--root", type=Path, help="serve this folder until interrupted")
    args = parser.parse_args()
    if args.self_test:
        if args.writable:
            return write_self_test(args.processes)
        return self_test(args.compare_moto, args.processes, args.latency)
    if args.root is None:
        parser.error("give --self-test or --root")
    with DirectoryServer(args.root, latency=args.latency, processes=args.processes, writable=args.writable) as server:
        print(f"serving {args.root} as s3://bench at {server.url} (Ctrl-C stops)")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            return 0


if __name__ == "__main__":
    sys.exit(main())
