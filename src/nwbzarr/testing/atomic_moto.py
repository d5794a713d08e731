"""Make moto's conditional writes atomic, as they are on S3, for the in-process test server.

moto 5.2 emulates ``If-None-Match: *`` and ``If-Match`` on PutObject and DeleteObject by reading the
object and then writing it, with no lock in between; its threaded server runs requests concurrently,
so two create-only puts of the same key released at the same instant can both succeed (1 race in about
50 measured). S3 itself evaluates the condition and the write atomically. Serializing the conditional
writes of this process (one lock, only for requests that carry a condition) restores S3's semantics.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

from nwbzarr.core.optional import require

__all__ = ["make_conditional_writes_atomic"]

_lock = threading.Lock()
_done: list[bool] = []


def _serialized(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        headers = getattr(self, "headers", None) or {}
        if headers.get("If-None-Match") is None and headers.get("If-Match") is None:
            return method(self, *args, **kwargs)
        with _lock:
            return method(self, *args, **kwargs)

    return call


def make_conditional_writes_atomic() -> None:
    """Wrap moto's PutObject, DeleteObject and CompleteMultipartUpload once per process (idempotent)."""
    with _lock:
        if _done:
            return
        responses = require("moto.s3.responses", "the S3 test server (pip install 'moto[server]')")
        cls = responses.S3Response
        for name in ("put_object", "delete_object", "_key_response_post"):  # the last completes multipart uploads
            if callable(getattr(cls, name, None)):
                setattr(cls, name, _serialized(getattr(cls, name)))
        _done.append(True)
