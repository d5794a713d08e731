"""icechunk as a destination for versioned archives (issue 18): write time and size against nwbzarr's own store.

    .venv/bin/python benchmarks/icechunk_dst.py [--frames 500] [--size 512] [--output benchmarks/RESULTS-icechunk.md]

One NWB HDF5 file (a synthetic two-photon movie) is converted by ``nwbzarr.convert`` into (a) nwbzarr's
own Zarr v3 store and (b) an icechunk session (then committed), on local disk and on the moto S3 server
(loopback). Each copy is read back: by nwbzarr, and by PyNWB + hdmf-zarr (the icechunk snapshot directly,
and an export of it to a plain Zarr folder). Wall-clock times on a shared, loaded 2-core machine: compare
within one run only.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))


def _du(path: Path) -> tuple[int, int]:
    files = [f for f in path.rglob("*") if f.is_file()]
    return sum(f.stat().st_size for f in files), len(files)


def _equal_nwbzarr(store: Any, movie: np.ndarray) -> bool:
    from nwbzarr import NWBZarrIO

    with NWBZarrIO(store, "r") as io:
        return bool(np.array_equal(np.asarray(io.read().acquisition["TwoPhotonSeries"].data[:]), movie))


def _equal_hdmf(store: Any, movie: np.ndarray) -> bool:
    from hdmf_zarr.nwb import NWBZarrIO as HdmfZarrIO

    with HdmfZarrIO(store, "r") as io:
        return bool(np.array_equal(np.asarray(io.read().acquisition["TwoPhotonSeries"].data[:]), movie))


def _export(store: Any, path: Path) -> int:
    """Copy a snapshot's objects into a plain local Zarr folder (what an archive hands to other tools)."""
    from zarr.core.buffer import default_buffer_prototype
    from zarr.core.sync import sync
    from zarr.storage import LocalStore

    out = LocalStore(str(path))

    async def copy() -> int:
        n = 0
        async for key in store.list():
            value = await store.get(key, prototype=default_buffer_prototype())
            assert value is not None
            await out.set(key, value)
            n += 1
        return n

    return sync(copy())


def _icechunk_run(storage: Any, source: Path, movie: np.ndarray, tmp: Path) -> dict[str, Any]:
    import icechunk

    from nwbzarr.operations.convert import convert

    repo = icechunk.Repository.create(storage)
    session = repo.writable_session("main")
    start = time.perf_counter()
    convert(source, session.store)
    written = time.perf_counter() - start
    start = time.perf_counter()
    snapshot = session.commit("session converted")
    committed = time.perf_counter() - start
    snap = repo.readonly_session(snapshot_id=snapshot).store
    export = tmp / f"export-{time.time_ns()}.nwb.zarr"
    objects = _export(snap, export)
    return {
        "write_s": written,
        "commit_s": committed,
        "nwbzarr_reads": _equal_nwbzarr(snap, movie),
        "hdmf_reads_snapshot": _equal_hdmf(snap, movie),
        "hdmf_reads_export": _equal_hdmf(str(export), movie),
        "export_objects": objects,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=500)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--cells", type=int, default=300)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()

    import icechunk
    import s3fs
    from run import make_movie, write_pynwb_hdf5

    from nwbzarr import __version__
    from nwbzarr.operations.convert import convert
    from nwbzarr.testing.s3server import S3TestServer, loopback_environment

    loopback_environment()
    movie = make_movie(args)
    rows: list[str] = []
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        source = tmp / "session.nwb"
        write_pynwb_hdf5(movie, source, gzip=False)
        start = time.perf_counter()
        convert(source, tmp / "own.nwb.zarr", verify=False)
        own_s = time.perf_counter() - start
        own_bytes, own_files = _du(tmp / "own.nwb.zarr")
        own_ok = _equal_nwbzarr(str(tmp / "own.nwb.zarr"), movie) and _equal_hdmf(str(tmp / "own.nwb.zarr"), movie)
        rows.append(f"| local | nwbzarr store | {own_s:.2f} | - | {own_bytes / 1e6:.1f} | {own_files} | {own_ok} | - |")
        local = _icechunk_run(icechunk.local_filesystem_storage(str(tmp / "repo")), source, movie, tmp)
        ice_bytes, ice_files = _du(tmp / "repo")
        rows.append(
            f"| local | icechunk repo | {local['write_s']:.2f} | {local['commit_s']:.2f} | {ice_bytes / 1e6:.1f} | "
            f"{ice_files} | {local['nwbzarr_reads'] and local['hdmf_reads_snapshot']} | {local['hdmf_reads_export']} |"
        )
        shutil.rmtree(tmp / "repo")
        with S3TestServer() as server:
            server.create_bucket("bench")
            options = server.storage_options()
            start = time.perf_counter()
            convert(source, "s3://bench/own.nwb.zarr", dst_storage_options=options, verify=False)
            s3_own_s = time.perf_counter() - start
            fs = s3fs.S3FileSystem(**options)
            found = fs.find("bench/own.nwb.zarr", detail=True)
            rows.append(
                f"| moto S3 | nwbzarr store | {s3_own_s:.2f} | - | "
                f"{sum(v['size'] for v in found.values()) / 1e6:.1f} | {len(found)} | - | - |"
            )
            try:
                storage = icechunk.s3_storage(
                    bucket="bench",
                    prefix="repo",
                    endpoint_url=server.endpoint_url,
                    allow_http=True,
                    force_path_style=True,
                    region="us-east-1",
                    access_key_id=options["key"],
                    secret_access_key=options["secret"],
                )
                remote = _icechunk_run(storage, source, movie, tmp)
                fs.invalidate_cache()
                found = fs.find("bench/repo", detail=True)
                rows.append(
                    f"| moto S3 | icechunk repo | {remote['write_s']:.2f} | {remote['commit_s']:.2f} | "
                    f"{sum(v['size'] for v in found.values()) / 1e6:.1f} | {len(found)} | "
                    f"{remote['nwbzarr_reads'] and remote['hdmf_reads_snapshot']} | {remote['hdmf_reads_export']} |"
                )
            except Exception as exc:  # noqa: BLE001 - the finding is whether it works at all
                rows.append(f"| moto S3 | icechunk repo | failed: {type(exc).__name__}: {str(exc)[:200]} | | | | | |")
    text = "\n".join(
        [
            "# icechunk as a destination (benchmarks/icechunk_dst.py)",
            "",
            f"nwbzarr {__version__}, icechunk {icechunk.__version__}, Python {platform.python_version()}, "
            "2 shared, loaded cores (compare within this run only). "
            f"Movie {movie.shape} uint16 = {movie.nbytes / 1e6:.0f} MB in an uncompressed NWB HDF5 file. "
            f"Command: `.venv/bin/python benchmarks/icechunk_dst.py --frames {args.frames} --size {args.size}`",
            "",
            "| where | destination | write s | commit s | stored MB | objects | nwbzarr + hdmf-zarr read equal | "
            "hdmf-zarr reads the export |",
            "|---|---|---:|---:|---:|---:|---|---|",
            *rows,
            "",
        ]
    )
    print(text)
    if args.output:
        args.output.write_text(text)


if __name__ == "__main__":
    main()
