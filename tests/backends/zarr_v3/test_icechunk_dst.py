"""``convert`` into an icechunk session (issue 18): committed snapshots that nwbzarr, PyNWB and hdmf-zarr read."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nwbzarr import NWBHDF5IO, NWBZarrIO
from nwbzarr.errors import StoreExistsError
from nwbzarr.model import TimeSeries
from nwbzarr.operations.convert import convert
from nwbzarr.testing.tutorial import build_tutorial_file

icechunk = pytest.importorskip("icechunk")


@pytest.fixture
def source(tmp_path: Path) -> Path:
    nwbfile = build_tutorial_file(frames=24, size=16, seed=7)
    nwbfile.add_acquisition(TimeSeries(name="movie", data=np.arange(40 * 8 * 8).reshape(40, 8, 8), unit="n", rate=2.0))
    path = tmp_path / "session.nwb"
    with NWBHDF5IO(path, "w") as io:
        io.write(nwbfile)
    return path


def test_a_conversion_into_icechunk_commits_a_snapshot_that_everyone_reads(source: Path, tmp_path: Path) -> None:
    repo = icechunk.Repository.create(icechunk.local_filesystem_storage(str(tmp_path / "repo")))
    session = repo.writable_session("main")
    assert convert(source, session.store) is None  # no nwbzarr manifest to verify: icechunk's commit is the check
    snapshot = session.commit("session converted")
    expected = np.arange(40 * 8 * 8).reshape(40, 8, 8)
    with NWBZarrIO(repo.readonly_session(snapshot_id=snapshot).store, "r") as io:
        np.testing.assert_array_equal(np.asarray(io.read().acquisition["movie"].data[:]), expected)
    from hdmf_zarr.nwb import NWBZarrIO as HdmfZarrIO

    with HdmfZarrIO(repo.readonly_session(branch="main").store, "r") as io:
        theirs = io.read()
        np.testing.assert_array_equal(np.asarray(theirs.acquisition["movie"].data[:]), expected)
        assert theirs.acquisition["TwoPhotonSeries1"].data.shape[0] == 24


def test_a_session_holding_nodes_is_replaced_only_when_asked(source: Path, tmp_path: Path) -> None:
    repo = icechunk.Repository.create(icechunk.local_filesystem_storage(str(tmp_path / "repo")))
    session = repo.writable_session("main")
    convert(source, session.store)
    first = session.commit("first")
    session = repo.writable_session("main")
    with pytest.raises(StoreExistsError, match="overwrite=True"):
        convert(source, session.store)
    convert(source, session.store, overwrite=True, compression="lz4")
    session.commit("second")
    with NWBZarrIO(repo.readonly_session(snapshot_id=first).store, "r") as io:  # the first snapshot is intact
        assert io.read().acquisition["movie"].data.shape == (40, 8, 8)
