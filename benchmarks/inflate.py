"""Issue 12, third round: zlib against libdeflate (``deflate``) and ISA-L (``isal``) on the benchmark's real chunks.

    flock /tmp/nwbzarr-bench.lock .venv/bin/python benchmarks/inflate.py --frames 600

Writes the gzip-4 PyNWB file of ``benchmarks/remote_hdf5.py`` (frame chunks), takes every chunk's stored bytes
(``read_direct_chunk``), and inflates them all with each library, on one thread and on a pool of two: MB/s of
raw output (the best of ``--repeat`` passes; every output checked equal to zlib's). ISA-L is measured when
``isal`` is installed (it is no dependency of nwbzarr: ``uv pip install isal`` for this comparison).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import os
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import make_movie, write_pynwb_hdf5

__all__ = ["main"]

SERIES = "acquisition/TwoPhotonSeries/data"


def decoders() -> dict[str, Callable[[bytes, int], bytes]]:
    """Each installed library's zlib-stream inflate, as ``f(stream, raw_size)``."""
    found: dict[str, Callable[[bytes, int], bytes]] = {"zlib": lambda data, size: zlib.decompress(data, bufsize=size)}
    try:
        libdeflate: Any = importlib.import_module("deflate")
        found["libdeflate (deflate)"] = lambda data, size: bytes(libdeflate.zlib_decompress(data, size))
    except ImportError:
        pass
    try:
        isal_zlib: Any = importlib.import_module("isal.isal_zlib")
        found["ISA-L (isal)"] = lambda data, size: isal_zlib.decompress(data, bufsize=size)
    except ImportError:
        pass
    return found


def stored_chunks(path: Path) -> tuple[list[bytes], int]:
    import h5py

    with h5py.File(path, "r") as f:
        ds = f[SERIES]
        raw = int(ds.dtype.itemsize * ds.chunks[1] * ds.chunks[2] * ds.chunks[0])
        return [bytes(ds.id.read_direct_chunk((t, 0, 0))[1]) for t in range(ds.shape[0])], raw


def _call(inflate: Callable[[bytes, int], bytes], raw: int, chunk: bytes) -> bytes:
    return inflate(chunk, raw)


def _serial(inflate: Callable[[bytes], bytes], chunks: list[bytes]) -> None:
    for chunk in chunks:
        inflate(chunk)


def _pooled(pool: ThreadPoolExecutor, inflate: Callable[[bytes], bytes], chunks: list[bytes]) -> None:
    list(pool.map(inflate, chunks))


def best_rate(run: Callable[[], None], raw_bytes: int, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return raw_bytes / best / 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=600)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--cells", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    movie = make_movie(args)
    with tempfile.TemporaryDirectory(prefix="nwbzarr-inflate-") as folder:
        path = Path(folder) / "gzip4.nwb"
        write_pynwb_hdf5(movie, path, gzip=True)
        chunks, raw = stored_chunks(path)
    total = raw * len(chunks)
    stored = sum(len(c) for c in chunks)
    print(f"{len(chunks)} chunks, {stored / 1e6:.1f} MB stored, {total / 1e6:.1f} MB raw")
    expected = [zlib.decompress(c) for c in chunks]
    versions = {p: importlib.metadata.version(p) for p in ("deflate", "isal") if importlib.util.find_spec(p)}
    print(f"zlib {zlib.ZLIB_RUNTIME_VERSION}, " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    print("| library | 1 thread MB/s | 2 threads MB/s | vs zlib (1 / 2) |")
    print("|---|---|---|---|")
    base: tuple[float, float] | None = None
    for name, inflate in decoders().items():
        assert [inflate(c, raw) for c in chunks] == expected, name
        one_chunk = partial(_call, inflate, raw)
        one = best_rate(partial(_serial, one_chunk, chunks), total, args.repeat)
        with ThreadPoolExecutor(max_workers=2) as pool:
            two = best_rate(partial(_pooled, pool, one_chunk, chunks), total, args.repeat)
        base = base or (one, two)
        print(f"| {name} | {one:.0f} | {two:.0f} | {one / base[0]:.2f}x / {two / base[1]:.2f}x |")
    print(f"load average {os.getloadavg()[0]:.1f} (a shared 2-core machine)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
