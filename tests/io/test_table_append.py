"""Mode 'a': rows added to stored tables (add_trial, add_unit, add_row) are appended in place, in one commit."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from tests.interop.every_object_files import new_file

from nwbzarr import NWBHDF5IO, NWBZarrIO, verify
from nwbzarr.errors import ValidationError
from nwbzarr.model import NWBFile, TimeSeries

hdmf_zarr = pytest.importorskip("hdmf_zarr")

#: the arrays a new trial and a new unit grow (relative to the store), and what every commit replaces
GROWN = {
    f"intervals/trials/{name}"
    for name in ("id", "start_time", "stop_time", "correct", "label", "tags", "tags_index", "weights")
} | {f"units/{name}" for name in ("id", "spike_times", "spike_times_index")}
COMMIT = {"zarr.json", "nwbzarr.json"}


def _session() -> NWBFile:
    nwbfile: NWBFile = new_file("nwbzarr")
    nwbfile.add_trial_column("correct", "whether the answer was right")
    nwbfile.add_trial_column("label", "the stimulus")
    nwbfile.add_trial_column("weights", "two weights per trial")
    for i in range(3):
        tags = ["a", "b"][: i % 2 + 1]
        nwbfile.add_trial(float(i), i + 0.5, correct=bool(i % 2), label=f"t{i}", tags=tags, weights=[i, -i])
    nwbfile.add_unit(spike_times=[0.1, 0.2])
    nwbfile.add_unit(spike_times=[0.3])
    nwbfile.add_acquisition(TimeSeries(name="speed", data=np.arange(6.0), unit="m/s", rate=1.0))
    return nwbfile


@pytest.fixture
def stored(tmp_path: Path) -> Path:
    path = tmp_path / "s.nwb.zarr"
    with NWBZarrIO(path, "w") as io:
        io.write(_session())
    return path


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _owner(key: str) -> str:
    """The array (or root) a stored file belongs to: ``units/id/c/0`` -> ``units/id``."""
    parts = key.split("/")
    for end in range(len(parts), 0, -1):
        if "/".join(parts[:end]) in GROWN:
            return "/".join(parts[:end])
    return key


def test_rows_added_in_mode_a_are_appended_in_place(stored: Path) -> None:
    before = snapshot(stored)
    with NWBZarrIO(stored, "a") as io:
        nwbfile = io.read()
        assert nwbfile.trials is not None and nwbfile.units is not None
        nwbfile.add_trial(5.0, 6.5, correct=True, label="new", tags=["z", "y", "x"], weights=[7, 8])
        nwbfile.add_trial(7.0, 8.0, correct=False, label="newer", tags=[], weights=[9, 10])
        nwbfile.add_unit(spike_times=[1.0, 2.0, 3.0])
        assert len(nwbfile.trials) == 5 and len(nwbfile.units) == 3  # before the write, the new rows count
        nwbfile.add_acquisition(TimeSeries(name="added", data=np.ones(3), unit="V", rate=1.0))  # same commit
        io.write(nwbfile)
        assert nwbfile.trials.to_dataframe()["label"].tolist() == ["t0", "t1", "t2", "new", "newer"]
    after = snapshot(stored)
    changed = {_owner(k) for k in after if before.get(k) != after[k]}
    new_objects = {k for k in changed if k.startswith("acquisition/added")}
    assert changed - new_objects == GROWN | COMMIT  # nothing else rewritten
    assert {k for k in before if k not in after} == set()
    assert verify(stored).ok  # the manifest covers the grown arrays
    expected = {
        "start_time": [0.0, 1.0, 2.0, 5.0, 7.0],
        "label": ["t0", "t1", "t2", "new", "newer"],
        "correct": [False, True, False, True, False],
        "tags": [["a"], ["a", "b"], ["a"], ["z", "y", "x"], []],
        "weights": [[0, 0], [1, -1], [2, -2], [7, 8], [9, 10]],
    }
    with NWBZarrIO(stored) as io:
        ours = io.read()
        assert ours.units is not None and ours.units.get_unit_spike_times(2).tolist() == [1.0, 2.0, 3.0]
        frames = [ours.trials.to_dataframe()]  # type: ignore[union-attr]
        with warnings.catch_warnings(), hdmf_zarr.NWBZarrIO(str(stored), mode="r") as zio:
            warnings.simplefilter("ignore")
            theirs = zio.read()
            frames.append(theirs.trials.to_dataframe())
            assert [list(x) for x in theirs.units["spike_times"][:]] == [[0.1, 0.2], [0.3], [1.0, 2.0, 3.0]]
            assert list(theirs.trials.id[:]) == [0, 1, 2, 3, 4]
            for frame in frames:
                for column, values in expected.items():
                    assert [np.asarray(v).tolist() for v in frame[column]] == values, column


def test_bad_rows_are_refused_naming_table_and_column(stored: Path) -> None:
    before = snapshot(stored)
    with NWBZarrIO(stored, "a") as io:
        nwbfile = io.read()
        trials = nwbfile.trials
        assert trials is not None
        with pytest.raises(ValidationError, match=r"TimeIntervals 'trials', field 'label': needs a value in every row"):
            nwbfile.add_trial(5.0, 6.0, correct=True, tags=[], weights=[1, 2])
        with pytest.raises(
            ValidationError, match=r"TimeIntervals 'trials', field 'start_time': row 0: expected a time in seconds"
        ):
            nwbfile.add_trial("soon", 6.0, correct=True, label="x", tags=[], weights=[1, 2])  # type: ignore[arg-type]
        with pytest.raises(ValidationError, match=r"TimeIntervals 'trials', column 'label': expected text"):
            nwbfile.add_trial(5.0, 6.0, correct=True, label=3, tags=[], weights=[1, 2])
        with pytest.raises(ValidationError, match=r"column 'weights': expected elements of shape \(2,\)"):
            nwbfile.add_trial(5.0, 6.0, correct=True, label="x", tags=[], weights=[1, 2, 3])
        with pytest.raises(ValidationError, match=r"Units 'units', field 'spike_times': expected numbers"):
            nwbfile.add_unit(spike_times=["late"])
        assert len(trials) == 3 and all(not c.pending for c in trials.columns.values())  # no half rows
        io.write(nwbfile)  # nothing to add: the tables are as stored
    after = snapshot(stored)
    assert {k: v for k, v in after.items() if k not in COMMIT} == {k: v for k, v in before.items() if k not in COMMIT}


def test_a_failed_append_leaves_the_store_as_it_was(stored: Path) -> None:
    before = snapshot(stored)
    with NWBZarrIO(stored, "a") as io:
        nwbfile = io.read()
        nwbfile.add_trial(5.0, 6.0, correct=True, label="new", tags=["z"], weights=[1, 2])
        trials = nwbfile.trials
        assert trials is not None
        # the last column to grow breaks after the others have grown (bypassing add_row's checks)
        trials.columns["weights"].pending[-1] = [1, 2, 3]
        with pytest.raises(ValidationError, match="new rows have shape"):
            io.write(nwbfile)
    after = snapshot(stored)
    assert {k: v for k, v in after.items() if k != "nwbzarr.json"} == {
        k: v for k, v in before.items() if k != "nwbzarr.json"
    }
    assert verify(stored).ok
    with NWBZarrIO(stored) as io:
        assert len(io.read().trials) == 3  # type: ignore[arg-type]


def test_rows_are_written_only_in_place_by_the_zarr_io_that_read_them(stored: Path, tmp_path: Path) -> None:
    with NWBZarrIO(stored, "r") as io:
        nwbfile = io.read()
        nwbfile.add_trial(5.0, 6.0, correct=True, label="new", tags=["z"], weights=[1, 2])
        with (
            pytest.raises(
                ValidationError, match=r"TimeIntervals 'trials', column '\w+' has rows added after it was read"
            ),
            NWBZarrIO(tmp_path / "copy.nwb.zarr", "w") as out,
        ):
            out.write(nwbfile)
    assert not (tmp_path / "copy.nwb.zarr" / "zarr.json").exists()
    h5 = tmp_path / "s.nwb"
    with NWBHDF5IO(h5, "w") as io:
        io.write(_session())
    with NWBHDF5IO(h5, "a") as io:
        nwbfile = io.read()
        nwbfile.add_unit(spike_times=[4.0])
        with pytest.raises(ValidationError, match="only a Zarr store grows them in place"):
            io.write(nwbfile)
    with NWBHDF5IO(h5) as io:
        assert len(io.read().units) == 2  # type: ignore[arg-type]


def test_offsets_too_large_for_the_stored_index_are_refused_before_storage(stored: Path) -> None:
    before = snapshot(stored)
    with NWBZarrIO(stored, "a") as io:
        nwbfile = io.read()
        nwbfile.add_trial(5.0, 6.0, correct=True, label="long", tags=[f"t{i}" for i in range(300)], weights=[1, 2])
        with pytest.raises(
            ValidationError, match=r"column 'tags_index': new offsets up to 304 do not fit its stored uint8"
        ):
            io.write(nwbfile)
    assert snapshot(stored) == before
