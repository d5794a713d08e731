"""The default layout and its presets serve the reads they promise, measured in requests and bytes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from zarr.storage import LocalStore

from nwbzarr import DataIO, NWBZarrIO
from nwbzarr.model import NWBFile, TimeSeries
from nwbzarr.testing.counting import CountingStore
from nwbzarr.testing.synthetic import SyntheticSession
from nwbzarr.testing.tutorial import build_tutorial_file
from nwbzarr.writing.policy import default_layout

FRAMES, SIZE = 256, 256  # 32 MiB of uint16: sharded by the policy


@pytest.fixture(scope="module")
def movie() -> np.ndarray:
    return SyntheticSession(n_frames=FRAMES, height=SIZE, width=SIZE, n_cells=40).frames(0, FRAMES)


def _written(path: Path, movie: np.ndarray, access: str) -> int:
    nwbfile = build_tutorial_file(frames=4, size=8)
    assert isinstance(nwbfile, NWBFile)
    nwbfile.add_acquisition(TimeSeries(name="movie", data=DataIO(movie, access=access), unit="n", rate=30.0))  # type: ignore[arg-type]
    with NWBZarrIO(path, "w") as io:
        io.write(nwbfile)
    return sum(p.stat().st_size for p in (path / "acquisition" / "movie" / "data" / "c").rglob("*") if p.is_file())


@pytest.mark.parametrize(
    ("access", "frame_bytes", "trace_bytes", "trace_requests"),
    [("balanced", 4.0, 5.0, FRAMES // 3 + 2), ("frames", 1.5, 70.0, 3), ("traces", 70.0, 1.5, 3)],
)
def test_each_preset_serves_its_reads(
    tmp_path: Path, movie: np.ndarray, access: str, frame_bytes: float, trace_bytes: float, trace_requests: int
) -> None:
    path = tmp_path / f"{access}.nwb.zarr"
    stored = _written(path, movie, access)
    frame_share = stored / FRAMES
    trace_share = stored * (32 * 32 * FRAMES) / movie.size
    store = CountingStore(LocalStore(path, read_only=True))
    with NWBZarrIO(store, "r") as io:
        data = io.read().acquisition["movie"].data  # type: ignore[attr-defined]
        store.reset()
        assert np.array_equal(data[100], movie[100])
        frame = (store.chunk_gets, store.bytes_read)
        store.reset()
        assert np.array_equal(data[:, 96:128, 96:128], movie[:, 96:128, 96:128])
        trace = (store.chunk_gets, store.bytes_read)
        store.reset()
        assert np.array_equal(data[:], movie)  # whole shards: nwbzarr's own reader, one request a shard
        shards = [p for p in (path / "acquisition" / "movie" / "data" / "c").rglob("*") if p.is_file()]
        assert store.chunk_gets == len(shards)
    # measured: balanced 2 requests/3.4x (frame), 87/4.2x (time course: a ranged read per 3-frame slab, all sent
    # at once); frames 2/1.3x, 2/64x; traces 128/64x, 1/1.0x
    assert frame[0] <= 3 or access == "traces", frame  # a shard index and one coalesced range
    assert frame[1] <= frame_bytes * frame_share, (frame[1] / frame_share, access)
    assert trace[0] <= trace_requests, trace
    assert trace[1] <= trace_bytes * trace_share, (trace[1] / trace_share, access)


def test_object_counts_stay_in_the_hundreds_to_thousands() -> None:
    dtype = np.dtype("uint16")
    for shape, most in (((3000, 512, 512), 300), ((190_000, 512, 512), 3000)):  # 1.6 GB and 100 GB
        for access in ("balanced", "frames", "traces"):
            layout = default_layout(shape, dtype, access)  # type: ignore[arg-type]
            assert layout.shards is not None
            objects = np.prod([-(-n // s) for n, s in zip(shape, layout.shards, strict=True)])
            assert objects <= most, (shape, access, objects)


def test_an_unknown_preset_is_refused() -> None:
    with pytest.raises(ValueError, match="access must be"):
        DataIO(np.zeros((2, 2)), access="sideways")  # type: ignore[arg-type]
