"""Every store request of one conversion to S3, timed on the client, and where the serial round trips are.

    .venv/bin/python benchmarks/trace_requests.py [--frames 1000] [--size 512] [--latency 0.02] [--log FILE]

Used by ``benchmarks/upload.py --trace`` too. The obstore functions that zarr's ``ObjectStore`` and
nwbzarr's conditional writes call (``obstore.get_async``, ``put_async``...) are wrapped for the duration
of one conversion: each request is recorded with its method, key, bytes sent, start and end (seconds
since the conversion began), the thread it was sent from and the nwbzarr function that asked for it. The
summary splits the conversion in three phases: before the first shard PUT starts, the shards, and after
the last shard PUT ends; in each, the requests, how many *rounds* they took (a round: requests that
overlap in time, i.e. sent together) and the wall time spent waiting on them.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

__all__ = ["Request", "Trace", "summary", "traced"]

#: a PUT of at least this many bytes is a shard (metadata, notes and the manifest are far smaller)
SHARD_BYTES = 1 << 20
_WRAPPED = ("get_async", "get_range_async", "get_ranges_async", "put_async", "head_async", "delete_async")
_LISTS = ("list_with_delimiter_async",)
#: the requests that carry a shard's bytes (one PUT, or the parts of a multipart upload)
_SHARD_METHODS = ("PUT", "put_object", "upload_part")


@dataclass
class Request:
    method: str
    key: str
    nbytes: int
    start: float
    end: float
    thread: str
    caller: str


@dataclass
class Trace:
    origin: float = field(default_factory=time.perf_counter)
    requests: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, request: Request) -> None:
        with self.lock:
            self.requests.append(request)


def _caller() -> str:
    """The innermost nwbzarr function on the stack (the coroutine chain of the request)."""
    for frame in reversed(traceback.extract_stack(limit=40)[:-2]):
        if "/nwbzarr/" in frame.filename and "/testing/" not in frame.filename:
            module = frame.filename.rsplit("/nwbzarr/", 1)[1].removesuffix(".py").replace("/", ".")
            return f"{module}.{frame.name}"
    return "zarr"


def _size(args: tuple[Any, ...]) -> int:
    if len(args) < 3:
        return 0
    try:
        return len(args[2])
    except TypeError:
        return 0


@contextmanager
def traced() -> Iterator[Trace]:
    """Record every obstore request made inside the block."""
    import obstore

    trace = Trace()
    saved = {name: getattr(obstore, name) for name in (*_WRAPPED, *_LISTS, "list")}

    def wrap(name: str) -> Any:
        original = saved[name]
        method = {"put_async": "PUT", "head_async": "HEAD", "delete_async": "DELETE"}.get(name, "GET")
        if name in _LISTS:
            method = "LIST"

        async def call(*args: Any, **kwargs: Any) -> Any:
            key = str(args[1] if len(args) > 1 else kwargs.get("path", kwargs.get("prefix", "")))
            caller, thread = _caller(), threading.current_thread().name
            start = time.perf_counter() - trace.origin
            try:
                return await original(*args, **kwargs)
            finally:
                end = time.perf_counter() - trace.origin
                trace.add(Request(method, key, _size(args), start, end, thread, caller))

        return call

    def listing(*args: Any, **kwargs: Any) -> Any:
        key = str(args[1] if len(args) > 1 else kwargs.get("prefix", ""))
        start = time.perf_counter() - trace.origin
        trace.add(Request("LIST", key, 0, start, start, threading.current_thread().name, _caller()))
        return saved["list"](*args, **kwargs)

    from s3fs import S3FileSystem

    call_s3 = S3FileSystem._call_s3

    async def traced_call(self: Any, method: str, *args: Any, **kwargs: Any) -> Any:
        """s3fs requests: the fsspec transport, and the multipart uploads of shards on either transport."""
        body = kwargs.get("Body")
        size = len(body) if isinstance(body, bytes | bytearray | memoryview) else int(getattr(body, "__len__", int)())
        caller, thread = _caller(), threading.current_thread().name
        start = time.perf_counter() - trace.origin
        try:
            return await call_s3(self, method, *args, **kwargs)
        finally:
            end = time.perf_counter() - trace.origin
            trace.add(
                Request(method, str(kwargs.get("Key", kwargs.get("Prefix", ""))), size, start, end, thread, caller)
            )

    for name in (*_WRAPPED, *_LISTS):
        setattr(obstore, name, wrap(name))
    obstore.list = listing
    S3FileSystem._call_s3 = traced_call  # type: ignore[method-assign]
    try:
        yield trace
    finally:
        for name, function in saved.items():
            setattr(obstore, name, function)
        S3FileSystem._call_s3 = call_s3  # type: ignore[method-assign]


def _rounds(requests: list[Request]) -> tuple[int, float]:
    """Groups of requests overlapping in time, and the wall seconds covered by at least one request."""
    rounds, covered, end = 0, 0.0, -1.0
    for request in sorted(requests, key=lambda r: r.start):
        if request.start >= end:
            rounds += 1
            covered += request.end - request.start
            end = request.end
        elif request.end > end:
            covered += request.end - end
            end = request.end
    return rounds, covered


def summary(trace: Trace, wall: float) -> list[str]:
    """Markdown lines: one row per phase, then the requests before and after the shards, one by one."""
    requests = sorted(trace.requests, key=lambda r: r.start)
    shards = [r for r in requests if r.method in _SHARD_METHODS and r.nbytes >= SHARD_BYTES]
    shards += [r for r in requests if r.method in ("create_multipart_upload", "complete_multipart_upload")]
    first = min((r.start for r in shards), default=wall)
    last = max((r.end for r in shards), default=wall)
    phases = [
        ("before the first shard", 0.0, first, [r for r in requests if r.start < first]),
        ("shards (first start to last end)", first, last, [r for r in requests if first <= r.start < last]),
        ("after the last shard", last, wall, [r for r in requests if r.start >= last]),
    ]
    lines = [
        "| phase | wall ms | requests | rounds | ms waiting on requests |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, begin, end, members in phases:
        rounds, covered = _rounds(members)
        lines.append(f"| {name} | {(end - begin) * 1000:.0f} | {len(members)} | {rounds} | {covered * 1000:.0f} |")
    lines.append(f"| whole conversion | {wall * 1000:.0f} | {len(requests)} | {_rounds(requests)[0]} | |")
    lines += ["", "```", "start_ms   end_ms  method  bytes  key  (asked by; thread)"]
    for name, _, _, members in phases:
        lines.append(f"-- {name}")
        lines += [
            f"{r.start * 1000:8.0f} {r.end * 1000:8.0f}  {r.method:6} {r.nbytes:8}  {r.key}  ({r.caller}; {r.thread})"
            for r in members
        ]
    lines.append("```")
    return lines


@contextmanager
def loop_stalls(trace: Trace, threshold: float = 0.05) -> Iterator[list[tuple[float, float]]]:
    """(start, seconds) of every time zarr's event loop (where every request is sent from) was blocked
    for more than ``threshold``: a request cannot start, nor its answer be taken, while it is."""
    import asyncio

    from zarr.core.sync import _get_loop

    stalls: list[tuple[float, float]] = []
    stop = threading.Event()

    async def watch() -> None:
        while not stop.is_set():
            before = time.perf_counter()
            await asyncio.sleep(0.005)
            late = time.perf_counter() - before - 0.005
            if late > threshold:
                stalls.append((before - trace.origin, late))

    future = asyncio.run_coroutine_threadsafe(watch(), _get_loop())
    try:
        yield stalls
    finally:
        stop.set()
        future.result(timeout=5)


def trace_conversion(source: Path, url: str, options: dict[str, Any]) -> tuple[Trace, float, list[tuple[float, float]]]:
    """Convert ``source`` to ``url`` with every request traced; the trace, the wall seconds, the loop's stalls."""
    from nwbzarr.operations.convert import convert

    with traced() as trace, loop_stalls(trace) as stalls:
        trace.origin = time.perf_counter()
        convert(source, url, dst_storage_options=options, verify=False)
        wall = time.perf_counter() - trace.origin
    return trace, wall, stalls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=1000)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--cells", type=int, default=300)
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--log", type=Path, help="write the summary here too")
    args = parser.parse_args()

    import tempfile

    from remote import ServerProcess, fair_options
    from run import make_movie, write_pynwb_hdf5

    movie = make_movie(args)
    with tempfile.TemporaryDirectory() as name, ServerProcess(args.latency, stock_moto=False) as server:
        source = Path(name) / "session.nwb"
        write_pynwb_hdf5(movie, source, gzip=False)
        options = fair_options(server.url, {k: v for k, v in server.options.items() if k != "endpoint_url"})
        from nwbzarr.operations.convert import convert

        convert(source, Path(name) / "warm.nwb.zarr", verify=False)  # imports warm; the bucket's probe is not
        trace, wall, stalls = trace_conversion(source, "s3://bench/traced.nwb.zarr", options)
    text = "\n".join(summary(trace, wall))
    text += "\n\nevent loop blocked > 50 ms: " + ", ".join(
        f"at {t * 1000:.0f} ms for {d * 1000:.0f} ms" for t, d in stalls
    )
    print(text)
    if args.log:
        args.log.write_text(text + "\n")


if __name__ == "__main__":
    main()
