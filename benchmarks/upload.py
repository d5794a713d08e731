"""Upload speed of ``nwbzarr convert`` to the S3 test server against its ceiling and hdmf-zarr (issue 18).

    .venv/bin/python benchmarks/upload.py [--frames 1000] [--size 512] [--output benchmarks/RESULTS-upload.md]

One NWB HDF5 file (a synthetic two-photon movie, uncompressed) is converted to moto (in a process of its
own, behind the counting proxy of ``benchmarks/remote.py``), with no added latency and with 20 ms per
request. Contenders, in one run: ``nwbzarr convert`` (``verify=False``: the upload alone); the ceiling,
the very bytes of nwbzarr's store (written to local disk first) uploaded by s3fs ``put`` (many objects in
parallel); hdmf-zarr 0.14's ``NWBZarrIO.export`` of the same file to the same server. MB/s are of the
stored (compressed) bytes. Wall-clock on a shared, loaded 2-core machine: compare within one run only.
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))


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
    args = parser.parse_args()

    from remote import ServerProcess, fair_options, fresh_fs
    from run import make_movie, write_pynwb_hdf5

    from nwbzarr import __version__
    from nwbzarr.operations.convert import convert

    movie = make_movie(args)
    rows: list[str] = []
    verdicts: list[str] = []
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        source = tmp / "session.nwb"
        write_pynwb_hdf5(movie, source, gzip=False)
        local = tmp / "local.nwb.zarr"
        start = time.perf_counter()
        convert(source, local, verify=False)
        local_s = time.perf_counter() - start  # reading and encoding alone: what the upload overlaps
        nbytes = _stored(local)
        for latency in (0.0, 0.02):
            with ServerProcess(latency, stock_moto=False) as server:
                options = fair_options(server.url, {k: v for k, v in server.options.items() if k != "endpoint_url"})
                timings: dict[str, float] = {}
                server.reset()
                start = time.perf_counter()
                convert(source, "s3://bench/nwbzarr.nwb.zarr", dst_storage_options=options, verify=False)
                timings["nwbzarr"] = time.perf_counter() - start
                requests, _, by_method = server.counts()
                fs = fresh_fs(options | {"max_concurrency": 10})
                start = time.perf_counter()
                fs.put(str(local) + "/", "bench/ceiling.nwb.zarr/", recursive=True)
                timings["ceiling"] = time.perf_counter() - start
                start = time.perf_counter()
                _hdmf_export(source, tmp / f"hdmf-{latency}.nwb.zarr", fs, "bench/hdmf.nwb.zarr")
                timings["hdmf"] = time.perf_counter() - start
                fs.invalidate_cache()
                hdmf_bytes = sum(v["size"] for v in fs.find("bench/hdmf.nwb.zarr", detail=True).values())
            mbs = {key: nbytes / 1e6 / seconds for key, seconds in timings.items()}
            hdmf_mbs = hdmf_bytes / 1e6 / timings["hdmf"]
            label = f"{latency * 1000:.0f} ms"
            rows.append(
                f"| {label} | nwbzarr convert ({requests} requests: {by_method}) | {timings['nwbzarr']:.1f} | "
                f"{mbs['nwbzarr']:.0f} | {nbytes / 1e6:.0f} |"
            )
            rows.append(
                f"| {label} | s3fs put of the same bytes (ceiling) | {timings['ceiling']:.1f} | {mbs['ceiling']:.0f} | "
                f"{nbytes / 1e6:.0f} |"
            )
            rows.append(
                f"| {label} | hdmf-zarr export to disk + s3fs put | {timings['hdmf']:.1f} | {hdmf_mbs:.0f} (raw movie: "
                f"{movie.nbytes / 1e6 / timings['hdmf']:.0f}) | {hdmf_bytes / 1e6:.0f} |"
            )
            share = mbs["nwbzarr"] / mbs["ceiling"]
            speedup = timings["hdmf"] / timings["nwbzarr"]
            verdicts.append(
                f"{'PASS' if share >= 0.7 else 'MISS'} {label}: nwbzarr at {share:.0%} of the ceiling (target 70%)"
            )
            verdicts.append(
                f"{'PASS' if speedup >= 3 else 'MISS'} {label}: the whole file converted {speedup:.1f}x faster than "
                "hdmf-zarr's export (target 3x)"
            )
    text = "\n".join(
        [
            "# Upload to S3 (benchmarks/upload.py)",
            "",
            f"nwbzarr {__version__}, Python {platform.python_version()}, 2 shared, loaded cores (compare within "
            f"this run only). Movie {movie.shape} uint16 = {movie.nbytes / 1e6:.0f} MB, uncompressed NWB HDF5 "
            "source; moto in its own process behind the counting proxy. "
            f"Command: `.venv/bin/python benchmarks/upload.py --frames {args.frames} --size {args.size}`",
            "",
            "| latency | contender | s | MB/s stored | stored MB |",
            "|---|---|---:|---:|---:|",
            f"| - | nwbzarr convert to local disk (reading + encoding alone) | {local_s:.1f} | "
            f"{nbytes / 1e6 / local_s:.0f} | {nbytes / 1e6:.0f} |",
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


if __name__ == "__main__":
    main()
