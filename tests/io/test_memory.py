"""Writes larger than memory stay within the stated bound: peak RSS measured in a real subprocess.

The bound (README, "Larger than memory"): about four shards' worth of data at once, whatever the
movie's length (one shard of frames, its encoded bytes, the previous shard being stored, and the next
frames arriving): 256 MiB with the default 64 MiB shards. Measured: 197 MiB (lazy array) and 232 MiB
(frame stream) for a 1.25 GiB movie.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

_MIB = 1024 * 1024
BOUND = 288 * _MIB  # four 64 MiB shards and allocator slack
MOVIE_FRAMES = 2560  # 2560 x 512 x 512 uint16 = 1.25 GiB: 4.4 times the bound

_WRITER = textwrap.dedent(
    """
    import json, resource, sys
    import numpy as np
    from nwbzarr import NWBZarrIO
    from nwbzarr.model import TwoPhotonSeries
    from nwbzarr.writing.streams import FrameStream
    from nwbzarr.testing.tutorial import build_tutorial_file

    path, source, frames = sys.argv[1], sys.argv[2], int(sys.argv[3])
    bank = np.random.default_rng(0).poisson(120, (16, 512, 512)).astype(np.uint16)  # realistic to compress

    class Movie:  # a lazy array-like (like a TIFF stack or an h5py dataset): slices are made on demand
        shape, dtype, ndim = (frames, 512, 512), np.dtype("uint16"), 3
        def __len__(self): return frames
        def __getitem__(self, key):
            rows = range(frames)[key[0] if isinstance(key, tuple) else key]
            out = np.stack([bank[i % 16] for i in rows]) if isinstance(rows, range) else bank[rows % 16]
            return out[(slice(None), *key[1:])] if isinstance(key, tuple) else out

    nwbfile = build_tutorial_file(frames=4, size=8)
    plane = nwbfile.imaging_planes["ImagingPlane"]
    data = FrameStream(bank[i % 16] for i in range(frames)) if source == "stream" else Movie()
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    nwbfile.add_acquisition(TwoPhotonSeries(name="big", data=data, imaging_plane=plane, rate=30.0))
    with NWBZarrIO(path, "w") as io:
        io.write(nwbfile)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"baseline": baseline, "peak": peak}))
    """
)


@pytest.mark.parametrize("source", ["stream", "lazy array"])
def test_peak_memory_of_a_movie_four_times_the_bound(tmp_path: Path, source: str) -> None:
    store = tmp_path / "big.nwb.zarr"
    done = subprocess.run(
        [sys.executable, "-c", _WRITER, str(store), source.split(maxsplit=1)[0], str(MOVIE_FRAMES)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    rss = json.loads(done.stdout.strip().splitlines()[-1])
    movie_bytes = MOVIE_FRAMES * 512 * 512 * 2
    grown = rss["peak"] - rss["baseline"]
    assert movie_bytes >= 4 * BOUND
    assert grown < BOUND, f"peak grew by {grown / _MIB:.0f} MiB for a {movie_bytes / _MIB:.0f} MiB movie"
    from nwbzarr import NWBZarrIO

    with NWBZarrIO(store, "r") as io:
        big = io.read().acquisition["big"].data  # type: ignore[attr-defined]
        assert big.shape == (MOVIE_FRAMES, 512, 512)
        assert int(big[MOVIE_FRAMES - 1, 0, 0]) == int(big[(MOVIE_FRAMES - 1) % 16, 0, 0])
