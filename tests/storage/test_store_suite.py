"""One store suite, run on memory, local disk and the S3 test server alike."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from nwbzarr import NWBZarrIO, verify
from nwbzarr.errors import NWBZarrError, ReadOnlyError, StoreExistsError, StoreNotFoundError
from nwbzarr.model import NWBFile, TimeSeries

Target = tuple[str, dict[str, Any] | None]


def _write(target: Target, nwbfile: NWBFile, mode: str = "w") -> None:
    with NWBZarrIO(target[0], mode, storage_options=target[1]) as io:
        io.write(nwbfile)


def test_round_trip(store_target: Target, tutorial_file: NWBFile) -> None:
    _write(store_target, tutorial_file)
    with NWBZarrIO(store_target[0], "r", storage_options=store_target[1]) as io:
        back = io.read()
        assert back == tutorial_file
        movie = np.asarray(tutorial_file.acquisition["TwoPhotonSeries1"].data)  # type: ignore[attr-defined]
        assert np.array_equal(back.acquisition["TwoPhotonSeries1"].data[7, 3:9], movie[7, 3:9])  # type: ignore[attr-defined]
    assert verify(store_target[0], storage_options=store_target[1]).ok


def test_append(store_target: Target, tutorial_file: NWBFile) -> None:
    _write(store_target, tutorial_file)
    with NWBZarrIO(store_target[0], "a", storage_options=store_target[1]) as io:
        nwbfile = io.read()
        nwbfile.add_acquisition(TimeSeries(name="speed", data=np.arange(4.0), unit="m/s", rate=10.0))
        io.write(nwbfile)
    with NWBZarrIO(store_target[0], "a", storage_options=store_target[1]) as io:
        io.append_frames(io.read().acquisition["speed"], np.arange(4.0, 6.0))  # type: ignore[arg-type]
    with NWBZarrIO(store_target[0], "r", storage_options=store_target[1]) as io:
        assert list(io.read().acquisition["speed"].data[:]) == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]  # type: ignore[attr-defined]


def test_modes(store_target: Target, tutorial_file: NWBFile) -> None:
    with pytest.raises(StoreNotFoundError):
        NWBZarrIO(store_target[0], "r", storage_options=store_target[1]).read()
    _write(store_target, tutorial_file)
    with pytest.raises(StoreExistsError):
        NWBZarrIO(store_target[0], "w-", storage_options=store_target[1])
    with NWBZarrIO(store_target[0], "r", storage_options=store_target[1]) as io, pytest.raises(ReadOnlyError):
        io.write(tutorial_file)


def test_storage_options_that_would_be_ignored_are_errors(tmp_path: Any) -> None:
    with pytest.raises(NWBZarrError, match="ignored"):
        NWBZarrIO(tmp_path / "x.nwb.zarr", "w", storage_options={"anon": True})
