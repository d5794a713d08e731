"""A loopback HTTP reverse proxy that counts requests and bytes and can add latency.

Tests point s3fs (``endpoint_url``) or an HTTP client at the proxy to count what a read really costs
on the wire, and benchmarks add a realistic round-trip latency. Subclasses can change a response
(fault injection) by overriding :meth:`CountingProxy.intercept`. Several proxies (in several processes,
each in front of its own server holding the same objects) can share one port (``reuse_port``): the
kernel spreads the client's connections over them, so one Python process does not cap a benchmark.
"""

from __future__ import annotations

import http.client
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["ConditionalStrippingProxy", "CountingProxy"]

_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailers",
    "transfer-encoding",
    "upgrade",
}


class CountingProxy:
    """``with CountingProxy("127.0.0.1", 9000, latency=0.02) as proxy: ... proxy.requests``."""

    def __init__(
        self, target_host: str, target_port: int, *, latency: float = 0.0, port: int = 0, reuse_port: bool = False
    ) -> None:
        self.target = (target_host, target_port)
        self.latency = latency
        self.requests: Counter[str] = Counter()  # by method
        self.paths: list[tuple[str, str]] = []
        self.ranges: list[str] = []  # the Range header of each request in ``paths`` ("" for a whole object)
        self.bytes_out = 0  # response bytes sent to the client
        self.max_in_flight = 0  # the most requests the proxy held at once since the last reset
        self._active = 0
        self._lock = threading.Lock()
        server_class = _SharedPortServer if reuse_port else _Server
        self._server = server_class(("127.0.0.1", port), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def total(self) -> int:
        return sum(self.requests.values())

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.paths.clear()
            self.ranges.clear()
            self.bytes_out = 0
            self.max_in_flight = self._active

    def __enter__(self) -> CountingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def intercept(self, method: str, path: str) -> tuple[int, bytes] | str | float | None:
        """Fault injection: ``(status, body)`` answers without forwarding, ``"reset"`` drops the
        connection, a number of seconds stalls before forwarding; ``None`` just forwards."""
        return None

    def forward_headers(self, headers: dict[str, str]) -> dict[str, str]:
        """The request headers sent upstream (a subclass can drop some)."""
        return headers

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _forward(self) -> None:
                with proxy._lock:
                    proxy.requests[self.command] += 1
                    proxy.paths.append((self.command, self.path))
                    proxy.ranges.append(self.headers.get("Range") or "")
                    proxy._active += 1
                    proxy.max_in_flight = max(proxy.max_in_flight, proxy._active)
                self._counted = True
                try:
                    self._relay()
                finally:
                    self._answered()

            def _answered(self) -> None:
                """The request leaves the in-flight count as its answer goes out, not after: a client sends its
                next request once it has the answer, which would otherwise still count (a bound of 4 seen as 5)."""
                if self._counted:
                    self._counted = False
                    with proxy._lock:
                        proxy._active -= 1

            def _relay(self) -> None:
                if proxy.latency:
                    time.sleep(proxy.latency)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                canned = proxy.intercept(self.command, self.path)
                if canned == "reset":
                    self.close_connection = True
                    self.connection.shutdown(2)  # the client sees the connection drop mid-request
                    return
                if isinstance(canned, float):
                    time.sleep(canned)
                    canned = None
                if isinstance(canned, tuple):
                    status, payload = canned
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(payload)))
                    self._answered()
                    self.end_headers()
                    if self.command != "HEAD":  # a body after a HEAD answer would corrupt the connection
                        self.wfile.write(payload)
                    return
                upstream = http.client.HTTPConnection(*proxy.target, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
                upstream.request(self.command, self.path, body=body, headers=proxy.forward_headers(headers))
                response = upstream.getresponse()
                payload = response.read()
                self.send_response(response.status, response.reason)
                for key, value in response.getheaders():
                    if key.lower() not in _HOP_BY_HOP and key.lower() != "content-length":
                        self.send_header(key, value)
                # a HEAD answer has no body but announces the object's size: pass the upstream length on
                announced = response.getheader("Content-Length") if self.command == "HEAD" else None
                self.send_header("Content-Length", announced or str(len(payload)))
                self._answered()
                self.end_headers()
                with proxy._lock:  # counted before the client can have it: a count read after the answer includes it
                    proxy.bytes_out += len(payload)
                if self.command != "HEAD":
                    self.wfile.write(payload)
                upstream.close()

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _forward

        return Handler


class _Server(ThreadingHTTPServer):
    """A threading server that queues a read's hundreds of new connections instead of dropping them.

    socketserver listens with a backlog of 5: a client opening 175 connections at once sees most of its
    SYNs dropped and resent after a second, which would be charged to the reader."""

    request_queue_size = 1024


class _SharedPortServer(_Server):
    """A threading server whose port other processes' servers may bind too (SO_REUSEPORT)."""

    allow_reuse_port = True


class ConditionalStrippingProxy(CountingProxy):
    """An S3-compatible server that ignores conditional writes: ``If-None-Match``/``If-Match`` never arrive."""

    def forward_headers(self, headers: dict[str, str]) -> dict[str, str]:
        return {k: v for k, v in headers.items() if k.lower() not in ("if-none-match", "if-match")}
