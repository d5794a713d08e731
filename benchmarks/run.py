"""nwbzarr vs hdmf-zarr vs PyNWB/HDF5 on one realistic movie, in one run: writes, size, local reads.

    .venv/bin/python benchmarks/run.py                 # 3000 x 512 x 512 uint16 (1.57 GB), as in issue 5
    .venv/bin/python benchmarks/run.py --frames 600    # quicker

Prints a Markdown table (and writes it with --output) with each figure's ratio to nwbzarr. Timings
are single runs on a noisy 2-core machine: compare ratios from one run, not absolute numbers across runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

warnings.simplefilter("ignore")


@dataclass
class Result:
    name: str
    write_s: float = float("nan")
    stored_bytes: int = 0
    objects: int = 0
    open_s: float = float("nan")
    frame_s: float = float("nan")
    trace_s: float = float("nan")
    frame_bytes_read: int = 0
    trace_bytes_read: int = 0
    notes: list[str] = field(default_factory=list)


def _tree_size(path: Path) -> tuple[int, int]:
    if path.is_file():
        return path.stat().st_size, 1
    files = [p for p in path.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files), len(files)


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def _session(movie: Any, library: str) -> Any:
    from nwbzarr.testing.tutorial import SESSION_START, tutorial_api

    api = tutorial_api(library)
    nwbfile = api["NWBFile"]("benchmark", "bench", SESSION_START)
    device = nwbfile.create_device(name="Microscope", description="2p")
    plane = nwbfile.create_imaging_plane(
        name="ImagingPlane",
        device=device,
        excitation_lambda=920.0,
        indicator="GCaMP6f",
        location="V1",
        optical_channel=api["OpticalChannel"](name="ch", description="green", emission_lambda=510.0),
    )
    nwbfile.add_acquisition(
        api["TwoPhotonSeries"](name="TwoPhotonSeries", data=movie, imaging_plane=plane, rate=30.0, unit="photons")
    )
    return nwbfile


# --- the contenders ---------------------------------------------------------------------------------
def write_nwbzarr(movie: np.ndarray, path: Path) -> None:
    from nwbzarr import NWBZarrIO

    with NWBZarrIO(path, "w") as io:
        io.write(_session(movie, "nwbzarr"))


def write_hdmf_zarr(movie: np.ndarray, path: Path, *, best: bool) -> None:
    from hdmf_zarr import NWBZarrIO, ZarrDataIO
    from zarr.codecs import BloscCodec

    data: Any = movie
    if best:  # chunks a few frames deep and a tile wide, whole-frame shards, the same Blosc codec as nwbzarr
        data = ZarrDataIO(
            movie,
            chunks=(8, 64, 64),
            shards=(256, movie.shape[1], movie.shape[2]),
            compressors=[BloscCodec(cname="zstd", clevel=3, shuffle="bitshuffle")],
        )
    with NWBZarrIO(str(path), "w") as io:
        io.write(_session(data, "pynwb"))


def write_pynwb_hdf5(movie: np.ndarray, path: Path, *, gzip: bool) -> None:
    from pynwb import NWBHDF5IO, H5DataIO

    data = H5DataIO(movie, chunks=(1, *movie.shape[1:]), compression="gzip", compression_opts=4) if gzip else movie
    with NWBHDF5IO(str(path), "w") as io:
        io.write(_session(data, "pynwb"))


def read_zarr(path: Path, result: Result, n: int) -> None:
    from zarr.storage import LocalStore

    from nwbzarr import NWBZarrIO
    from nwbzarr.testing.counting import CountingStore

    sized = _sized_store_class()(LocalStore(path, read_only=True))
    store = CountingStore(sized)
    result.open_s, io_file = _timed(lambda: NWBZarrIO(store, "r").read())
    data = io_file.acquisition["TwoPhotonSeries"].data
    sized.counter[0] = 0
    result.frame_s, _ = _timed(lambda: data[n // 2])
    result.frame_bytes_read = sized.counter[0]
    sized.counter[0] = 0
    result.trace_s, _ = _timed(lambda: data[0:512, 200:232, 300:332])
    result.trace_bytes_read = sized.counter[0]


def read_hdf5(path: Path, result: Result, n: int) -> None:
    import h5py

    def _open() -> Any:
        return h5py.File(path, "r")

    result.open_s, f = _timed(_open)
    data = f["acquisition/TwoPhotonSeries/data"]
    result.frame_s, _ = _timed(lambda: data[n // 2])
    result.trace_s, _ = _timed(lambda: data[0:512, 200:232, 300:332])
    f.close()


def _sized_store_class() -> type:
    from zarr.storage import WrapperStore

    class _Sized(WrapperStore):  # type: ignore[type-arg]
        """Counts bytes returned by reads (what a remote store would transfer), shared by its copies."""

        def __init__(self, store: Any, counter: list[int] | None = None) -> None:
            super().__init__(store)
            self.counter = counter if counter is not None else [0]

        def _with_store(self, store: Any) -> Any:
            return type(self)(store, self.counter)

        async def get(self, key: str, prototype: Any, byte_range: Any = None) -> Any:
            out = await self._store.get(key, prototype, byte_range)
            if out is not None:
                self.counter[0] += len(out)
            return out

    return _Sized


def make_movie(args: argparse.Namespace) -> np.ndarray:
    """The benchmark movie of ``--frames/--size/--cells``; PyNWB's schema is cached first, outside every timing."""
    from nwbzarr.schema.specifications import cached_specifications
    from nwbzarr.testing.synthetic import SyntheticSession

    cached_specifications()
    session = SyntheticSession(n_frames=args.frames, height=args.size, width=args.size, n_cells=args.cells)
    gen_s, movie = _timed(lambda: session.frames(0, args.frames))
    print(f"movie {movie.shape} uint16, {movie.nbytes / 1e9:.2f} GB, generated in {gen_s:.1f} s", file=sys.stderr)
    return np.asarray(movie)


def pure_codec_speed(movie: np.ndarray, chunk: tuple[int, ...]) -> float:
    """MB/s of nwbzarr's default codec alone on the movie cut into ``chunk`` blocks, on 2 cores.

    The faster of Blosc's own 2 threads and a 2-thread pool over chunks (Blosc single-threaded): the
    codec's best speed on this machine, which the writer's speed is compared with.
    """
    from concurrent.futures import ThreadPoolExecutor

    import numcodecs

    from nwbzarr.writing.policy import default_compression

    chosen = default_compression(movie.dtype)
    shuffle = {"none": 0, "byte": 1, "bit": 2}[chosen.shuffle]
    codec = numcodecs.Blosc(cname=chosen.codec, clevel=chosen.level, shuffle=shuffle)
    blocks = [
        np.ascontiguousarray(movie[t : t + chunk[0], y : y + chunk[1], x : x + chunk[2]])
        for t in range(0, min(len(movie), 512), chunk[0])
        for y in range(0, movie.shape[1], chunk[1])
        for x in range(0, movie.shape[2], chunk[2])
    ]
    numcodecs.blosc.set_nthreads(2)
    internal, _ = _timed(lambda: [codec.encode(b) for b in blocks])
    numcodecs.blosc.set_nthreads(1)
    with ThreadPoolExecutor(2) as pool:
        pooled, _ = _timed(lambda: list(pool.map(codec.encode, blocks)))
    return sum(b.nbytes for b in blocks) / min(internal, pooled) / 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=3000)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--cells", type=int, default=300)
    parser.add_argument("--skip", nargs="*", default=[], help="contenders to skip (e.g. 'PyNWB HDF5 gzip-4')")
    parser.add_argument("--output", type=Path, help="write the Markdown report here too")
    args = parser.parse_args()

    from nwbzarr.writing.policy import IMAGING_CHUNK

    movie = make_movie(args)
    raw = movie.nbytes
    contenders: list[tuple[str, str, Callable[[Path], None]]] = [
        ("nwbzarr (defaults)", "zarr", lambda p: write_nwbzarr(movie, p)),
        ("hdmf-zarr 0.14 (defaults)", "zarr", lambda p: write_hdmf_zarr(movie, p, best=False)),
        ("hdmf-zarr 0.14 (chunks 8x64x64, shards, Blosc-zstd)", "zarr", lambda p: write_hdmf_zarr(movie, p, best=True)),
        ("PyNWB HDF5 (uncompressed)", "hdf5", lambda p: write_pynwb_hdf5(movie, p, gzip=False)),
        ("PyNWB HDF5 gzip-4", "hdf5", lambda p: write_pynwb_hdf5(movie, p, gzip=True)),
    ]
    results: list[Result] = []
    workdir = Path(tempfile.mkdtemp(prefix="nwbzarr-bench-"))
    try:
        for name, kind, write in contenders:
            if name in args.skip:
                continue
            path = workdir / (name.split()[0] + str(len(results)) + (".nwb" if kind == "hdf5" else ".nwb.zarr"))
            result = Result(name=name)
            print(f"writing: {name} ...", file=sys.stderr)
            result.write_s, _ = _timed(lambda: write(path))  # noqa: B023 - called at once
            result.stored_bytes, result.objects = _tree_size(path)
            (read_zarr if kind == "zarr" else read_hdf5)(path, result, args.frames)
            results.append(result)
            shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink()
        codec_mb_s = pure_codec_speed(movie, IMAGING_CHUNK)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    report = _report(results, raw, codec_mb_s, args)
    print(report)
    if args.output:
        args.output.write_text(report)
    return 0


def _report(results: list[Result], raw: int, codec_mb_s: float, args: argparse.Namespace) -> str:
    import importlib.metadata as md

    ours = results[0]
    versions = {p: md.version(p) for p in ("zarr", "numcodecs", "hdmf-zarr", "pynwb", "h5py", "numpy")}
    from nwbzarr.writing.policy import default_compression

    codec_name = default_compression(np.dtype("uint16")).codec
    lines = [
        f"Movie: {args.frames} x {args.size} x {args.size} uint16 ({raw / 1e9:.2f} GB), {args.cells} cells, "
        "synthetic (shot noise on a drifting baseline with calcium transients).",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        + ", ".join(f"{k} {v}" for k, v in versions.items())
        + ".",
        f"Pure codec (nwbzarr's default, Blosc-{codec_name} + bit-shuffle, the faster of 2 threading modes, "
        f"its inner chunks): {codec_mb_s:.0f} MB/s; "
        f"nwbzarr's write is {raw / ours.write_s / 1e6 / codec_mb_s:.0%} of it.",
        "",
        "| writer | write MB/s | x nwbzarr | stored | ratio | objects | open s | frame ms | frame MB read | "
        "32x32x512 ms | time course MB read |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        speed = raw / r.write_s / 1e6
        lines.append(
            f"| {r.name} | {speed:.0f} | {ours.write_s / r.write_s:.2f} | {r.stored_bytes / 1e6:.0f} MB | "
            f"{raw / max(1, r.stored_bytes):.2f} | {r.objects} | {r.open_s:.2f} | {r.frame_s * 1e3:.1f} | "
            f"{r.frame_bytes_read / 1e6:.2f} | {r.trace_s * 1e3:.0f} | {r.trace_bytes_read / 1e6:.2f} |"
        )
    lines.append("")
    lines.append("MB read = bytes the store returned (what a remote store would transfer); blank for HDF5.")
    return "\n".join(lines) + "\n" + json.dumps({"args": vars(args) | {"output": str(args.output)}}) + "\n"


if __name__ == "__main__":
    sys.exit(main())
