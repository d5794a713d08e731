"""NWB HDF5 files PyNWB writes, one movie per storage layout, for tests and benchmarks of remote reads.

The tutorial's content (pixel and voxel masks as compound tables, object references, text, links)
plus one series per layout a real archive holds: gzip, shuffle + gzip, uncompressed chunks, contiguous,
tile-shaped chunks and fletcher32 checksums. Each movie stores over 1 MiB, so it is read by range.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from nwbzarr.testing.tutorial import build_tutorial_file

__all__ = ["LAYOUTS", "MOVIE_SHAPE", "movie", "upload_to_s3", "write_layouts_file"]

#: frames x height x width of each layout's movie (1.3 MB as uint16)
MOVIE_SHAPE = (40, 128, 128)

#: series name -> H5DataIO options
LAYOUTS: dict[str, dict[str, Any]] = {
    "gzip": {"chunks": (1, 128, 128), "compression": "gzip", "compression_opts": 4},
    "shuffle_gzip": {"chunks": (4, 128, 128), "compression": "gzip", "shuffle": True},
    "chunked": {"chunks": (3, 128, 128)},
    "contiguous": {},
    "tiles": {"chunks": (10, 32, 32), "compression": "gzip"},
    "fletcher32": {"chunks": (5, 64, 64), "compression": "gzip", "fletcher32": True},
}


def movie(seed: int = 0) -> np.ndarray:
    """Noisy frames (they barely compress, so every layout stores over 1 MiB)."""
    return np.random.default_rng(seed).integers(0, 60000, MOVIE_SHAPE, dtype=np.uint16)


def write_layouts_file(path: Path, *, seed: int = 0) -> Path:
    """Write the file with PyNWB; ``acquisition/<layout>/data`` holds :func:`movie` in each layout."""
    from hdmf.backends.hdf5 import H5DataIO
    from pynwb import NWBHDF5IO, TimeSeries

    nwbfile = build_tutorial_file("pynwb", frames=8, size=16, seed=seed)
    frames = movie(seed)
    for name, options in LAYOUTS.items():
        data = H5DataIO(frames, **options) if options else frames
        nwbfile.add_acquisition(TimeSeries(name=name, data=data, unit="n", rate=30.0))
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwbfile)
    return path


def upload_to_s3(storage_options: dict[str, Any], path: Path, url: str) -> None:
    """Put a local file at ``url`` on the S3 server ``storage_options`` point at."""
    import s3fs

    fs = s3fs.S3FileSystem(**storage_options)
    fs.put_file(str(path), url.removeprefix("s3://"))
