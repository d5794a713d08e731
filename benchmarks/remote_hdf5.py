"""Issue 12: NWB HDF5 files read where they lie (S3), nwbzarr against PyNWB's remote readers, in one run.

    .venv/bin/python benchmarks/remote_hdf5.py --frames 600 --output benchmarks/RESULTS-remote-hdf5.md

Two PyNWB-written files of the same synthetic movie (gzip-4 frame chunks; uncompressed contiguous) are
uploaded to the moto S3 server of ``benchmarks/remote.py`` and read through its counting proxy (20 ms a
request): nwbzarr (``NWBHDF5IO(url)``, cold disk cache), PyNWB + h5py over s3fs, over remfile, and over
LINDI (``lindi.LindiH5pyFile.from_hdf5_file``; LINDI pins zarr 2, so it runs in a throwaway venv of its
own under the work folder, as a child process driven step by step through a pipe, on a presigned URL as
remfile). Steps: open, one frame, a 512-frame 32 x 32 time course, then a Dask mean of the whole movie on
a reader opened afresh (outside the timing; nwbzarr's disk cache emptied too), so no reader's memory
cache of the time course serves the mean. nwbzarr reads over its default transport (obstore for s3://
when installed) and over s3fs (``transport="fsspec"``), same run. Then HDF5 (S3) -> Zarr (S3), nwbzarr's
default layout and ``layout="keep"`` (deflate chunks re-wrapped, not decoded), against hdmf-zarr's export.
``--server directory`` serves the reads with ``benchmarks/object_server.py`` (the files from the folder
they were written to; moto behind the Python proxy caps at about 300 requests/s on this machine).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.metadata
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from remote import (
    BUCKET,
    Conversion,
    Reader,
    Remote,
    ServerProcess,
    fair_options,
    fresh_fs,
    measured,
    open_pynwb_remfile,
    open_pynwb_s3fs,
    upload,
)
from run import _timed, _tree_size, make_movie, write_pynwb_hdf5

warnings.simplefilter("ignore")

__all__ = ["main"]

SERIES = "acquisition/TwoPhotonSeries/data"
#: nwbzarr's disk cache of remote HDF5 metadata: emptied before each cold open
CACHE_DIR = Path(tempfile.gettempdir()) / f"nwbzarr-bench-h5-cache-{os.getpid()}"
LINDI = "lindi==0.4.6"

#: the LINDI side: reads commands from stdin, answers one JSON line each (it has its own numpy, zarr 2...)
_CHILD = r"""
import json, sys, time, warnings
warnings.simplefilter("ignore")
answers, sys.stdout = sys.stdout, sys.stderr  # what LINDI prints must not mix with the answers
import dask.array, lindi, numpy as np, pynwb
url = sys.argv[1]
state = {}
def open_():
    f = lindi.LindiH5pyFile.from_hdf5_file(url)
    io = pynwb.NWBHDF5IO(file=f, mode="r")
    state.update(f=f, io=io, data=io.read().acquisition["TwoPhotonSeries"].data)
def close():
    if state:
        state["io"].close(); state["f"].close(); state.clear()
for line in sys.stdin:
    command = json.loads(line)
    try:
        kind = command["do"]
        out = None
        if kind == "open":
            open_()
        elif kind == "reopen":
            close(); open_()
        elif kind == "read":
            key = tuple(slice(*s) if isinstance(s, list) else s for s in command["key"])
            out = list(np.asarray(state["data"][key]).shape)
        elif kind == "mean":
            data = state["data"]
            depth = data.chunks[0] if data.chunks else 1
            depth *= max(1, -(-128 // depth))
            lazy = dask.array.from_array(data, chunks=(min(depth, data.shape[0]), *data.shape[1:]), lock=True)
            out = np.asarray(lazy.mean(axis=0).compute()).tolist()
        elif kind == "close":
            close()
        print(json.dumps({"ok": True, "out": out}), file=answers, flush=True)
    except Exception as exc:
        print(json.dumps({"ok": False, "error": f"{type(exc).__name__}: {exc}"}), file=answers, flush=True)
"""


class LindiChild:
    """LINDI in its own venv: each call sends one step and waits for its answer."""

    def __init__(self, python: Path, script: Path, url: str) -> None:
        self.process = subprocess.Popen(
            [str(python), str(script), url], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )

    def call(self, **command: Any) -> Any:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        answer = json.loads(self.process.stdout.readline() or '{"ok": false, "error": "LINDI child died"}')
        if not answer["ok"]:
            raise RuntimeError(f"LINDI: {answer['error']}")
        return answer["out"]

    def end(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()  # type: ignore[union-attr]
            self.process.wait(timeout=60)


def lindi_venv(workdir: Path) -> tuple[Path, Path] | str:
    """``(python, child script)`` of a throwaway venv with LINDI, PyNWB and Dask, or why it could not be made."""
    venv = workdir / "lindi-venv"
    uv = [sys.executable, "-m", "uv"]
    made = subprocess.run([*uv, "venv", "--python", sys.executable, str(venv)], capture_output=True, text=True)
    python = venv / "bin" / "python"
    if made.returncode == 0:
        made = subprocess.run(
            [*uv, "pip", "install", "--python", str(python), LINDI, "pynwb", "dask"], capture_output=True, text=True
        )
    if made.returncode != 0:
        return f"LINDI did not install in its own venv: {made.stderr.strip().splitlines()[-1:]}"
    script = workdir / "lindi_child.py"
    script.write_text(_CHILD)
    return python, script


def presigned(url: str, options: dict[str, Any]) -> str:
    boto3: Any = importlib.import_module("boto3")

    bucket, key = url.removeprefix("s3://").split("/", 1)
    client = boto3.client(
        "s3",
        endpoint_url=options["endpoint_url"],
        aws_access_key_id=options["key"],
        aws_secret_access_key=options["secret"],
        region_name="us-east-1",
    )
    return str(client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=3600))


def open_nwbzarr_hdf5(url: str, options: dict[str, Any], *, warm: bool = False) -> Reader:
    """nwbzarr on the HDF5 file where it lies: ``NWBHDF5IO(url, storage_options=...)``, cold disk cache
    unless ``warm``; its default transport (obstore for s3:// when installed)."""
    from nwbzarr import NWBHDF5IO
    from nwbzarr.backends.hdf5 import index_cache

    if not warm:
        shutil.rmtree(CACHE_DIR, ignore_errors=True)
    index_cache.configure(location=CACHE_DIR, enabled=True)
    io = NWBHDF5IO(url, "r", storage_options=options)
    data = io.read().acquisition["TwoPhotonSeries"].data
    return Reader(data, data.to_dask, io.close)


def open_nwbzarr_hdf5_fsspec(url: str, options: dict[str, Any], *, warm: bool = False) -> Reader:
    """The same over s3fs (the transport of the previous round: before/after in one run)."""
    return open_nwbzarr_hdf5(url, {**options, "transport": "fsspec"}, warm=warm)


def _steps(shape: tuple[int, ...]) -> tuple[int, tuple[slice, ...]]:
    n, h, w = shape
    t0 = max(0, min(1000, n - 512))
    y0, x0 = max(0, min(200, h - 32)), max(0, min(200, w - 32))
    return n // 2, (slice(t0, t0 + 512), slice(y0, y0 + 32), slice(x0, x0 + 32))


def measure_python(
    result: Remote, opener: Callable[[str, dict[str, Any]], Reader], url: str, options: dict[str, Any], proxy: Any
) -> np.ndarray:
    """Open, frame, time course on one reader; the Dask mean on a fresh one (opened outside the timing)."""
    import s3fs

    s3fs.S3FileSystem.clear_instance_cache()
    with measured(proxy, result.open):
        reader = opener(url, options)
    try:
        frame, course = _steps(reader.data.shape)
        with measured(proxy, result.frame):
            np.asarray(reader.data[frame])
        with measured(proxy, result.trace):
            np.asarray(reader.data[course])
    finally:
        reader.close()
    s3fs.S3FileSystem.clear_instance_cache()
    reader = opener(url, options)
    try:
        with measured(proxy, result.mean):
            return np.asarray(reader.dask().mean(axis=0).compute())
    finally:
        reader.close()


def measure_lindi(result: Remote, child: LindiChild, proxy: Any, shape: tuple[int, ...]) -> np.ndarray:
    frame, course = _steps(shape)
    with measured(proxy, result.open):
        child.call(do="open")
    with measured(proxy, result.frame):
        child.call(do="read", key=[frame])
    with measured(proxy, result.trace):
        child.call(do="read", key=[[s.start, s.stop] for s in course])
    child.call(do="reopen")
    with measured(proxy, result.mean):
        mean = np.asarray(child.call(do="mean"))
    child.call(do="close")
    return mean


def array_bytes(path: Path) -> tuple[int, str]:
    import h5py

    with h5py.File(path, "r") as f:
        ds = f[SERIES]
        comp = f"{ds.compression}-{ds.compression_opts}" if ds.compression else "uncompressed"
        return int(ds.id.get_storage_size()), f"chunks {ds.chunks or 'contiguous'}, {comp}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=600)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--cells", type=int, default=300)
    parser.add_argument("--latency", type=float, default=0.02, help="seconds added per request by the proxy")
    parser.add_argument("--skip", nargs="*", default=[], help="readers to skip, by their row's name")
    parser.add_argument("--no-convert", action="store_true", help="skip the HDF5 (S3) -> Zarr (S3) comparison")
    parser.add_argument("--no-lindi", action="store_true", help="skip LINDI (it installs into a throwaway venv)")
    parser.add_argument("--stock-moto", action="store_true", help="do not patch moto's whole-object ranged GETs")
    parser.add_argument(
        "--server",
        choices=("moto", "directory"),
        default="moto",
        help="what serves the reads: moto behind the counting proxy (about 300 requests/s here), or "
        "benchmarks/object_server.py serving the folder the files are written to (the conversion: moto)",
    )
    parser.add_argument("--processes", type=int, default=2, help="worker processes of --server directory")
    parser.add_argument("--output", type=Path, help="write the Markdown report here too")
    args = parser.parse_args()

    import dask.array  # before any timing: its first import and threads would be charged to the first reader

    dask.array.ones(4, chunks=2).mean().compute()

    movie = make_movie(args)
    files: list[tuple[str, Callable[[Path], None]]] = [
        ("PyNWB HDF5 gzip-4", lambda p: write_pynwb_hdf5(movie, p, gzip=True)),
        ("PyNWB HDF5 (uncompressed)", lambda p: write_pynwb_hdf5(movie, p, gzip=False)),
    ]
    results: list[Remote] = []
    conversions: list[Conversion] = []
    notes: list[str] = []
    workdir = Path(tempfile.mkdtemp(prefix="nwbzarr-remote-h5-"))
    reference_mean = movie.mean(axis=0, dtype=np.float64)
    lindi: tuple[Path, Path] | str = "skipped (--no-lindi)" if args.no_lindi else lindi_venv(workdir)
    if isinstance(lindi, str):
        notes.append(f"LINDI: {lindi}")
    try:
        with contextlib.ExitStack() as stack:
            # moto behind the counting proxy: the reads' server unless --server directory; the conversion's
            # always (the directory server is read-only)
            moto = None
            if args.server == "moto" or not args.no_convert:
                moto = stack.enter_context(ServerProcess(args.latency, stock_moto=args.stock_moto))
                moto_direct = fair_options(moto.endpoint_url, moto.options)
                moto_via = fair_options(moto.url, moto.options)
            if args.server == "directory":
                from object_server import DirectoryServer

                server = DirectoryServer(workdir, bucket=BUCKET, latency=args.latency, processes=args.processes)
                proxy: Any = stack.enter_context(server)
                via_proxy = fair_options(server.url, server.options)
            else:
                assert moto is not None
                proxy, via_proxy = moto, moto_via
            for i, (name, write) in enumerate(files):
                path = workdir / f"h{i}.nwb"
                print(f"writing: {name} ...", file=sys.stderr)
                write(path)
                stored, layout = array_bytes(path)
                uploaded = moto is not None and (args.server == "moto" or (i == 0 and not args.no_convert))
                if uploaded:  # the directory server reads the file where it was written
                    upload(fresh_fs(moto_direct), path, path.name)
                url = f"s3://{BUCKET}/{path.name}"
                readers: list[tuple[str, Any]] = [
                    (f"{name}, nwbzarr", open_nwbzarr_hdf5),
                    (f"{name}, nwbzarr (fsspec)", open_nwbzarr_hdf5_fsspec),
                    (f"{name}, PyNWB + s3fs", open_pynwb_s3fs),
                ]
                if importlib.util.find_spec("remfile") is not None:
                    readers.append((f"{name}, PyNWB + remfile", open_pynwb_remfile))
                if not isinstance(lindi, str):
                    readers.append((f"{name}, PyNWB + LINDI", "lindi"))
                for label, reader_open in readers:
                    if label in args.skip:
                        continue
                    result = Remote(name=label, stored_bytes=stored, objects=1, layout=layout)
                    print(f"  reading: {label} ...", file=sys.stderr)
                    try:
                        if reader_open == "lindi":
                            assert not isinstance(lindi, str)
                            child = LindiChild(*lindi, presigned(url, via_proxy))
                            try:
                                mean = measure_lindi(result, child, proxy, movie.shape)
                            finally:
                                child.end()
                        else:
                            mean = measure_python(result, reader_open, url, via_proxy, proxy)
                        if not np.allclose(mean, reference_mean):
                            result.notes.append("Dask mean differs from the movie's mean")
                        if reader_open in (open_nwbzarr_hdf5, open_nwbzarr_hdf5_fsspec):
                            with measured(proxy, result.warm):
                                reader_open(url, via_proxy, warm=True).close()
                    except Exception as exc:  # noqa: BLE001 - one contender's failure is a result, not the end
                        result.notes.append(f"failed: {type(exc).__name__}: {exc}")
                        print(f"  FAILED: {type(exc).__name__}: {exc}", file=sys.stderr)
                    results.append(result)
                if i == 0 and not args.no_convert:
                    conversions = measure_remote_conversion(url, moto_via, workdir)
                if uploaded:
                    fresh_fs(moto_direct).rm(f"{BUCKET}/{path.name}")
                path.unlink()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        shutil.rmtree(CACHE_DIR, ignore_errors=True)
    report = _report(results, conversions, movie, args, notes)
    print(report)
    if args.output:
        args.output.write_text(report)
    return 0


def measure_remote_conversion(url: str, options: dict[str, Any], workdir: Path) -> list[Conversion]:
    """HDF5 on S3 -> Zarr on S3: ``nwbzarr.convert`` vs hdmf-zarr's export reading through h5py + s3fs."""
    import h5py
    from hdmf_zarr import NWBZarrIO as HdmfZarrIO
    from pynwb import NWBHDF5IO

    from nwbzarr.operations.convert import convert

    def ours(dst: str, **extra: Any) -> None:
        shutil.rmtree(CACHE_DIR, ignore_errors=True)
        convert(url, dst, storage_options=options, dst_storage_options=options, **extra)

    def hdmf_export(dst: str) -> None:
        """hdmf-zarr 0.14 writes only local stores ("FsspecStore (remote storage) only supports read mode"):
        it reads the remote file through h5py + s3fs (PyNWB's documented way) into a local folder."""
        f = fresh_fs(options).open(url, "rb")
        with (
            h5py.File(f, "r") as h5,
            NWBHDF5IO(file=h5, mode="r", load_namespaces=True) as src,
            HdmfZarrIO(path=dst, mode="w") as out,
        ):
            out.export(src_io=src, write_args={"link_data": False})

    out: list[Conversion] = []
    jobs: list[tuple[str, Callable[[str], None], str]] = [
        ("nwbzarr convert s3 -> s3 (verified)", ours, f"s3://{BUCKET}/conv.nwb.zarr"),
        (
            "nwbzarr convert s3 -> s3 --layout keep (chunks re-wrapped, verified)",
            lambda dst: ours(dst, layout="keep"),
            f"s3://{BUCKET}/conv-keep.nwb.zarr",
        ),
        ("hdmf-zarr 0.14 NWBZarrIO.export s3 -> local (it cannot write to S3)", hdmf_export, ""),
    ]
    for name, job, target in jobs:
        dst = target or str(workdir / "hdmf-export.nwb.zarr")
        result = Conversion(name=name)
        print(f"converting: {name} ...", file=sys.stderr)
        try:
            result.seconds, _ = _timed(lambda: job(dst))  # noqa: B023 - called at once
            if target:
                fs = fresh_fs(options)
                found = fs.find(dst.removeprefix("s3://"), detail=True)
                result.objects, result.stored_bytes = len(found), sum(int(v["size"]) for v in found.values())
                fs.rm(dst.removeprefix("s3://"), recursive=True)
            else:
                result.stored_bytes, result.objects = _tree_size(Path(dst))
                shutil.rmtree(dst, ignore_errors=True)
        except Exception as exc:  # noqa: BLE001 - one converter's failure is a result, not the end
            result.notes.append(f"failed: {type(exc).__name__}: {exc}")
            print(f"  FAILED: {type(exc).__name__}: {exc}", file=sys.stderr)
        out.append(result)
    return out


def _mb(n: float) -> str:
    return f"{n / 1e6:.2f}"


def _report(
    results: list[Remote],
    conversions: list[Conversion],
    movie: np.ndarray,
    args: argparse.Namespace,
    notes: list[str],
) -> str:
    md = importlib.metadata
    n, h, w = movie.shape
    frame, course = _steps(movie.shape)
    packages = ("nwbzarr", "h5py", "s3fs", "remfile", "hdmf-zarr", "pynwb", "dask", "moto")
    versions = {p: md.version(p) for p in packages if importlib.util.find_spec(p.replace("-", "_")) is not None}
    load = os.getloadavg()
    lines = [
        "# Remote HDF5 (issue 12): NWB HDF5 files read where they lie",
        "",
        f"Movie: {n} x {h} x {w} uint16 ({movie.nbytes / 1e9:.2f} GB); two PyNWB files of it (gzip-4 frame chunks, "
        "and uncompressed contiguous) "
        + (
            "served by `benchmarks/object_server.py` (the folder they were written to, "
            f"{args.processes} worker processes) adding "
            if args.server == "directory"
            else "on moto S3 behind a counting proxy adding "
        )
        + f"{args.latency * 1e3:.0f} ms a request (see `benchmarks/remote.py`); conversions: moto. "
        + ", ".join(f"{k} {v}" for k, v in versions.items())
        + f", LINDI {LINDI.split('==')[1]} (own venv, zarr 2).",
        f"Command: `.venv/bin/python benchmarks/remote_hdf5.py {' '.join(sys.argv[1:])}`. "
        f"Run on a loaded, shared 2-core machine (load average {load[0]:.1f} at the end): times are noisy, "
        "compare requests and bytes first, and times only within this run.",
        f"Steps: open = IO constructor + read(); frame = data[{frame}]; time course = "
        f"data[{course[0].start}:{course[0].stop}, {course[1].start}:{course[1].stop}, "
        f"{course[2].start}:{course[2].stop}]; Dask mean over all frames on a reader opened afresh (outside "
        "the timing: no reader's memory cache of the time course serves it). nwbzarr: cold disk cache; "
        "warm open = a second open with the cache a cold open left.",
        "",
        "| reader | open s | open req | warm open req | frame ms | frame req | frame MB | tc ms | tc req | tc MB "
        "| Dask mean s | mean req | mean MB |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        warm = str(r.warm.requests) if ", nwbzarr" in r.name else "-"
        lines.append(
            f"| {r.name} | {r.open.seconds:.2f} | {r.open.requests} | {warm} | {r.frame.seconds * 1e3:.0f} | "
            f"{r.frame.requests} | {_mb(r.frame.bytes)} | {r.trace.seconds * 1e3:.0f} | {r.trace.requests} | "
            f"{_mb(r.trace.bytes)} | {r.mean.seconds:.1f} | {r.mean.requests} | {_mb(r.mean.bytes)} |"
        )
    if conversions:
        lines += ["", "HDF5 (S3) -> Zarr (S3), no local copy:", "", "| converter | s | MB/s raw | objects |"]
        lines += ["|---|---|---|---|"]
        for c in conversions:
            lines.append(f"| {c.name} | {c.seconds:.1f} | {movie.nbytes / c.seconds / 1e6:.0f} | {c.objects} |")
    lines += ["", "Issue 12 targets (same run):", "", "```"]
    for prefix in ("PyNWB HDF5 gzip-4", "PyNWB HDF5 (uncompressed)"):
        group = [r for r in results if r.name.startswith(prefix + ",") and not r.notes]
        ours = next((r for r in group if r.name.endswith("nwbzarr")), None)
        peers = [r for r in group if ", nwbzarr" not in r.name]
        if ours is None or not peers:
            continue

        def check(ok: bool, text: str, prefix: str = prefix) -> None:
            lines.append(f"{'PASS' if ok else 'MISS'}: {prefix}: {text}")

        best_req = min(peers, key=lambda r: r.open.requests)
        best_open = min(peers, key=lambda r: r.open.seconds)
        check(
            ours.open.requests * 4 <= best_req.open.requests,
            f"open in <= 1/4 of the best peer's requests: {ours.open.requests} vs {best_req.open.requests} "
            f"({best_req.name})",
        )
        check(
            ours.open.seconds * 3 <= best_open.open.seconds,
            f"open in <= 1/3 of the best peer's time: {ours.open.seconds:.2f} s vs {best_open.open.seconds:.2f} s "
            f"({best_open.name})",
        )
        check(ours.warm.requests <= 2, f"warm open in <= 2 requests: {ours.warm.requests}")
        check(ours.frame.requests <= 2, f"one frame in <= 2 requests after open: {ours.frame.requests}")
        for step, label in (("frame", "one frame"), ("trace", "time course"), ("mean", "Dask mean")):
            best = min(peers, key=lambda r, step=step: float(getattr(r, step).seconds))  # type: ignore[misc]
            ratio = getattr(best, step).seconds / getattr(ours, step).seconds
            check(ratio >= 3, f"{label} >= 3x faster than the best peer ({best.name}): {ratio:.1f}x")
    hdmf = next((c for c in conversions if c.name.startswith("hdmf-zarr") and not c.notes), None)
    for c in conversions:
        if hdmf is not None and c.name.startswith("nwbzarr") and not c.notes:
            speedup = hdmf.seconds / c.seconds
            lines.append(
                f"{'PASS' if speedup >= 3 else 'MISS'}: HDF5 (S3) -> Zarr (S3) >= 3x hdmf-zarr's export "
                f"({c.name}): {speedup:.1f}x"
            )
    lines += ["```"]
    notes = notes + [f"- {r.name}: {'; '.join(r.notes)}" for r in results if r.notes]
    notes += [f"- {c.name}: {'; '.join(c.notes)}" for c in conversions if c.notes]
    if notes:
        lines += ["", "Notes:", "", *(n if n.startswith("- ") else f"- {n}" for n in notes)]
    steps = {r.name: {s: getattr(r, s).by_method for s in ("open", "warm", "frame", "trace", "mean")} for r in results}
    lines += ["", "Requests by method:", "", "```", json.dumps(steps, indent=None), "```"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    started = time.time()
    code = main()
    print(f"benchmark took {time.time() - started:.0f} s", file=sys.stderr)
    sys.exit(code)
