"""Units: ragged spike times and observation intervals, extra columns; values equal both ways."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tests.interop.compare import assert_cell_equal
from tests.interop.every_object_files import check_both_ways, new_file

from nwbzarr import NWBHDF5IO
from nwbzarr.errors import ValidationError
from nwbzarr.misc import Units

pytest.importorskip("pynwb")
pytest.importorskip("hdmf_zarr")

SPIKES = [np.array([0.1, 0.25, 0.9]), np.array([0.4]), np.array([0.05, 0.3, 0.31, 0.7, 1.2])]


def _units(library: str) -> Any:
    nwbfile = new_file(library)
    nwbfile.add_unit_column("quality", "sorting quality")
    nwbfile.add_unit_column("snr", "signal to noise")
    for i, spikes in enumerate(SPIKES):
        nwbfile.add_unit(
            spike_times=spikes, obs_intervals=[[0.0, 1.0], [1.1, 2.0]][: i + 1], quality="good", snr=2.5 * i, id=10 + i
        )
    nwbfile.units.resolution = 1e-5
    return nwbfile


def _same(ours: Any, theirs: Any) -> None:
    mine, their = ours.units.to_dataframe(), theirs.units.to_dataframe()
    assert list(mine.index) == list(their.index) == [10, 11, 12]
    assert list(mine.columns) == list(their.columns) == ["quality", "snr", "spike_times", "obs_intervals"]
    for column in mine.columns:
        for x, y in zip(mine[column], their[column], strict=True):
            assert_cell_equal(x, y, column)
    assert np.array_equal(ours.units.get_unit_spike_times(2), theirs.units.get_unit_spike_times(2))
    assert ours.units.resolution == theirs.units.resolution == 1e-5


def test_units_both_ways(tmp_path: Path) -> None:
    assert check_both_ways(_units, tmp_path, _same) > 20


def test_units_table_is_typed() -> None:
    nwbfile = _units("nwbzarr")
    assert isinstance(nwbfile.units, Units) and nwbfile.units.name == "units"
    assert np.asarray(nwbfile.units.cell("obs_intervals", 1)).tolist() == [[0.0, 1.0], [1.1, 2.0]]
    assert nwbfile.units["spike_times"].index is not None


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda f: f.add_unit(spike_times=[[0.1, 0.2]], quality="x", snr=1.0), r"'spike_times': must be 1-D"),
        (lambda f: f.add_unit(spike_times=[0.1], obs_intervals=[1.0, 2.0], quality="x", snr=1.0), r"'obs_intervals'"),
        (lambda f: f.add_unit(spike_times=[0.1], obs_intervals=[[2.0, 1.0]], quality="x", snr=1.0), r"stops before"),
        (lambda f: f.add_unit_column("depth", "um", data=[1.0, 2.0]), r"'depth': has 2 values but the table has 3"),
        (lambda f: f.add_unit(spike_times=[0.1], obs_intervals=[[0, 1]], quality="x"), r"'snr': needs a value"),
    ],
)
def test_bad_units_are_refused(call: Any, match: str) -> None:
    nwbfile = _units("nwbzarr")
    with pytest.raises(ValidationError, match=match):
        call(nwbfile)
    assert len(nwbfile.units) == 3


def test_a_column_of_the_wrong_length_writes_nothing(tmp_path: Path) -> None:
    nwbfile = _units("nwbzarr")
    nwbfile.units.columns["snr"].data = [1.0, 2.0]  # changed after the table was built
    path = tmp_path / "bad.nwb"
    with (
        pytest.raises(ValidationError, match=r"Units 'units', field 'snr': has 2 rows but the table has 3"),
        NWBHDF5IO(path, "w") as io,
    ):
        io.write(nwbfile)
    assert not path.exists()
    assert importlib.import_module("nwbzarr.misc").Units is Units
