"""Writes larger than memory: frame streams of unknown length, and frames appended in mode 'a'."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from nwbzarr import NWBZarrIO
from nwbzarr.errors import ValidationError
from nwbzarr.model import NWBFile, TimeSeries, TwoPhotonSeries
from nwbzarr.operations.verify import verify
from nwbzarr.writing.streams import FrameStream


def _frames(n: int, shape: tuple[int, int] = (64, 64), start: int = 0) -> Iterator[np.ndarray]:
    for i in range(start, start + n):
        yield np.full(shape, i % 60000, dtype=np.uint16)


def test_stream_of_unknown_length(tutorial_file: NWBFile, store_path: Path) -> None:
    plane = tutorial_file.imaging_planes["ImagingPlane"]
    blocks = (np.stack(list(_frames(7, start=7 * b))) for b in range(37))
    tutorial_file.add_acquisition(
        TwoPhotonSeries(name="live", data=FrameStream(blocks, blocks=True), imaging_plane=plane, rate=30.0)
    )
    with NWBZarrIO(store_path, "w") as io:
        io.write(tutorial_file)
    with NWBZarrIO(store_path) as io:
        data = io.read().acquisition["live"].data  # type: ignore[attr-defined]
        assert data.shape == (259, 64, 64)
        assert [int(data[i, 3, 3]) for i in (0, 38, 258)] == [0, 38, 258]


def test_stream_memory_stays_bounded(tutorial_file: NWBFile, store_path: Path) -> None:
    plane = tutorial_file.imaging_planes["ImagingPlane"]
    n, shape = 2000, (128, 128)  # 62.5 MiB in all, written from one frame at a time
    from nwbzarr import DataIO

    tutorial_file.add_acquisition(
        TwoPhotonSeries(
            name="long",
            data=DataIO(FrameStream(_frames(n, shape), n_frames=n), chunks=(8, 64, 64), shards=(64, 128, 128)),
            imaging_plane=plane,
            rate=30.0,
        )
    )
    tracemalloc.start()
    with NWBZarrIO(store_path, "w") as io:
        io.write(tutorial_file)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    movie_bytes = n * shape[0] * shape[1] * 2
    assert peak < movie_bytes / 4, f"peak {peak / 2**20:.1f} MiB for a {movie_bytes / 2**20:.1f} MiB movie"
    with NWBZarrIO(store_path) as io:
        assert int(io.read().acquisition["long"].data[1999, 0, 0]) == 1999  # type: ignore[attr-defined]


def test_stream_frame_count_is_checked(tutorial_file: NWBFile, store_path: Path) -> None:
    plane = tutorial_file.imaging_planes["ImagingPlane"]
    tutorial_file.add_acquisition(
        TwoPhotonSeries(name="short", data=FrameStream(_frames(5), n_frames=9), imaging_plane=plane, rate=30.0)
    )
    with pytest.raises(ValidationError, match="5 frames arrived, 9 were announced"), NWBZarrIO(store_path, "w") as io:
        io.write(tutorial_file)
    assert not store_path.exists()


def test_append_frames_in_mode_a(tutorial_file: NWBFile, store_path: Path) -> None:
    plane = tutorial_file.imaging_planes["ImagingPlane"]
    tutorial_file.add_acquisition(
        TwoPhotonSeries(name="live", data=np.stack(list(_frames(10))), imaging_plane=plane, rate=30.0)
    )
    tutorial_file.add_acquisition(TimeSeries(name="stamps", data=np.arange(3.0), unit="V", timestamps=[0.0, 0.1, 0.2]))
    with NWBZarrIO(store_path, "w") as io:
        io.write(tutorial_file)
    with NWBZarrIO(store_path, "a") as io:
        nwbfile = io.read()
        series = nwbfile.acquisition["live"]
        assert isinstance(series, TwoPhotonSeries)
        io.append_frames(series, FrameStream(_frames(25, start=10)))
        io.append_frames(series, np.stack(list(_frames(5, start=35))))
        assert series.data.shape == (40, 64, 64)
        stamped = nwbfile.acquisition["stamps"]
        assert isinstance(stamped, TimeSeries)
        with pytest.raises(ValidationError, match="pass timestamps="):
            io.append_frames(stamped, np.arange(2.0))
        io.append_frames(stamped, np.arange(3.0, 5.0), timestamps=[0.3, 0.4])
    with NWBZarrIO(store_path) as io:
        back = io.read()
        data = back.acquisition["live"].data  # type: ignore[attr-defined]
        assert data.shape == (40, 64, 64) and [int(data[i, 0, 0]) for i in range(40)] == list(range(40))
        assert list(back.acquisition["stamps"].timestamps[:]) == [0.0, 0.1, 0.2, 0.3, 0.4]  # type: ignore[attr-defined]
    assert verify(store_path).ok
