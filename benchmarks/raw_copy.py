"""Issue 20: `convert --layout keep` with raw copies (stored bytes copied, no re-encoding) vs the forced decode path.

    .venv/bin/python benchmarks/raw_copy.py                  # 600 x 512 x 512 uint16 gzip movie (315 MB)
    .venv/bin/python benchmarks/raw_copy.py --size 256       # quicker

Three conversions, each timed with raw copies on and off (``raw_copies(enabled=False)``), alternating, best
of ``--repeats``: a PyNWB HDF5 file (gzip level 4, one chunk per frame) -> Zarr; the gzip Zarr store that
gives -> Zarr; and nwbzarr's default store (sharded Blosc-Zstd) -> Zarr. Every result is checked equal to
the movie. Single runs on a loaded, shared 2-core machine: compare the ratios of one run.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from nwbzarr import NWBZarrIO
from nwbzarr.backends.zarr_v3.raw_record import raw_copies
from nwbzarr.operations.convert import convert

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import make_movie, write_nwbzarr, write_pynwb_hdf5

MOVIE = "acquisition/TwoPhotonSeries/data"


def _best(run: Callable[[], None], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def _compare(name: str, src: Path, work: Path, movie: np.ndarray, repeats: int) -> None:
    results: dict[bool, float] = {}
    for attempt in range(repeats):  # alternate, so that both see the same machine load
        for raw in (True, False):
            dst = work / f"{name}-{raw}.nwb.zarr"

            def run(dst: Path = dst, raw: bool = raw) -> None:
                shutil.rmtree(dst, ignore_errors=True)
                with raw_copies(enabled=raw) as records:
                    convert(src, dst, layout="keep")
                assert bool(records) == raw or not raw, f"{name}: nothing was copied raw"

            seconds = _best(run, 1)
            results[raw] = min(results.get(raw, float("inf")), seconds)
            if attempt == 0:
                with NWBZarrIO(dst) as io:
                    data = io.read_tree().get(MOVIE)
                    assert data is not None and np.array_equal(data.data[:], movie), f"{name}: values differ"  # type: ignore[union-attr]
    mb = movie.nbytes / 1e6
    raw_s, decode_s = results[True], results[False]
    print(
        f"{name}: raw copy {raw_s:.2f} s ({mb / raw_s:.0f} MB/s), decode path {decode_s:.2f} s "
        f"({mb / decode_s:.0f} MB/s): {decode_s / raw_s:.1f}x faster"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=600)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--cells", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    movie = make_movie(args)
    with tempfile.TemporaryDirectory(prefix="nwbzarr-raw-copy-") as tmp:
        work = Path(tmp)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            write_pynwb_hdf5(movie, work / "movie.nwb", gzip=True)
            write_nwbzarr(movie, work / "default.nwb.zarr")
        print(f"movie {movie.shape} {movie.dtype}, {movie.nbytes / 1e6:.0f} MB; loaded, shared 2-core machine")
        _compare("HDF5 gzip -> Zarr", work / "movie.nwb", work, movie, args.repeats)
        gzip_store = work / "gzip.nwb.zarr"
        convert(work / "movie.nwb", gzip_store, layout="keep")
        _compare("Zarr gzip -> Zarr", gzip_store, work, movie, args.repeats)
        _compare("Zarr default (sharded blosc-zstd) -> Zarr", work / "default.nwb.zarr", work, movie, args.repeats)


if __name__ == "__main__":
    main()
