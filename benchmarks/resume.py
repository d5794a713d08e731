"""``convert --resume`` on the S3 test server: how much a resumed conversion sends against a fresh one (issue 18).

    .venv/bin/python benchmarks/resume.py [--frames 2000] [--size 512] [--inflight N] [--parts-inflight K]
        [--part-mib M] [--compare] [--output benchmarks/RESULTS-resume.md]

An NWB HDF5 file holding a synthetic two-photon movie (2000 x 512 x 512 uint16 = 1.05 GB by default) is
converted to moto (on loopback) through a proxy that counts the bytes of every request body (what the
writer uploads). Three conversions, each in a process of its own: a fresh one; one killed with SIGKILL
once it has uploaded half of the fresh run's bytes; the same command with ``--resume``. The resumed run
must upload at most 55% of the fresh run's bytes; the resumed store must verify and hold the movie
exactly. Shards of two parts or more go as multipart uploads (:mod:`nwbzarr.storage.multipart`);
``--compare`` also runs a fresh conversion with every shard as one PUT (as before multipart uploads), in
the same run, for the time. Times are wall-clock on a shared, loaded 2-core machine: compare them within
one run only.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

BUCKET = "bench"
TARGET = 0.55
#: the writer's settings in every conversion of the run (--inflight, --parts-inflight, --part-mib)
SETTINGS: dict[str, int] = {}


def _proxy_class() -> Any:
    from nwbzarr.testing.http_proxy import CountingProxy

    class UploadCountingProxy(CountingProxy):
        """Also counts the bytes of request bodies (uploads), from each request's Content-Length."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.bytes_in = 0
            self._in_lock = threading.Lock()

        def forward_headers(self, headers: dict[str, str]) -> dict[str, str]:
            length = next((int(v) for k, v in headers.items() if k.lower() == "content-length"), 0)
            with self._in_lock:
                self.bytes_in += length
            return headers

    return UploadCountingProxy


def child(argv: list[str]) -> None:
    """One conversion (run in its own process, so that it can be killed like a dropped session)."""
    from nwbzarr.operations.convert import convert

    source, url, options_json, resume = argv[0], argv[1], argv[2], argv[3] == "resume"
    settings = json.loads(argv[4]) if len(argv) > 4 else {}
    from nwbzarr.backends.zarr_v3 import shards
    from nwbzarr.storage import multipart

    shards.INFLIGHT = settings.get("inflight", shards.INFLIGHT)  # the writer's defaults unless given
    multipart.PARTS_INFLIGHT = settings.get("parts_inflight", multipart.PARTS_INFLIGHT)
    multipart.PART_BYTES = settings.get("part_bytes", multipart.PART_BYTES)
    if settings.get("single_put"):  # every shard one PUT, as before multipart uploads
        multipart.MIN_PARTS = 2**62
    if settings.get("s3fs_parts"):  # every part sent by s3fs, obstore's fresh writes too
        multipart.NATIVE_PARTS = False
    told: list[str] = []
    start = time.perf_counter()
    report = convert(source, url, dst_storage_options=json.loads(options_json), resume=resume, explain=told.append)
    seconds, cpu = time.perf_counter() - start, time.process_time()  # the writer's own CPU (moto runs elsewhere)
    print(json.dumps({"seconds": seconds, "cpu": cpu, "verified": bool(report and report.ok), "told": told}))


def _convert(
    source: Path,
    url: str,
    options: dict[str, Any],
    proxy: Any,
    *,
    resume: bool,
    kill_at: int = 0,
    single_put: bool = False,
) -> dict[str, Any]:
    """Run one conversion; with ``kill_at``, SIGKILL it once the proxy has seen that many uploaded bytes."""
    before_in, before_out, before_requests = proxy.bytes_in, proxy.bytes_out, proxy.total
    argv = [sys.executable, __file__, "--child", str(source), url, json.dumps(options), "resume" if resume else "new"]
    argv += [json.dumps({**SETTINGS, "single_put": single_put})]
    start = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killed = False
    while process.poll() is None:
        if kill_at and proxy.bytes_in - before_in >= kill_at:
            os.kill(process.pid, signal.SIGKILL)
            killed = True
            break
        time.sleep(0.05)
    out, err = process.communicate()
    if not killed and process.returncode != 0:
        raise SystemExit(f"conversion failed:\n{err[-4000:]}")
    result = json.loads(out.strip().splitlines()[-1]) if not killed else {"seconds": time.perf_counter() - start}
    result.update(
        uploaded=proxy.bytes_in - before_in,
        downloaded=proxy.bytes_out - before_out,
        requests=proxy.total - before_requests,
        killed=killed,
    )
    return result


def _same_movie(url: str, options: dict[str, Any], movie: np.ndarray) -> bool:
    from nwbzarr import NWBZarrIO

    with NWBZarrIO(url, "r", storage_options=options) as io:
        data = io.read().acquisition["TwoPhotonSeries"].data
        step = 100
        return all(
            np.array_equal(np.asarray(data[i : i + step]), movie[i : i + step]) for i in range(0, len(movie), step)
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=2000)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--cells", type=int, default=300)
    parser.add_argument("--output", type=Path)
    parser.add_argument("--inflight", type=int, help="shard uploads in flight (default: the writer's)")
    parser.add_argument("--parts-inflight", type=int, help="parts of one shard in flight (default: the writer's)")
    parser.add_argument("--part-mib", type=int, help="multipart part size in MiB (default: the writer's)")
    parser.add_argument("--compare", action="store_true", help="also a fresh conversion with one PUT per shard")
    parser.add_argument("--s3fs-parts", action="store_true", help="parts sent by s3fs in fresh obstore writes too")
    args = parser.parse_args()
    for name, value in (("inflight", args.inflight), ("parts_inflight", args.parts_inflight)):
        if value:
            SETTINGS[name] = value
    if args.s3fs_parts:
        SETTINGS["s3fs_parts"] = 1
    if args.part_mib:
        SETTINGS["part_bytes"] = args.part_mib * 2**20

    from run import make_movie, write_pynwb_hdf5

    from nwbzarr import __version__, verify
    from nwbzarr.testing.s3server import S3TestServer, loopback_environment

    loopback_environment()
    movie = make_movie(args)
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "session.nwb"
        write_pynwb_hdf5(movie, source, gzip=False)
        with S3TestServer() as server, _proxy_class()(server.host, server.port) as proxy:
            server.create_bucket(BUCKET)
            options = server.storage_options(proxy.url)
            single: dict[str, Any] | None = None
            if args.compare:  # the same conversion with one PUT per shard, before and after the multipart one
                single = _convert(
                    source, f"s3://{BUCKET}/single.nwb.zarr", options, proxy, resume=False, single_put=True
                )
                print(f"fresh, one PUT per shard: {single}", file=sys.stderr)
            fresh = _convert(source, f"s3://{BUCKET}/fresh.nwb.zarr", options, proxy, resume=False)
            print(f"fresh: {fresh}", file=sys.stderr)
            if args.compare:
                again = _convert(
                    source, f"s3://{BUCKET}/single2.nwb.zarr", options, proxy, resume=False, single_put=True
                )
                print(f"fresh, one PUT per shard, again: {again}", file=sys.stderr)
                assert single is not None
                single["seconds_again"], single["cpu_again"] = again["seconds"], again["cpu"]
            url = f"s3://{BUCKET}/resumed.nwb.zarr"
            killed = _convert(source, url, options, proxy, resume=False, kill_at=fresh["uploaded"] // 2)
            print(f"killed: {killed}", file=sys.stderr)
            resumed = _convert(source, url, options, proxy, resume=True)
            print(f"resumed: {resumed}", file=sys.stderr)
            direct = server.storage_options()
            report = verify(url, storage_options=direct)
            equal = _same_movie(url, direct, movie)
    ratio = resumed["uploaded"] / fresh["uploaded"]
    mb = 1e6
    lines = [
        "# Resume of an interrupted conversion to S3 (benchmarks/resume.py)",
        "",
        f"nwbzarr {__version__}, Python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} cores "
        "(a shared, loaded machine: times are for comparison within this run only). moto on loopback, "
        "bytes counted at a proxy (request bodies = uploads).",
        "",
        f"Source: NWB HDF5, movie {movie.shape} uint16 = {movie.nbytes / 1e9:.2f} GB. "
        f"Command: `.venv/bin/python benchmarks/resume.py {' '.join(sys.argv[1:])}`",
        "",
        "| run | uploaded MB | requests | seconds | writer CPU s |",
        "|---|---:|---:|---:|---:|",
        f"| fresh conversion (+ verify) | {fresh['uploaded'] / mb:.1f} | {fresh['requests']} | "
        f"{fresh['seconds']:.1f} | {fresh['cpu']:.1f} |",
        f"| killed (SIGKILL at half of the fresh upload) | {killed['uploaded'] / mb:.1f} | {killed['requests']} | "
        f"{killed['seconds']:.1f} | - |",
        f"| `--resume` (+ verify) | {resumed['uploaded'] / mb:.1f} | {resumed['requests']} | "
        f"{resumed['seconds']:.1f} | {resumed['cpu']:.1f} |",
    ]
    if single is not None:
        lines.append(
            f"| fresh, one PUT per shard (+ verify; before and after the multipart run) | "
            f"{single['uploaded'] / mb:.1f} | {single['requests']} | {single['seconds']:.1f}, "
            f"{single['seconds_again']:.1f} | {single['cpu']:.1f}, {single['cpu_again']:.1f} |"
        )
    lines += [
        "",
        f"Settings: {json.dumps(SETTINGS) if SETTINGS else 'the writer defaults'}.",
        "",
        f"Resumed / fresh uploaded bytes: **{ratio:.1%}** (target <= {TARGET:.0%}: "
        f"{'met' if ratio <= TARGET else 'NOT met'}). After the resume: verify {'ok' if report.ok else 'FAILED'} "
        f"({report.objects_checked} objects, {report.bytes_checked / mb:.1f} MB re-read against their CRC-32), "
        f"movie read back {'equal' if equal else 'DIFFERENT'} to the source.",
        "",
        f"What the resume said: {' / '.join(resumed.get('told', []))}",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.output:
        args.output.write_text(text)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2:])
    else:
        main()
