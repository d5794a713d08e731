"""nwbzarr vs hdmf-zarr vs PyNWB/HDF5 read remotely, in one run: open, one frame, a time course, a Dask mean.

    .venv/bin/python benchmarks/remote.py                 # 3000 x 512 x 512 uint16 (1.57 GB), as in issue 5
    .venv/bin/python benchmarks/remote.py --frames 300    # quicker

Every contender is written locally with the writers of ``benchmarks/run.py`` and served over S3 on
loopback with a per-request latency (20 ms), counting every request and response byte, so requests and
bytes are exact whatever the machine's noise. ``--server directory`` (the default) serves each store where
it was written with ``benchmarks/object_server.py`` (~10x the requests a second of moto + proxy);
``--server moto`` uploads it to moto servers (``--servers`` processes, each holding every object) behind
counting reverse proxies sharing one port (needed for the conversion to S3, which writes). Each read's requests are then
replayed by a bare obstore client (the ceiling of the emulated remote); nwbzarr reads over obstore and over
s3fs; the Zarr stores are also read from local disk, through nwbzarr's reader and through plain zarr.
Every reader gets the same s3fs options as nwbzarr (one GET per whole object, same retries and timeouts).
Stock moto reads the whole object for every ranged GET; unless ``--stock-moto`` is given, this script
keeps each object's bytes in memory on the server side, so server time is a slice, as on real S3.
It ends with an HDF5 -> Zarr conversion throughput comparison and the PASS/MISS lines for issue 5.
Timings are single runs on a noisy 2-core machine: compare ratios from one run, not numbers across runs.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import math
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from object_server import CountingWorkers, DirectoryServer
from run import _timed, _tree_size, make_movie, write_hdmf_zarr, write_nwbzarr, write_pynwb_hdf5

warnings.simplefilter("ignore")

__all__ = ["main"]

BUCKET = "bench"
SERIES = "acquisition/TwoPhotonSeries/data"
#: Dask chunks along time are the storage unit along time, repeated up to at least this many frames
DASK_MIN_FRAMES = 128


@dataclass
class Step:
    """One remote read: wall time and what crossed the proxy."""

    seconds: float = float("nan")
    requests: int = 0
    bytes: int = 0
    by_method: dict[str, int] = field(default_factory=dict)


@dataclass
class Remote:
    """One contender's remote figures."""

    name: str
    stored_bytes: int = 0  # the movie array only, as stored (compressed)
    objects: int = 0  # objects in the whole store / file
    layout: str = ""
    open: Step = field(default_factory=Step)
    frame: Step = field(default_factory=Step)
    trace: Step = field(default_factory=Step)
    mean: Step = field(default_factory=Step)
    warm: Step = field(default_factory=Step)  # a second open with the disk cache of the first (nwbzarr on HDF5)
    again: Step = field(default_factory=Step)  # the time course read a second time (shard indexes known)
    mean_runs: list[float] = field(default_factory=list)  # seconds of each Dask mean; ``mean`` has their median
    notes: list[str] = field(default_factory=list)
    #: per step: the same requests replayed by a bare client that decodes nothing (see :func:`replay`)
    ceiling: dict[str, Step] = field(default_factory=dict)


@dataclass
class Conversion:
    name: str
    seconds: float = float("nan")
    stored_bytes: int = 0
    objects: int = 0
    notes: list[str] = field(default_factory=list)


# --- the server side -------------------------------------------------------------------------------
def patch_moto_ranged_reads() -> None:
    """Keep each moto object's bytes in memory so a ranged GET slices them instead of re-reading the
    whole object from its spool file (stock moto costs O(object size) per range request)."""
    from moto.s3.models import FakeKey

    original: Any = vars(FakeKey)["value"]
    if getattr(original.fget, "_nwbzarr_bench", False):
        return

    def get(self: Any) -> bytes:
        cached: bytes | None = self.__dict__.get("_bench_bytes")
        if cached is None:
            cached = original.fget(self)
            self.__dict__["_bench_bytes"] = cached
        return cached

    def put(self: Any, value: bytes) -> None:
        self.__dict__.pop("_bench_bytes", None)
        original.fset(self, value)

    get._nwbzarr_bench = True  # type: ignore[attr-defined]
    FakeKey.value = property(get, put)  # type: ignore[method-assign,assignment]


def fair_options(endpoint_url: str, base: dict[str, Any]) -> dict[str, Any]:
    """The s3fs options nwbzarr uses (src/nwbzarr/storage/resolve.py), given to every reader alike."""
    return base | {
        "endpoint_url": endpoint_url,
        "max_concurrency": 1,
        "config_kwargs": {
            "retries": {"max_attempts": 8, "mode": "standard"},
            "connect_timeout": 10,
            "read_timeout": 30,
            "max_pool_connections": 64,
        },
    }


def fresh_fs(options: dict[str, Any]) -> Any:
    """An s3fs filesystem with nothing cached from an earlier contender."""
    import s3fs

    s3fs.S3FileSystem.clear_instance_cache()
    return s3fs.S3FileSystem(**options)


class ServerProcess(CountingWorkers):
    """moto, its ranged-read patch and the counting proxy, in a process of their own (or several).

    On one process the server's Python (moto parsing each request, the proxy forwarding it) would share
    the reader's interpreter lock, and a reader that sends many small requests at once would be timed
    with the server's work: a real object store costs the reader only its own side. The parent asks the
    proxies for their counts over pipes.

    With ``servers > 1``, each process holds its own moto and proxy, the proxies share one port
    (SO_REUSEPORT: the kernel spreads the readers' connections over them) and every object is uploaded
    to every moto (:attr:`endpoint_urls`), so reads are served by several interpreters at once.
    """

    def __init__(self, latency: float, *, stock_moto: bool, servers: int = 1) -> None:
        import multiprocessing

        self._context = multiprocessing.get_context("spawn")
        self.latency, self.stock_moto, self.servers = latency, stock_moto, servers
        self._children: list[tuple[Any, Any]] = []

    def _start(self, port: int) -> tuple[str, str, dict[str, Any]]:
        pipe, child = self._context.Pipe()
        args = (child, self.latency, self.stock_moto, port, self.servers > 1)
        process = self._context.Process(target=_serve, args=args, daemon=True)
        process.start()
        self._children.append((pipe, process))
        started: tuple[str, str, dict[str, Any]] = pipe.recv()
        return started

    def __enter__(self) -> ServerProcess:
        from urllib.parse import urlsplit

        from nwbzarr.testing.s3server import loopback_environment

        loopback_environment()  # the parent's s3fs clients: dummy credentials, no proxies, no AWS lookups
        self.endpoint_url, self.url, self.options = self._start(0)
        port = urlsplit(self.url).port or 0
        self.endpoint_urls = [self.endpoint_url] + [self._start(port)[0] for _ in range(self.servers - 1)]
        return self

    def __exit__(self, *exc: object) -> None:
        for pipe, _ in self._children:
            pipe.send("stop")
        for _, process in self._children:
            process.join(timeout=30)


def _serve(pipe: Any, latency: float, stock_moto: bool, port: int = 0, reuse_port: bool = False) -> None:
    from nwbzarr.testing.http_proxy import CountingProxy
    from nwbzarr.testing.s3server import S3TestServer

    if not stock_moto:  # objects in memory, not spooled to temporary files past 5 MiB (what S3 costs a client: nothing)
        os.environ["MOTO_S3_DEFAULT_KEY_BUFFER_SIZE"] = str(1 << 30)
    with (
        S3TestServer() as server,
        CountingProxy(server.host, server.port, latency=latency, port=port, reuse_port=reuse_port) as proxy,
    ):
        if not stock_moto:
            patch_moto_ranged_reads()
        server.create_bucket(BUCKET)
        pipe.send((server.endpoint_url, proxy.url, server.storage_options()))
        while (command := pipe.recv()) != "stop":
            if command == "reset":
                proxy.reset()
                pipe.send(None)
            elif command == "log":
                pipe.send([(m, p, r) for (m, p), r in zip(proxy.paths, proxy.ranges, strict=True)])
            else:
                pipe.send((proxy.total, proxy.bytes_out, dict(proxy.requests)))


@contextmanager
def measured(proxy: ServerProcess, step: Step) -> Iterator[None]:
    proxy.reset()
    start = time.perf_counter()
    yield
    step.seconds = time.perf_counter() - start
    step.requests, step.bytes, step.by_method = proxy.counts()


# --- what each contender's reader looks like ---------------------------------------------------------
@dataclass
class Reader:
    """An opened remote file: the movie array, how to build its Dask array, and how to close it."""

    data: Any
    dask: Callable[[], Any]
    close: Callable[[], None]


def _dask_of(data: Any, unit: tuple[int, ...] | None, *, lock: bool) -> Any:
    import dask.array

    from_array: Any = dask.array.from_array
    depth = (unit or (1,))[0]
    depth *= max(1, math.ceil(DASK_MIN_FRAMES / depth))
    return from_array(data, chunks=(min(depth, data.shape[0]), *data.shape[1:]), lock=lock, asarray=True)


def open_nwbzarr(url: str, options: dict[str, Any]) -> Reader:
    from nwbzarr import NWBZarrIO

    io = NWBZarrIO(url, "r", storage_options=options)
    data = io.read().acquisition["TwoPhotonSeries"].data
    return Reader(data, data.to_dask, io.close)


def open_nwbzarr_obstore(url: str, options: dict[str, Any]) -> Reader:
    return open_nwbzarr(url, options | {"transport": "obstore"})


def open_nwbzarr_fsspec(url: str, options: dict[str, Any]) -> Reader:
    return open_nwbzarr(url, options | {"transport": "fsspec"})


def open_nwbzarr_fsspec_24(url: str, options: dict[str, Any]) -> Reader:
    """Before issue 15: s3fs, and 24 requests of a read in flight."""
    return open_nwbzarr(url, options | {"transport": "fsspec", "max_inflight": 24})


def open_hdmf_zarr(url: str, options: dict[str, Any]) -> Reader:
    from hdmf_zarr import NWBZarrIO

    io = NWBZarrIO(path=url, mode="r", storage_options=options)
    data = io.read().acquisition["TwoPhotonSeries"].data
    unit = tuple(data.shards or data.chunks)
    return Reader(data, lambda: _dask_of(data, unit, lock=False), io.close)


def _open_pynwb(fileobj: Any, closers: list[Callable[[], None]]) -> Reader:
    import h5py
    from pynwb import NWBHDF5IO

    h5 = h5py.File(fileobj, "r")
    io = NWBHDF5IO(file=h5, mode="r", load_namespaces=True)
    data = io.read().acquisition["TwoPhotonSeries"].data

    def close() -> None:
        io.close()
        h5.close()
        for c in closers:
            c()

    return Reader(data, lambda: _dask_of(data, data.chunks, lock=True), close)


def open_pynwb_s3fs(url: str, options: dict[str, Any]) -> Reader:
    """PyNWB's documented fsspec streaming: ``h5py.File(fs.open(url, "rb"))`` with s3fs's default cache."""
    f = fresh_fs(options).open(url, "rb")
    return _open_pynwb(f, [f.close])


def open_pynwb_remfile(url: str, options: dict[str, Any]) -> Reader:
    """PyNWB's recommended streaming: ``h5py.File(remfile.File(https_url))`` on a presigned URL."""
    boto3: Any = importlib.import_module("boto3")
    remfile: Any = importlib.import_module("remfile")

    bucket, key = url.removeprefix("s3://").split("/", 1)
    client = boto3.client(
        "s3",
        endpoint_url=options["endpoint_url"],
        aws_access_key_id=options["key"],
        aws_secret_access_key=options["secret"],
        region_name="us-east-1",
    )
    signed = client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=3600)
    f = remfile.File(signed)
    return _open_pynwb(f, [f.close])


# --- stored size of the movie array, locally, before upload -------------------------------------------
def array_bytes(path: Path, kind: str) -> tuple[int, str]:
    if kind == "zarr":
        import zarr

        arr = zarr.open_array(path / SERIES, mode="r")
        size, _ = _tree_size(path / SERIES)
        codecs = [type(c).__name__ for c in getattr(arr.metadata, "codecs", ())]
        shards = f", shards {tuple(arr.shards)}" if arr.shards else ""
        return size, f"chunks {tuple(arr.chunks)}{shards}, {'/'.join(codecs)}"
    import h5py

    with h5py.File(path, "r") as f:
        ds = f[SERIES]
        comp = f"{ds.compression}-{ds.compression_opts}" if ds.compression else "uncompressed"
        return int(ds.id.get_storage_size()), f"chunks {ds.chunks or 'contiguous'}, {comp}"


def upload(fs: Any, path: Path, key: str) -> None:
    if path.is_dir():
        fs.put(str(path) + "/", f"{BUCKET}/{key}/", recursive=True)
        if not fs.exists(f"{BUCKET}/{key}/zarr.json"):
            raise RuntimeError(f"upload of {path} to {key} left no root zarr.json")
    else:
        fs.put_file(str(path), f"{BUCKET}/{key}")
    warm(fs, key)


def read_through(path: Path) -> None:
    """Read every file of a store once, so the directory server answers from the page cache for every
    contender alike (a file written long before would otherwise cost its first reader a disk read)."""
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    for file in files:
        with file.open("rb") as f:
            while f.read(1 << 24):
                pass


def warm(fs: Any, key: str) -> None:
    """Read one byte of every uploaded object, straight from the server (not through the proxy).

    The in-memory patch loads an object's bytes on its first read, which would charge whichever reader
    touches an object first for moto's work; real S3 has no such first-read cost.
    """
    for path in fs.find(f"{BUCKET}/{key}"):
        fs.cat_file(path, start=0, end=1)


def measure_remote(
    result: Remote,
    opener: Callable[[str, dict[str, Any]], Reader],
    url: str,
    options: dict[str, Any],
    proxy: Any,
    shape: tuple[int, ...],
    *,
    ceiling: bool = False,
    repeat: int = 1,
) -> np.ndarray:
    """Open, one frame, the time course, the Dask mean (``repeat`` times, its median kept); returns the mean
    image for a cross-check.

    With ``ceiling``, each read's requests are replayed right after it by a bare client (:func:`replay`)."""
    import copy

    import s3fs

    n, h, w = shape
    s3fs.S3FileSystem.clear_instance_cache()  # no filesystem (and listing cache) left from the previous contender
    options = copy.deepcopy(options)  # botocore rewrites the retries dict it is given

    def bare(step: str) -> None:
        if ceiling and hasattr(proxy, "log"):
            log = proxy.log()
            result.ceiling[step] = Step()
            with measured(proxy, result.ceiling[step]):
                replay(proxy.url, options, log)

    with measured(proxy, result.open):
        reader = opener(url, options)
    try:
        frame = n // 2
        with measured(proxy, result.frame):
            one = np.asarray(reader.data[frame])
        bare("frame")
        t0 = max(0, min(1000, n - 512))
        y0, x0 = max(0, min(200, h - 32)), max(0, min(200, w - 32))
        with measured(proxy, result.trace):
            trace = np.asarray(reader.data[t0 : t0 + 512, y0 : y0 + 32, x0 : x0 + 32])
        bare("trace")
        with measured(proxy, result.again):  # what caching every shard index up front would buy: one round
            np.asarray(reader.data[t0 : t0 + 512, y0 : y0 + 32, x0 : x0 + 32])
        if one.shape != (h, w) or trace.shape[1:] != (min(32, h), min(32, w)):
            result.notes.append(f"unexpected shapes {one.shape} {trace.shape}")
        for _ in range(max(1, repeat)):
            with measured(proxy, result.mean):
                mean = np.asarray(reader.dask().mean(axis=0).compute())
            result.mean_runs.append(result.mean.seconds)
        result.mean.seconds = statistics.median(result.mean_runs)
        bare("mean")  # the last run's requests (every run sends the same)
    finally:
        reader.close()
    return mean


#: the bare client keeps at most this many requests in flight (nwbzarr's default ``max_inflight``)
REPLAY_IN_FLIGHT = 256


def replay(proxy_url: str, options: dict[str, Any], log: list[tuple[str, str, str]]) -> None:
    """The ceiling of the emulated remote for one read: the same GETs (same objects, same byte ranges)
    sent by obstore (requests signed and sent in Rust) and thrown away undecoded.

    Sent in the read's rounds: the suffix requests (shard indexes) first, all at once, then the rest all
    at once (a sharded read cannot ask for a chunk before it has its shard's index), at most
    :data:`REPLAY_IN_FLIGHT` in flight."""
    import asyncio

    import obstore

    from nwbzarr.storage.obstore_store import obstore_options

    credentials = {k: options[k] for k in ("key", "secret") if k in options}
    kwargs = obstore_options(f"s3://{BUCKET}", credentials | {"endpoint_url": proxy_url})
    store = obstore.store.S3Store(BUCKET, **kwargs)
    prefix = f"/{BUCKET}/"
    gets = [(path.split("?", 1)[0].removeprefix(prefix), rng) for method, path, rng in log if method == "GET"]
    rounds = [[g for g in gets if g[1].startswith("bytes=-")], [g for g in gets if not g[1].startswith("bytes=-")]]

    async def one(limit: asyncio.Semaphore, key: str, rng: str) -> None:
        async with limit:
            if not rng:
                await (await obstore.get_async(store, key)).bytes_async()
            elif rng.startswith("bytes=-"):
                got = await obstore.get_async(store, key, options={"range": {"suffix": int(rng[7:])}})
                await got.bytes_async()
            else:
                start, _, stop = rng.removeprefix("bytes=").partition("-")
                await obstore.get_range_async(store, key, start=int(start), end=int(stop) + 1)

    async def run() -> None:
        limit = asyncio.Semaphore(REPLAY_IN_FLIGHT)
        for requests in rounds:
            await asyncio.gather(*(one(limit, k, r) for k, r in requests))

    asyncio.run(run())


def _plain_dask(data: Any) -> Callable[[], Any]:
    unit = tuple(data.shards or data.chunks)
    return lambda: _dask_of(data, unit, lock=False)


def _nothing() -> None:
    pass


# --- conversion to S3 over each transport ---------------------------------------------------------------
def measure_transport_conversion(
    path: Path, via_proxy: dict[str, Any], proxy: Any, directs: list[dict[str, Any]]
) -> list[tuple[str, Step]]:
    """``convert`` the local nwbzarr store to S3 through the proxy, once over each transport (verified);
    run with ``--servers 1``."""
    import copy

    from nwbzarr.operations.convert import convert

    out: list[tuple[str, Step]] = []
    for transport in ("obstore", "fsspec"):
        key = f"conv-{transport}.nwb.zarr"
        step = Step()
        print(f"  convert to S3 over {transport} ...", file=sys.stderr)
        options = copy.deepcopy(via_proxy) | {"transport": transport}
        try:
            with measured(proxy, step):
                convert(path, f"s3://{BUCKET}/{key}", dst_storage_options=options)
        except Exception as exc:  # noqa: BLE001 - one transport's failure is a result, not the end
            step.by_method = {f"failed: {type(exc).__name__}: {exc}": 1}
        out.append((transport, step))
        for each in directs:
            fs = fresh_fs(each)
            if fs.exists(f"{BUCKET}/{key}"):
                fs.rm(f"{BUCKET}/{key}", recursive=True)
    return out


def _report_transport_conversion(rows: list[tuple[str, Step]], raw: int) -> str:
    lines = [
        "",
        "Local nwbzarr store -> S3 (`convert`, verified at the end), through the same proxy, over each transport:",
        "",
        "| transport | s | MB/s raw | requests | MB answered | by method |",
        "|---|---|---|---|---|---|",
    ]
    for transport, step in rows:
        lines.append(
            f"| {transport} | {step.seconds:.1f} | {raw / step.seconds / 1e6:.0f} | {step.requests} | "
            f"{_mb(step.bytes)} | {json.dumps(step.by_method)} |"
        )
    return "\n".join(lines) + "\n"


# --- the local half: the same reads from local disk, through nwbzarr's reader and through plain zarr ---------
@dataclass
class Local:
    name: str
    frame: float = float("nan")
    trace: float = float("nan")
    mean: float = float("nan")  # the median of ``mean_runs``
    mean_runs: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def measure_local(name: str, path: Path, shape: tuple[int, ...], repeat: int = 1) -> list[Local]:
    """One frame, the time course and the Dask mean (``repeat`` times, its median kept) of a local Zarr
    store, by nwbzarr and by plain zarr."""
    import zarr

    from nwbzarr import NWBZarrIO

    n, h, w = shape
    t0 = max(0, min(1000, n - 512))
    y0, x0 = max(0, min(200, h - 32)), max(0, min(200, w - 32))
    out: list[Local] = []
    for how in ("nwbzarr reader", "plain zarr"):
        row = Local(f"{name}, {how}")
        try:
            if how == "nwbzarr reader":
                io = NWBZarrIO(path, "r")
                data: Any = io.read().acquisition["TwoPhotonSeries"].data
                make_dask: Callable[[], Any] = data.to_dask
                close: Callable[[], None] = io.close
            else:
                data = zarr.open_array(path / SERIES, mode="r")
                make_dask = _plain_dask(data)
                close = _nothing
            try:
                row.frame, _ = _timed(lambda: np.asarray(data[n // 2]))  # noqa: B023 - called at once
                row.trace, _ = _timed(lambda: np.asarray(data[t0 : t0 + 512, y0 : y0 + 32, x0 : x0 + 32]))  # noqa: B023
                for _ in range(1 if how == "plain zarr" else max(1, repeat)):  # plain zarr: tens of seconds
                    row.mean_runs.append(_timed(lambda: make_dask().mean(axis=0).compute())[0])  # noqa: B023
                row.mean = statistics.median(row.mean_runs)
            finally:
                close()
        except Exception as exc:  # noqa: BLE001 - one reader's failure is a result, not the end
            row.notes.append(f"failed: {type(exc).__name__}: {exc}")
        out.append(row)
    return out


def _warm_up() -> None:
    """Import what the first reads need before any is timed (the first Dask reduction of a process
    imports and compiles modules for about a second: it would be charged to whichever contender comes first)."""
    import dask.array
    import obstore  # noqa: F401 - imported for its import time
    import s3fs  # noqa: F401

    dask.array.ones((8, 4, 4), chunks=(2, 4, 4)).mean(axis=0).compute()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=3000)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--cells", type=int, default=300)
    parser.add_argument("--latency", type=float, default=0.02, help="seconds added per request by the proxy")
    parser.add_argument("--skip", nargs="*", default=[], help="contenders or readers to skip, by name")
    parser.add_argument("--no-convert", action="store_true", help="skip the HDF5 -> Zarr conversion comparison")
    parser.add_argument("--no-coalescing", action="store_true", help="skip the subchunk order / coalescing table")
    parser.add_argument("--stock-moto", action="store_true", help="do not patch moto's whole-object ranged GETs")
    parser.add_argument(
        "--server",
        choices=("directory", "moto"),
        default="directory",
        help="directory: benchmarks/object_server.py serves each store where it was written (fast, read-only); "
        "moto: stores uploaded to moto behind the counting proxy (needed for the conversion to S3)",
    )
    parser.add_argument(
        "--servers", type=int, default=2, help="server processes sharing one port (moto: each holds every object)"
    )
    parser.add_argument("--no-ceiling", action="store_true", help="do not replay each read with a bare client")
    parser.add_argument("--no-local", action="store_true", help="skip the local-disk half")
    parser.add_argument(
        "--repeat", type=int, default=3, help="Dask means a reader (remote and local); the median is reported"
    )
    parser.add_argument("--output", type=Path, help="write the Markdown report here too")
    parser.add_argument(
        "--layouts", action="store_true", help="only the inner-chunk depth / codec table of nwbzarr's layout"
    )
    args = parser.parse_args()

    movie = make_movie(args)
    raw = movie.nbytes
    _warm_up()
    if args.layouts:
        report = measure_layouts(movie, args)
        print(report)
        if args.output:
            args.output.write_text(report)
        return 0

    has_remfile = importlib.util.find_spec("remfile") is not None
    writers: list[tuple[str, str, Callable[[Path], None], Callable[[str, dict[str, Any]], Reader]]] = [
        ("nwbzarr (defaults)", "zarr", lambda p: write_nwbzarr(movie, p), open_nwbzarr_obstore),
        ("hdmf-zarr 0.14 (defaults)", "zarr", lambda p: write_hdmf_zarr(movie, p, best=False), open_hdmf_zarr),
        (
            "hdmf-zarr 0.14 (chunks 8x64x64, shards, Blosc-zstd)",
            "zarr",
            lambda p: write_hdmf_zarr(movie, p, best=True),
            open_hdmf_zarr,
        ),
        ("PyNWB HDF5 (uncompressed)", "hdf5", lambda p: write_pynwb_hdf5(movie, p, gzip=False), open_pynwb_s3fs),
        ("PyNWB HDF5 gzip-4", "hdf5", lambda p: write_pynwb_hdf5(movie, p, gzip=True), open_pynwb_s3fs),
    ]
    results: list[Remote] = []
    locals_: list[Local] = []
    transport_conversions: list[tuple[str, Step]] = []
    conversions: list[Conversion] = []
    coalescing: list[tuple[str, Step, Step]] = []
    workdir = Path(tempfile.mkdtemp(prefix="nwbzarr-remote-"))
    reference_mean = movie.mean(axis=0, dtype=np.float64)
    try:
        server: Any = (
            DirectoryServer(workdir, bucket=BUCKET, latency=args.latency, processes=args.servers)
            if args.server == "directory"
            else ServerProcess(args.latency, stock_moto=args.stock_moto, servers=args.servers)
        )
        with server as proxy:
            # moto: every server process holds its own copy of every object; the directory server reads the files
            directs = [fair_options(e, proxy.options) for e in getattr(proxy, "endpoint_urls", [])]
            via_proxy = fair_options(proxy.url, proxy.options)
            for i, (name, kind, write, opener) in enumerate(writers):
                if name in args.skip:
                    continue
                path = workdir / f"c{i}{'.nwb' if kind == 'hdf5' else '.nwb.zarr'}"
                print(f"writing: {name} ...", file=sys.stderr)
                write_s, _ = _timed(lambda: write(path))  # noqa: B023 - called at once
                stored, layout = array_bytes(path, kind)
                _, objects = _tree_size(path)
                key = path.name
                print(f"  {write_s:.1f} s; {objects} objects to {len(directs)} moto servers ...", file=sys.stderr)
                for each in directs:
                    upload(fresh_fs(each), path, key)
                if not directs:
                    read_through(path)
                url = f"s3://{BUCKET}/{key}"
                readers: list[tuple[str, Callable[[str, dict[str, Any]], Reader]]] = [(name, opener)]
                if opener is open_nwbzarr_obstore:
                    readers = [
                        (f"{name}, obstore", open_nwbzarr_obstore),
                        (f"{name}, s3fs", open_nwbzarr_fsspec),
                        (f"{name}, s3fs, max_inflight=24 (before)", open_nwbzarr_fsspec_24),
                    ]
                if kind == "hdf5":
                    readers = [(f"{name}, s3fs", opener)]
                    if has_remfile:
                        readers.append((f"{name}, remfile", open_pynwb_remfile))
                for label, reader_open in readers:
                    if label in args.skip:  # e.g. "PyNWB HDF5 gzip-4, remfile": its Dask mean takes many minutes
                        continue
                    result = Remote(name=label, stored_bytes=stored, objects=objects, layout=layout)
                    print(f"  reading: {label} ...", file=sys.stderr)
                    try:
                        mean = measure_remote(
                            result,
                            reader_open,
                            url,
                            via_proxy,
                            proxy,
                            movie.shape,
                            ceiling=not args.no_ceiling,
                            repeat=args.repeat,
                        )
                        if not np.allclose(mean, reference_mean):
                            result.notes.append("Dask mean differs from the movie's mean")
                    except Exception as exc:  # noqa: BLE001 - one contender's failure is a result, not the end
                        result.notes.append(f"failed: {type(exc).__name__}: {exc}")
                        print(f"  FAILED: {type(exc).__name__}: {exc}", file=sys.stderr)
                    results.append(result)
                # writes need one server: through the shared port, an upload's parts would reach different ones
                if opener is open_nwbzarr_obstore and not args.no_convert and args.servers == 1 and directs:
                    transport_conversions = measure_transport_conversion(path, via_proxy, proxy, directs)
                if kind == "zarr" and not args.no_local:
                    print(f"  local disk: {name} ...", file=sys.stderr)
                    locals_ += measure_local(name, path, movie.shape, args.repeat)
                for each in directs:
                    fresh_fs(each).rm(f"{BUCKET}/{key}", recursive=kind == "zarr")
                if name == "PyNWB HDF5 gzip-4" and not args.no_convert:
                    conversions = measure_conversion(path, workdir)
                shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink()
            if not args.no_coalescing:
                print("coalescing: zarr arrays in Morton and C subchunk order ...", file=sys.stderr)
                coalescing = measure_coalescing(movie, directs, via_proxy, proxy, None if directs else workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    report = _report(results, conversions, coalescing, raw, args, has_remfile, movie.shape, locals_)
    if transport_conversions:
        report += _report_transport_conversion(transport_conversions, raw)
    print(report)
    if args.output:
        args.output.write_text(report)
    return 0


# --- what zarr's range coalescing inside a shard achieves --------------------------------------------
def measure_coalescing(
    movie: np.ndarray,
    directs: list[dict[str, Any]],
    via_proxy: dict[str, Any],
    proxy: Any,
    served: Path | None = None,
) -> list[tuple[str, Step, Step]]:
    """Plain zarr arrays with nwbzarr's default layout (same shards, inner chunks, codec), written with
    zarr's default Morton subchunk order and with C (lexicographic) order, read with and without
    zarr 3.4.2's coalescing of nearby inner-chunk ranges (``array.sharding_coalesce_*``). With ``served``
    (the directory server's root) they are written there instead of uploaded to every moto in ``directs``."""
    import s3fs
    import zarr
    from zarr.codecs import BloscCodec, BytesCodec, ShardingCodec
    from zarr.storage import FsspecStore, LocalStore

    from nwbzarr.writing.policy import default_layout

    layout = default_layout(tuple(movie.shape), movie.dtype)
    if not layout.shards or not layout.chunks:
        return []
    n, h, w = movie.shape
    depth = layout.shards[0]
    frame, t0 = n // 2, max(0, min(1000, n - 512))
    y0, x0 = max(0, min(200, h - 32)), max(0, min(200, w - 32))
    lo = min(frame, t0) // depth * depth
    hi = min(n, -(-max(frame + 1, t0 + 512) // depth) * depth)
    off = {"array.sharding_coalesce_max_bytes": 0}
    variants = [
        ("Morton subchunk order (zarr's default: what nwbzarr and hdmf-zarr write)", "morton", {}),
        ("Morton subchunk order, coalescing off", "morton", off),
        ("C (lexicographic) subchunk order", "lexicographic", {}),
        ("C (lexicographic) subchunk order, coalescing off", "lexicographic", off),
        ("Morton subchunk order, nwbzarr's reader (obstore)", "morton", None),
        ("C (lexicographic) subchunk order, nwbzarr's reader (obstore)", "lexicographic", None),
    ]
    written: set[str] = set()
    out: list[tuple[str, Step, Step]] = []
    for label, order, config in variants:
        url = f"s3://{BUCKET}/order-{order}.zarr"
        if order not in written:
            codec = ShardingCodec(
                chunk_shape=layout.chunks,
                codecs=[BytesCodec(), BloscCodec(cname="zstd", clevel=3, shuffle="bitshuffle")],
                subchunk_write_order=order,  # type: ignore[arg-type]
            )
            stores: list[Any] = [LocalStore(served / f"order-{order}.zarr")] if served is not None else []
            for direct in directs:  # every server holds every object
                s3fs.S3FileSystem.clear_instance_cache()
                stores.append(FsspecStore.from_url(url, storage_options=direct, read_only=False))
            for i, store in enumerate(stores):
                arr = zarr.create_array(
                    store,
                    shape=movie.shape,
                    dtype=movie.dtype,
                    chunks=layout.shards,
                    serializer=codec,
                    compressors=None,
                )
                arr[lo:hi] = movie[lo:hi]  # only the shards the two reads touch
                if directs:
                    warm(fresh_fs(directs[i]), f"order-{order}.zarr")
            written.add(order)
        frame_step, trace_step = Step(), Step()
        if config is None:  # the same array through nwbzarr's shard reader, over obstore
            from nwbzarr.backends.zarr_v3.shard_format import ShardLayout
            from nwbzarr.backends.zarr_v3.shard_reader import ShardReader
            from nwbzarr.storage import make_store

            opened = zarr.open_array(make_store(url, read_only=True, storage_options=via_proxy), mode="r")
            found = ShardLayout.of(opened)
            assert found is not None
            reader = ShardReader(found, url)
            box = (slice(t0, t0 + 512), slice(y0, y0 + 32), slice(x0, x0 + 32))
            with measured(proxy, frame_step):
                got = np.asarray(reader.read((frame, slice(0, h), slice(0, w))))
            with measured(proxy, trace_step):
                trace = np.asarray(reader.read(box))
        else:
            with zarr.config.set(config):
                s3fs.S3FileSystem.clear_instance_cache()
                arr = zarr.open_array(FsspecStore.from_url(url, storage_options=via_proxy, read_only=True), mode="r")
                with measured(proxy, frame_step):
                    got = np.asarray(arr[frame])
                with measured(proxy, trace_step):
                    trace = np.asarray(arr[t0 : t0 + 512, y0 : y0 + 32, x0 : x0 + 32])
        if not (
            np.array_equal(got, movie[frame])
            and np.array_equal(trace, movie[t0 : t0 + 512, y0 : y0 + 32, x0 : x0 + 32])
        ):
            frame_step.by_method["wrong data"] = 1
        out.append((label, frame_step, trace_step))
    return out


# --- conversion ---------------------------------------------------------------------------------
def measure_conversion(h5_path: Path, workdir: Path) -> list[Conversion]:
    """``nwbzarr.operations.convert.convert`` (with and without its closing verification) vs hdmf-zarr's export."""
    from hdmf_zarr import NWBZarrIO as HdmfZarrIO
    from pynwb import NWBHDF5IO

    from nwbzarr.operations.convert import convert

    def hdmf_export(dst: Path) -> None:
        with NWBHDF5IO(str(h5_path), "r") as src, HdmfZarrIO(str(dst), mode="w") as out:
            out.export(src_io=src, write_args={"link_data": False})

    jobs: list[tuple[str, Callable[[Path], Any]]] = [
        ("nwbzarr convert (defaults, verified)", lambda dst: convert(h5_path, dst)),
        ("nwbzarr convert (verify=False)", lambda dst: convert(h5_path, dst, verify=False)),
        ("hdmf-zarr 0.14 NWBZarrIO.export", hdmf_export),
    ]
    out: list[Conversion] = []
    for i, (name, job) in enumerate(jobs):
        dst = workdir / f"conv{i}.nwb.zarr"
        result = Conversion(name=name)
        print(f"converting: {name} ...", file=sys.stderr)
        try:
            result.seconds, _ = _timed(lambda: job(dst))  # noqa: B023 - called at once
            result.stored_bytes, result.objects = _tree_size(dst)
        except Exception as exc:  # noqa: BLE001 - one converter's failure is a result, not the end
            result.notes.append(f"failed: {type(exc).__name__}: {exc}")
            print(f"  FAILED: {type(exc).__name__}: {exc}", file=sys.stderr)
        out.append(result)
        shutil.rmtree(dst, ignore_errors=True)
    return out


# --- the report ---------------------------------------------------------------------------------
def _mb(n: float) -> str:
    return f"{n / 1e6:.2f}"


def _ratio(a: float, b: float) -> str:
    if not (math.isfinite(a) and math.isfinite(b)) or b == 0:
        return "-"
    return f"{a / b:.1f}"


def _targets(
    results: list[Remote], conversions: list[Conversion], shape: tuple[int, ...], trace_elems: int, locals_: list[Local]
) -> list[str]:
    """Issue 15's targets (20 ms a request, default layout, same run)."""
    lines: list[str] = []

    def check(ok: bool, text: str) -> None:
        lines.append(f"{'PASS' if ok else 'MISS'}: {text}")

    ours = results[0]
    if not ours.name.startswith("nwbzarr") or ours.notes:
        return ["MISS: nwbzarr did not complete: " + "; ".join(ours.notes)]
    named = {r.name: r for r in results if not r.notes}
    default = named.get("hdmf-zarr 0.14 (defaults)")
    peers = [r for n, r in named.items() if n.startswith("hdmf-zarr")]
    check(ours.open.requests <= 2, f"open in 2 requests: {ours.open.requests} ({ours.open.by_method})")
    if default is not None:
        ratio = ours.trace.seconds / default.trace.seconds
        check(
            ratio <= 2,
            f"time course <= 2x hdmf-zarr's default layout's time: {ratio:.2f}x "
            f"({ours.trace.seconds * 1e3:.0f} ms vs {default.trace.seconds * 1e3:.0f} ms)",
        )
        speed = default.frame.seconds / ours.frame.seconds
        check(speed >= 5, f"one frame >= 5x faster than hdmf-zarr's defaults: {speed:.1f}x")
    bare = ours.ceiling.get("trace")
    if bare is not None:
        ratio = ours.trace.seconds / bare.seconds
        check(
            ratio <= 1.3,
            f"time course <= 1.3x the ceiling for its ranges: {ratio:.2f}x "
            f"({ours.trace.seconds * 1e3:.0f} ms vs {bare.seconds * 1e3:.0f} ms, {bare.requests} requests)",
        )
    frame_share = ours.stored_bytes / shape[0]
    check(ours.frame.requests <= 2, f"one frame in <= 2 requests: {ours.frame.requests}")
    check(
        ours.frame.bytes <= 4 * frame_share,
        f"one frame reads <= 4x its compressed bytes: {ours.frame.bytes / frame_share:.1f}x",
    )
    if peers:
        best = min(peers, key=lambda r: r.mean.seconds)
        speed = best.mean.seconds / ours.mean.seconds
        check(speed >= 2, f"Dask mean >= 2x faster than hdmf-zarr's best ({best.name}): {speed:.1f}x")
    local = next((row for row in locals_ if row.name.startswith("nwbzarr") and "nwbzarr reader" in row.name), None)
    if local is not None and math.isfinite(local.mean):
        share = local.mean / ours.mean.seconds
        check(
            share >= 0.6,
            f"Dask mean from S3 >= 60% of nwbzarr's local-disk speed: {share:.0%} "
            f"({ours.mean.seconds:.2f} s vs {local.mean:.2f} s)",
        )
    return lines


def _report(
    results: list[Remote],
    conversions: list[Conversion],
    coalescing: list[tuple[str, Step, Step]],
    raw: int,
    args: argparse.Namespace,
    has_remfile: bool,
    shape: tuple[int, ...],
    locals_: list[Local] | None = None,
) -> str:
    import importlib.metadata as md

    locals_ = locals_ or []
    n, h, w = shape
    t0 = max(0, min(1000, n - 512))
    y0, x0 = max(0, min(200, h - 32)), max(0, min(200, w - 32))
    trace_elems = min(512, n - t0) * min(32, h) * min(32, w)
    versions = {
        p: md.version(p)
        for p in (
            "nwbzarr",
            "zarr",
            "numcodecs",
            "hdmf-zarr",
            "pynwb",
            "h5py",
            "s3fs",
            "obstore",
            "dask",
            "moto",
            "numpy",
        )
    }
    moto_note = (
        "stock moto (every ranged GET reads the whole object on the server: times of sharded layouts and HDF5 "
        "measure moto; requests and bytes are the primary figures)"
        if args.stock_moto
        else "moto with this script's in-memory object patch (a ranged GET slices bytes held in memory, as real S3 "
        "serves it; stock moto re-reads the whole object per range)"
    )
    lines = [
        "# Remote reads (issues 5 and 15)",
        "",
        f"Movie: {n} x {h} x {w} uint16 ({raw / 1e9:.2f} GB), {args.cells} cells, synthetic (shot noise on a "
        "drifting baseline with calcium transients).",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        + ", ".join(f"{k} {v}" for k, v in versions.items())
        + ".",
        f"Command: `.venv/bin/python benchmarks/remote.py {' '.join(sys.argv[1:])}`",
        (
            f"Server: `benchmarks/object_server.py` (a read-only S3 endpoint on asyncio streams serving each "
            f"contender's local store where it was written, no upload), {args.servers} worker process(es) on one "
            f"SO_REUSEPORT port, adding {args.latency * 1e3:.0f} ms a request with asyncio.sleep and counting "
            "requests and response-body bytes itself (no proxy); in processes of their own, so the server's Python "
            "does not share the readers' interpreter lock."
            if args.server == "directory"
            else f"Server: {moto_note}. Every request goes through a loopback proxy adding {args.latency * 1e3:.0f} "
            "ms; requests and bytes are counted there (response bodies). Server and proxy run in processes of their "
            "own, so their Python does not share the readers' interpreter lock (a real object store costs a reader "
            f"only its own side of each request): {args.servers} process(es), each a moto server holding every "
            "object and a proxy in front of it, the proxies sharing one port (SO_REUSEPORT spreads connections)."
        ),
        "Every reader uses the s3fs options nwbzarr uses (max_concurrency=1: one GET per whole object, no HEAD; "
        "a pool of 64 connections; same retries/timeouts). HDF5 is read the way PyNWB documents streaming with fsspec: "
        "`h5py.File(s3fs.open(url, 'rb'))` with s3fs's default read-ahead cache"
        + ("; and with remfile." if has_remfile else "; remfile is not installed in this environment (not run)."),
        f"Steps: open = IO constructor + read(); frame = data[{n // 2}]; time course = "
        f"data[{t0}:{min(n, t0 + 512)}, {y0}:{y0 + 32}, {x0}:{x0 + 32}]; "
        "Dask mean = mean over all frames (nwbzarr: `data.to_dask()`; "
        f"peers: `dask.array.from_array` with the storage unit along time, repeated to >= {DASK_MIN_FRAMES} "
        "frames, whole frames in space; h5py with lock=True), default threaded scheduler; "
        f"the median of {args.repeat} run(s) a reader (plain zarr locally: one), since this machine's speed "
        "drifts by up to 2x over tens of seconds.",
        "",
        "| reader | movie stored | objects | open s | open req | frame ms | frame req | frame MB | "
        "time course ms | tc req | tc MB | Dask mean s | mean req | mean MB |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.name} | {_mb(r.stored_bytes)} MB | {r.objects} | {r.open.seconds:.2f} | {r.open.requests} | "
            f"{r.frame.seconds * 1e3:.0f} | {r.frame.requests} | {_mb(r.frame.bytes)} | "
            f"{r.trace.seconds * 1e3:.0f} | {r.trace.requests} | {_mb(r.trace.bytes)} | "
            f"{r.mean.seconds:.1f} | {r.mean.requests} | {_mb(r.mean.bytes)} |"
        )
    ours = results[0] if results else None
    if ours is not None:
        lines += [
            "",
            "Ratios to nwbzarr (time x, requests x, bytes x; > 1 means the reader costs more than nwbzarr):",
            "",
            "| reader | open s | open req | frame s | frame req | frame MB | tc s | tc req | tc MB | mean s | "
            "mean req | mean MB |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in results[1:]:
            cells = []
            for step in ("open", "frame", "trace", "mean"):
                theirs, mine = getattr(r, step), getattr(ours, step)
                cells += [_ratio(theirs.seconds, mine.seconds), _ratio(theirs.requests, mine.requests)]
                if step != "open":
                    cells.append(_ratio(theirs.bytes, mine.bytes))
            lines.append(f"| {r.name} | " + " | ".join(cells) + " |")
    ceilings = [(r, step) for r in results for step in ("frame", "trace", "mean") if step in r.ceiling]
    if ceilings:
        lines += [
            "",
            "Ceiling of the emulated remote: each read's GETs (same objects, same byte ranges) replayed right after "
            "it by a bare client (obstore, nothing decoded, suffix requests first then the rest, "
            f"<= {REPLAY_IN_FLIGHT} in flight); x ceiling = the read's time / the replay's:",
            "",
            "| reader | step | ms | req | MB | ceiling ms | ceiling req | ceiling MB | x ceiling |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for r, step in ceilings:
            mine, bare = getattr(r, step), r.ceiling[step]
            lines.append(
                f"| {r.name} | {step} | {mine.seconds * 1e3:.0f} | {mine.requests} | {_mb(mine.bytes)} | "
                f"{bare.seconds * 1e3:.0f} | {bare.requests} | {_mb(bare.bytes)} | "
                f"{_ratio(mine.seconds, bare.seconds)} |"
            )
    if any(r.again.requests for r in results):
        lines += [
            "",
            "The same time course read a second time by the same reader (nwbzarr: every shard index it needs already "
            "known, so one round of requests; what fetching all indexes up front would give the first read):",
            "",
            "| reader | first ms | first req | again ms | again req |",
            "|---|---|---|---|---|",
        ]
        lines += [
            f"| {r.name} | {r.trace.seconds * 1e3:.0f} | {r.trace.requests} | {r.again.seconds * 1e3:.0f} | "
            f"{r.again.requests} |"
            for r in results
            if r.again.requests
        ]
    if locals_:
        lines += [
            "",
            "Local disk (the same stores before upload, same reads; nwbzarr's reader beside plain zarr; "
            "Dask mean as above):",
            "",
            "| store, reader | frame ms | time course ms | Dask mean s |",
            "|---|---|---|---|",
        ]
        for row in locals_:
            note = f" ({'; '.join(row.notes)})" if row.notes else ""
            lines.append(f"| {row.name}{note} | {row.frame * 1e3:.0f} | {row.trace * 1e3:.0f} | {row.mean:.2f} |")
    lines += ["", "Layouts of the movie array:", ""]
    lines += [f"- {r.name}: {r.layout}" for r in results if "remfile" not in r.name]
    if ours is not None and ours.frame.requests:
        frame_share = ours.stored_bytes / n
        lines += [
            "",
            f"nwbzarr, compressed-bytes accounting: a frame's share of the stored array = stored bytes / {n} frames "
            f"= {frame_share / 1e3:.0f} kB; one frame read {ours.frame.bytes / 1e3:.0f} kB in {ours.frame.requests} "
            f"requests ({ours.frame.bytes / frame_share:.1f}x). The time course's share = stored bytes x "
            f"{trace_elems} / {n * h * w} elements = {ours.stored_bytes * trace_elems / (n * h * w) / 1e3:.0f} kB; "
            f"it read {ours.trace.bytes / 1e3:.0f} kB in {ours.trace.requests} requests.",
        ]
    if coalescing and ours is not None:
        frame_share = ours.stored_bytes / n
        trace_share = ours.stored_bytes * trace_elems / (n * h * w)
        lines += [
            "",
            "What zarr 3.4.2's coalescing of inner-chunk ranges (gap <= 1 MiB, <= 16 MiB a request) achieves on "
            "nwbzarr's default layout: plain zarr arrays, same shards, inner chunks and codec, same reads, same proxy "
            "(x share = bytes read / the read's share of nwbzarr's stored array):",
            "",
            "| subchunk order in the shard | frame ms | frame req | frame MB | x share | tc ms | tc req | tc MB "
            "| x share |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for label, fr, tr in coalescing:
            wrong = " (WRONG DATA)" if "wrong data" in fr.by_method else ""
            lines.append(
                f"| {label}{wrong} | {fr.seconds * 1e3:.0f} | {fr.requests} | {_mb(fr.bytes)} | "
                f"{fr.bytes / frame_share:.1f} | {tr.seconds * 1e3:.0f} | {tr.requests} | {_mb(tr.bytes)} | "
                f"{tr.bytes / trace_share:.1f} |"
            )
    if conversions:
        base = conversions[-1]
        lines += [
            "",
            f"HDF5 (PyNWB gzip-4) -> Zarr conversion, MB/s of the raw movie ({raw / 1e6:.0f} MB):",
            "",
            "| converter | s | MB/s | x hdmf-zarr export | output | objects |",
            "|---|---|---|---|---|---|",
        ]
        for c in conversions:
            lines.append(
                f"| {c.name} | {c.seconds:.1f} | {raw / c.seconds / 1e6:.0f} | {_ratio(base.seconds, c.seconds)} | "
                f"{_mb(c.stored_bytes)} MB | {c.objects} |"
            )
    notes = [f"- {r.name}: {'; '.join(r.notes)}" for r in results if r.notes]
    notes += [f"- {c.name}: {'; '.join(c.notes)}" for c in conversions if c.notes]
    if notes:
        lines += ["", "Notes:", "", *notes]
    if ours is not None:
        lines += ["", "Issue 15 targets (same run):", "", "```"]
        lines += _targets(results, conversions, shape, trace_elems, locals_)
        lines += ["```"]
    steps = {r.name: {s: getattr(r, s).by_method for s in ("open", "frame", "trace", "mean")} for r in results}
    runs = {r.name: [round(t, 2) for t in r.mean_runs] for r in results if r.mean_runs}
    runs |= {f"{row.name} (local disk)": [round(t, 2) for t in row.mean_runs] for row in locals_ if row.mean_runs}
    lines += ["", "Every Dask mean, in seconds (the tables give their median):", "", "```", json.dumps(runs), "```"]
    lines += ["", "Requests by method:", "", "```", json.dumps(steps, indent=None), "```"]
    return "\n".join(lines) + "\n"


# --- inner-chunk depth and codec of the default layout ------------------------------------------------------
#: (label, inner chunk depth, codec, level, shuffle) tried for the default layout of an imaging movie
LAYOUT_CHOICES: list[tuple[str, int, str, int, str]] = [
    ("depth 3, Blosc-LZ4-5 bitshuffle (default)", 3, "lz4", 5, "bit"),
    ("depth 3, Blosc-zstd-3 bitshuffle", 3, "zstd", 3, "bit"),
    ("depth 3, Blosc-LZ4-5 byte shuffle", 3, "lz4", 5, "byte"),
    ("depth 4, Blosc-LZ4-5 bitshuffle", 4, "lz4", 5, "bit"),
    ("depth 6, Blosc-LZ4-5 bitshuffle", 6, "lz4", 5, "bit"),
    ("depth 6, Blosc-zstd-3 bitshuffle", 6, "zstd", 3, "bit"),
    ("depth 6, Blosc-LZ4-5 byte shuffle", 6, "lz4", 5, "byte"),
]


def _decode_speed(path: Path) -> float:
    """MB/s (raw) of decoding every inner chunk of the movie's first shard in one thread: the codec alone."""
    import zarr

    from nwbzarr.backends.zarr_v3.shard_format import ShardLayout

    array = zarr.open_array(path / SERIES, mode="r")
    layout = ShardLayout.of(array)
    assert layout is not None
    raw = (path / SERIES / "c" / "0" / "0" / "0").read_bytes()
    index = np.frombuffer(raw[len(raw) - layout.index_size : len(raw) - 4], dtype="<u8").reshape(-1, 2)
    pieces = [raw[int(o) : int(o) + int(n)] for o, n in index if int(o) != 2**64 - 1]
    start = time.perf_counter()
    decoded = sum(layout.decode(p, "bench").nbytes for p in pieces)
    return decoded / (time.perf_counter() - start) / 1e6


def measure_layouts(movie: np.ndarray, args: argparse.Namespace) -> str:
    """nwbzarr stores of the movie in each of :data:`LAYOUT_CHOICES` (shards whole frames, ~64 MiB, as the
    policy makes them): size, codec decode speed, and frame / time course / Dask mean from local disk and
    over the directory server (obstore, 20 ms a request), each read through nwbzarr's reader."""
    from nwbzarr import DataIO
    from nwbzarr.tree.layout import Compression
    from nwbzarr.writing.policy import SHARD_BYTES

    n, h, w = movie.shape
    t0 = max(0, min(1000, n - 512))
    y0, x0 = max(0, min(200, h - 32)), max(0, min(200, w - 32))
    rows: list[str] = []
    workdir = Path(tempfile.mkdtemp(prefix="nwbzarr-layouts-"))
    try:
        with DirectoryServer(workdir, bucket=BUCKET, latency=args.latency, processes=args.servers) as server:
            via = fair_options(server.url, server.options)
            for i, (label, depth, codec, level, shuffle) in enumerate(LAYOUT_CHOICES):
                path = workdir / f"l{i}.nwb.zarr"
                chunks = (depth, 64, 64)
                shard_depth = max(depth, SHARD_BYTES // (h * w * movie.itemsize) // depth * depth)
                data = DataIO(
                    movie,
                    chunks=chunks,
                    shards=(min(shard_depth, math.ceil(n / depth) * depth), h, w),
                    compression=Compression(codec=codec, level=level, shuffle=shuffle, blosc=True),  # type: ignore[arg-type]
                )
                print(f"layout: {label} ...", file=sys.stderr)
                write_s, _ = _timed(lambda: write_nwbzarr(data, path))  # type: ignore[arg-type]  # noqa: B023
                stored, _ = _tree_size(path / SERIES)
                decode = _decode_speed(path)
                local = measure_local(label, path, movie.shape)[0]
                read_through(path)
                remote = Remote(name=label, stored_bytes=stored)
                measure_remote(remote, open_nwbzarr_obstore, f"s3://{BUCKET}/{path.name}", via, server, movie.shape)
                check = "" if not remote.notes else f" ({'; '.join(remote.notes)})"
                rows.append(
                    f"| {label}{check} | {stored / 1e6:.1f} | {movie.nbytes / stored:.2f} | {write_s:.1f} | "
                    f"{decode:.0f} | {local.frame * 1e3:.0f} | {local.trace * 1e3:.0f} | {local.mean:.2f} | "
                    f"{remote.frame.seconds * 1e3:.0f} | {remote.frame.requests} | "
                    f"{remote.frame.bytes / (stored / n):.1f} | {remote.trace.seconds * 1e3:.0f} | "
                    f"{remote.trace.requests} | {remote.trace.bytes / 1e6:.2f} | {remote.mean.seconds:.2f} |"
                )
                shutil.rmtree(path, ignore_errors=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return (
        "\n".join(
            [
                f"Inner-chunk depth and codec of nwbzarr's layout ({n} x {h} x {w} uint16, {movie.nbytes / 1e9:.2f} GB;"
                f" "
                f"chunks depth x 64 x 64 in whole-frame shards of ~64 MiB; remote = directory server, "
                f"{args.latency * 1e3:.0f} ms a request, obstore; every read through nwbzarr's reader; "
                f"frame = data[{n // 2}], time course = data[{t0}:{t0 + 512}, {y0}:{y0 + 32}, {x0}:{x0 + 32}]; "
                "x share = bytes read / (stored bytes / frames); decode = one thread, the first shard's chunks):",
                f"Command: `.venv/bin/python benchmarks/remote.py {' '.join(sys.argv[1:])}`",
                "",
                "| layout | stored MB | ratio | write s | decode MB/s | local frame ms | local tc ms | local mean s | "
                "frame ms | frame req | frame x share | tc ms | tc req | tc MB | mean s |",
                "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
                *rows,
            ]
        )
        + "\n"
    )


if __name__ == "__main__":
    sys.exit(main())
