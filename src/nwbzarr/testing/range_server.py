"""A plain HTTP file server on loopback that answers ranged GETs (``Range: bytes=a-b``), as static hosts do.

Python's ``http.server`` ignores ``Range``; remote readers need it. Serves the files of one directory
with ``ETag`` and ``Last-Modified`` (so caches can tell a changed file) and counts requests by method.
Put a :class:`~nwbzarr.testing.http_proxy.CountingProxy` in front for latency or faults.
"""

from __future__ import annotations

import email.utils
import re
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

__all__ = ["RangeServer"]

_RANGE = re.compile(r"bytes=(\d*)-(\d*)$")


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up mid-answer (a cancelled read) is no server error worth a traceback."""


class RangeServer:
    """``with RangeServer(folder) as server: fsspec.open(server.url + "/x.nwb")``; ``server.requests``."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()
        self.requests: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._server = _QuietServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def host(self) -> str:
        return str(self._server.server_address[0])

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __enter__(self) -> RangeServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _answer(self, status: int, headers: dict[str, str], body: bytes) -> None:
                self.send_response(status)
                for key, value in headers.items():
                    if key != "Content-Length":
                        self.send_header(key, value)
                self.send_header("Content-Length", headers.get("Content-Length", str(len(body))))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def do_GET(self) -> None:
                with server._lock:
                    server.requests[self.command] += 1
                path = (server.root / unquote(urlsplit(self.path).path).lstrip("/")).resolve()
                if server.root not in path.parents or not path.is_file():
                    self._answer(404, {}, b"not found")
                    return
                stat = path.stat()
                headers = {
                    "ETag": f'"{stat.st_size:x}-{stat.st_mtime_ns:x}"',
                    "Last-Modified": email.utils.formatdate(stat.st_mtime, usegmt=True),
                    "Accept-Ranges": "bytes",
                    "Content-Type": "application/octet-stream",
                }
                size = stat.st_size
                match = _RANGE.match(self.headers.get("Range", "").strip())
                if match is None:
                    if self.command == "HEAD":
                        self._answer(200, {**headers, "Content-Length": str(size)}, b"")
                    else:
                        self._answer(200, headers, path.read_bytes())
                    return
                first, last = match.groups()
                if not first:  # the last N bytes
                    start, stop = max(0, size - int(last or 0)), size
                else:
                    start, stop = int(first), min(size, int(last) + 1 if last else size)
                if start >= size or stop <= start:
                    self._answer(416, {"Content-Range": f"bytes */{size}"}, b"")
                    return
                with path.open("rb") as f:
                    f.seek(start)
                    body = f.read(stop - start)
                self._answer(206, {**headers, "Content-Range": f"bytes {start}-{stop - 1}/{size}"}, body)

            do_HEAD = do_GET

        return Handler
