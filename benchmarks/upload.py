"""Upload speed of ``nwbzarr convert`` to the S3 test server against its ceiling and hdmf-zarr (issue 18).

    .venv/bin/python benchmarks/upload.py [--frames 1000] [--size 512] [--output benchmarks/RESULTS-upload.md]
        [--inflight 4] [--multipart on off] [--trace trace.md]

One NWB HDF5 file (a synthetic two-photon movie, uncompressed) is converted to moto (in a process of its
own, behind the counting proxy of ``benchmarks/remote.py``), with no added latency and with 20 ms per
request. Contenders, in one run: ``nwbzarr convert`` (``verify=False``: the upload alone); the ceiling,
the very bytes of nwbzarr's store (written to local disk first) uploaded by s3fs ``put`` (many objects in
parallel); hdmf-zarr 0.14's ``NWBZarrIO.export`` of the same file to the same server. MB/s are of the
stored (compressed) bytes. Wall-clock on a shared, loaded 2-core machine: compare within one run only.
``--multipart off`` adds nwbzarr with every shard sent as one PUT (``storage.multipart`` off); ``--trace``
writes every request of the first nwbzarr conversion at each latency, by phase (``trace_requests.py``).
``--server directory`` (or ``--server moto directory``: both, in one run) uses ``object_server.py
--writable`` instead of moto: a server that writes files on asyncio streams, whose own CPU is a fraction
of moto's, so the ratios measure the writers rather than the server.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))


def _cpu(pid: int) -> float:
    """CPU seconds (user + system) of process ``pid`` so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class _Profile:
    """Where the shard writer's time goes: encoding (the writer's thread) and waiting for room to upload."""

    def __init__(self) -> None:
        from nwbzarr.backends.zarr_v3 import shards

        self.encode = self.wait = 0.0
        self.count = 0
        writer = shards.ShardWriter
        encode, wait = writer.encode_shard, writer._wait_oldest
        profile = self

        def timed_encode(self: Any, block: Any) -> bytes:
            start = time.perf_counter()
            try:
                return encode(self, block)
            finally:
                profile.encode += time.perf_counter() - start
                profile.count += 1

        def timed_wait(self: Any) -> None:
            start = time.perf_counter()
            try:
                wait(self)
            finally:
                profile.wait += time.perf_counter() - start

        writer.encode_shard, writer._wait_oldest = timed_encode, timed_wait  # type: ignore[method-assign]

    def take(self) -> tuple[float, float, int]:
        taken = self.encode, self.wait, self.count
        self.encode = self.wait = 0.0
        self.count = 0
        return taken


class _Timer:
    """Wall seconds, this process's CPU seconds and the servers' CPU seconds of one contender."""

    def __init__(self, pids: list[int]) -> None:
        self.pids = pids

    def __enter__(self) -> _Timer:
        self.start, self.cpu, self.server = time.perf_counter(), time.process_time(), self._servers()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.start
        self.client_cpu = time.process_time() - self.cpu
        self.server_cpu = self._servers() - self.server

    def _servers(self) -> float:
        return sum(_cpu(pid) for pid in self.pids)


def _stored(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def _hdmf_export(source: Path, local: Path, fs: Any, key: str) -> None:
    """hdmf-zarr's export of the HDF5 file, then its upload: hdmf-zarr 0.14 opens remote stores read-only
    (``FsspecStore ... only supports read mode``), so a user exports to disk and uploads the folder."""
    from hdmf_zarr.nwb import NWBZarrIO
    from pynwb import NWBHDF5IO

    with NWBHDF5IO(str(source), "r") as read_io, NWBZarrIO(str(local), "w") as export_io:
        export_io.export(src_io=read_io, write_args={"link_data": False})
    fs.put(str(local) + "/", key + "/", recursive=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=1000)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--cells", type=int, default=300)
    parser.add_argument("--output", type=Path)
    parser.add_argument("--latency", type=float, nargs="+", default=[0.0, 0.02], help="seconds per request")
    parser.add_argument("--inflight", type=int, nargs="+", default=[4], help="shard PUTs in flight to compare")
    parser.add_argument("--no-hdmf", action="store_true", help="skip hdmf-zarr (quicker runs while developing)")
    parser.add_argument(
        "--multipart", nargs="+", choices=["on", "off"], default=["on"], help="shards as multipart uploads or one PUT"
    )
    parser.add_argument(
        "--server",
        nargs="+",
        choices=("moto", "directory"),
        default=["moto"],
        help="moto (behind the counting proxy) and/or object_server.py --writable",
    )
    parser.add_argument("--trace", type=Path, help="write the request trace of one nwbzarr conversion per latency here")
    args = parser.parse_args()

    from remote import fair_options, fresh_fs
    from run import make_movie, write_pynwb_hdf5
    from trace_requests import summary, traced

    from nwbzarr import __version__
    from nwbzarr.backends.zarr_v3 import shards
    from nwbzarr.operations.convert import convert
    from nwbzarr.storage import multipart

    whole, usual = multipart.MIN_PARTS, shards.INFLIGHT  # the defaults, put back after each contender
    traces: list[str] = []
    traced_at: set[str] = set()

    movie = make_movie(args)
    rows: list[str] = []
    verdicts: list[str] = []
    profile = _Profile()
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        source = tmp / "session.nwb"
        write_pynwb_hdf5(movie, source, gzip=False)
        local = tmp / "local.nwb.zarr"
        with _Timer([]) as alone:
            convert(source, local, verify=False)
        encode_s, _, count = profile.take()
        nbytes = _stored(local)
        rows.append(
            f"| - | nwbzarr convert to local disk (reading + encoding alone) | {alone.wall:.1f} | "
            f"{nbytes / 1e6 / alone.wall:.0f} | {alone.client_cpu:.1f} | - | {count} shards encoded in "
            f"{encode_s:.1f} s |"
        )
        for kind, latency in itertools.product(args.server, args.latency):
            with _server(kind, latency, tmp) as server:
                pids = [process.pid for _, process in server._children]
                options = fair_options(server.url, {k: v for k, v in server.options.items() if k != "endpoint_url"})
                timed: dict[str, _Timer] = {}
                label = f"{latency * 1000:.0f} ms" + (f", {kind}" if len(args.server) > 1 else "")
                for parts in args.multipart:
                    multipart.MIN_PARTS = whole if parts == "on" else 2**62  # off: every shard one PUT
                    how = "multipart" if parts == "on" else "one PUT a shard"
                    for inflight in args.inflight:
                        shards.INFLIGHT = inflight
                        server.reset()
                        key = f"nwbzarr-{inflight}-{parts}"
                        tracing = args.trace is not None and label not in traced_at  # the first at each latency
                        with traced() if tracing else contextlib.nullcontext() as trace, _Timer(pids) as timer:
                            if trace is not None:
                                trace.origin = time.perf_counter()
                            convert(source, f"s3://bench/{key}.nwb.zarr", dst_storage_options=options, verify=False)
                        timed[key] = timer
                        if trace is not None:
                            traced_at.add(label)
                            traces += [f"### {label}: {key}", "", *summary(trace, timer.wall), ""]
                        requests, _, _ = server.counts()
                        encode_s, wait_s, count = profile.take()
                        rows.append(
                            f"| {label} | nwbzarr convert, {inflight} shards in flight, {how} "
                            f"({requests} requests) | "
                            f"{timer.wall:.1f} | {nbytes / 1e6 / timer.wall:.0f} | {timer.client_cpu:.1f} | "
                            f"{timer.server_cpu:.1f} | {count} shards: encoding {encode_s:.1f} s, waiting for room "
                            f"to upload {wait_s:.1f} s |"
                        )
                multipart.MIN_PARTS, shards.INFLIGHT = whole, usual
                fs = fresh_fs(options | {"max_concurrency": 10})
                with _Timer(pids) as timer:
                    fs.put(str(local) + "/", "bench/ceiling.nwb.zarr/", recursive=True)
                timed["ceiling"] = timer
                rows.append(
                    f"| {label} | s3fs put of the same bytes (ceiling) | {timer.wall:.1f} | "
                    f"{nbytes / 1e6 / timer.wall:.0f} | {timer.client_cpu:.1f} | {timer.server_cpu:.1f} | |"
                )
                if not args.no_hdmf:
                    with _Timer(pids) as timer:
                        _hdmf_export(source, tmp / f"hdmf-{latency}.nwb.zarr", fs, "bench/hdmf.nwb.zarr")
                    timed["hdmf"] = timer
                    fs.invalidate_cache()
                    hdmf_bytes = sum(v["size"] for v in fs.find("bench/hdmf.nwb.zarr", detail=True).values())
                    rows.append(
                        f"| {label} | hdmf-zarr export to disk + s3fs put | {timer.wall:.1f} | "
                        f"{hdmf_bytes / 1e6 / timer.wall:.0f} (raw movie: {movie.nbytes / 1e6 / timer.wall:.0f}) | "
                        f"{timer.client_cpu:.1f} | {timer.server_cpu:.1f} | {hdmf_bytes / 1e6:.0f} MB stored |"
                    )
            default = f"nwbzarr-{usual if usual in args.inflight else args.inflight[0]}-{args.multipart[0]}"
            best = min((key for key in timed if key.startswith("nwbzarr")), key=lambda key: timed[key].wall)
            for key in dict.fromkeys([default, best]):  # the default settings, and the fastest if others
                share = timed["ceiling"].wall / timed[key].wall
                verdicts.append(
                    f"{'PASS' if share >= 0.7 else 'MISS'} {label}: nwbzarr ({key}) at {share:.0%} of the ceiling "
                    "(target 70%)"
                )
                if "hdmf" in timed:
                    speedup = timed["hdmf"].wall / timed[key].wall
                    verdicts.append(
                        f"{'PASS' if speedup >= 3 else 'MISS'} {label}: nwbzarr ({key}) converted the whole file "
                        f"{speedup:.1f}x faster than hdmf-zarr's export (target 3x)"
                    )
    text = "\n".join(
        [
            "# Upload to S3 (benchmarks/upload.py)",
            "",
            f"nwbzarr {__version__}, Python {platform.python_version()}, 2 shared, loaded cores (compare within "
            f"this run only). Movie {movie.shape} uint16 = {movie.nbytes / 1e6:.0f} MB, uncompressed NWB HDF5 "
            "source; the server: " + " and ".join(_SERVERS[kind] for kind in args.server) + ". "
            f"Command: `.venv/bin/python benchmarks/upload.py {' '.join(sys.argv[1:])}`",
            "",
            f"Stored: {nbytes / 1e6:.0f} MB. CPU columns: seconds of CPU (user + system) of this process "
            "(the writer) and of the server's processes during each contender.",
            "",
            "| latency | contender | s | MB/s stored | client CPU s | server CPU s | notes |",
            "|---|---|---:|---:|---:|---:|---|",
            *rows,
            "",
            "```",
            *verdicts,
            "```",
            "",
        ]
    )
    print(text)
    if args.output:
        args.output.write_text(text)
    if args.trace:
        args.trace.write_text("\n".join(traces) + "\n")


_SERVERS = {
    "moto": "moto in its own process behind the counting proxy",
    "directory": "`object_server.py --writable` (files on asyncio streams, 1 process)",
}


def _server(kind: str, latency: float, tmp: Path) -> Any:
    """A fresh server of ``kind`` at ``latency`` (an empty bucket folder under ``tmp`` for ``directory``)."""
    from object_server import DirectoryServer
    from remote import ServerProcess

    if kind == "moto":
        return ServerProcess(latency, stock_moto=False)
    root = Path(tempfile.mkdtemp(prefix="bucket-", dir=tmp))
    return DirectoryServer(root, latency=latency, processes=1, writable=True)


if __name__ == "__main__":
    main()
