"""``NWBFile(...)`` takes PyNWB's constructor arguments: the same file by arguments in both libraries."""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np
import pytest
from tests.interop.every_object_files import check_both_ways

from nwbzarr.errors import DuplicateNameError, ValidationError
from nwbzarr.model import NWBFile, TimeIntervals, TimeSeries, Units
from nwbzarr.testing.tutorial import SESSION_START

pytest.importorskip("pynwb")
pytest.importorskip("hdmf_zarr")


def _table(mod: Any, name: str, rows: int) -> Any:
    table = mod["epoch"].TimeIntervals(name=name, description=f"the {name}")
    for i in range(rows):
        table.add_interval(start_time=float(i), stop_time=i + 0.5)
    return table


def _by_arguments(library: str) -> Any:
    """Every container argument of PyNWB's NWBFile constructor that holds model types."""
    mod = {n: importlib.import_module(f"{library}.{n}") for n in ("base", "epoch", "file", "misc")}
    top = importlib.import_module(library)
    units = mod["misc"].Units(name="units", description="sorted")
    units.add_unit(spike_times=[0.1, 0.4])
    module = mod["file"].ProcessingModule(name="behavior", description="behaviour")
    module.add(top.TimeSeries(name="speed", data=np.arange(4.0), unit="m/s", rate=2.0))
    return top.NWBFile(
        "a test session",
        "TEST-ID",
        SESSION_START,
        file_create_date=[SESSION_START],
        trials=_table(mod, "trials", 3),
        epochs=_table(mod, "epochs", 2),
        invalid_times=_table(mod, "invalid_times", 1),
        intervals=[_table(mod, "sleep", 2)],
        units=units,
        stimulus=[top.TimeSeries(name="tone", data=np.ones(3), unit="V", rate=1.0)],
        stimulus_template=[top.TimeSeries(name="tone_template", data=np.zeros(3), unit="V", rate=1.0)],
        analysis=[top.TimeSeries(name="fit", data=np.arange(2.0), unit="a.u.", rate=1.0)],
        scratch=[top.TimeSeries(name="draft", data=np.arange(2.0), unit="a.u.", rate=1.0)],
        lab_meta_data=[mod["file"].LabMetaData(name="rig")],
        processing=[module],
    )


def test_constructor_arguments_both_ways(tmp_path: Any) -> None:
    def same(ours: Any, theirs: Any) -> None:
        assert ours.trials is not None and len(ours.trials) == len(theirs.trials) == 3
        assert set(ours.intervals) == set(theirs.intervals) == {"trials", "epochs", "invalid_times", "sleep"}
        assert ours.units.get_unit_spike_times(0).tolist() == [0.1, 0.4]

    assert check_both_ways(_by_arguments, tmp_path, same) > 50
    nwbfile = _by_arguments("nwbzarr")
    assert nwbfile.trials is nwbfile.intervals["trials"] and nwbfile.trials.parent is nwbfile
    assert nwbfile.epochs is not None and len(nwbfile.epochs) == 2
    assert nwbfile.invalid_times is not None and nwbfile.units is not None and nwbfile.units.parent is nwbfile
    assert nwbfile.processing["behavior"]["speed"].parent is nwbfile.processing["behavior"]


def _file(**kwargs: Any) -> NWBFile:
    return NWBFile("s", "ID", SESSION_START, **kwargs)


def test_constructor_arguments_are_checked_as_the_add_methods_check() -> None:
    with pytest.raises(ValidationError, match=r"NWBFile 'root', field 'trials': expected TimeIntervals, got str"):
        _file(trials="trials")
    with pytest.raises(ValidationError, match=r"field 'epochs': must be named 'epochs', got 'trials'"):
        _file(epochs=TimeIntervals(name="trials", description="d"))
    with pytest.raises(DuplicateNameError, match=r"intervals: an object named 'trials' is already there"):
        _file(
            trials=TimeIntervals(name="trials", description="d"),
            intervals=[TimeIntervals(name="trials", description="e")],
        )
    with pytest.raises(ValidationError, match=r"field 'units': must be named 'units', got 'cells'"):
        _file(units=Units(name="cells", description="d"))
    with pytest.raises(ValidationError, match=r"field 'stimulus_template': expected TimeSeries or Images, got Units"):
        _file(stimulus_template=[Units(name="units", description="d")])
    with pytest.raises(ValidationError, match=r"field 'processing': expected ProcessingModule, got TimeSeries"):
        _file(processing=[TimeSeries(name="x", data=[1.0], unit="m", rate=1.0)])
    with pytest.raises(ValidationError, match=r"field 'intervals': expected TimeIntervals, got list"):
        _file(intervals=[[TimeIntervals(name="a", description="d")]])
