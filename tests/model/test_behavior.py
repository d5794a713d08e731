"""Behaviour: every container and series type of the behavior schema, values equal both ways."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tests.interop.every_object_files import check_both_ways, new_file

from nwbzarr import NWBZarrIO, TimeSeries
from nwbzarr.behavior import BehavioralTimeSeries, Position, SpatialSeries
from nwbzarr.errors import ValidationError
from nwbzarr.misc import AnnotationSeries, IntervalSeries
from nwbzarr.model import NWBFile

pytest.importorskip("pynwb")
pytest.importorskip("hdmf_zarr")


def _behavior(library: str) -> Any:
    nwbfile = new_file(library)
    behavior = importlib.import_module(f"{library}.behavior")
    misc = importlib.import_module(f"{library}.misc")
    top = importlib.import_module(library)
    rng = np.random.default_rng(5)
    module = nwbfile.create_processing_module(name="behavior", description="behaviour")
    position = behavior.Position()
    position.create_spatial_series(
        name="xy", data=rng.random((30, 2)), reference_frame="arena corner", timestamps=np.arange(30) / 30.0
    )
    position.add_spatial_series(behavior.SpatialSeries(name="z", data=rng.random(30), rate=30.0, unit="cm"))
    module.add(position)
    module.add(
        behavior.CompassDirection(
            spatial_series=behavior.SpatialSeries(
                name="heading", data=rng.random(30), unit="radians", rate=30.0, reference_frame="north"
            )
        )
    )
    module.add(
        behavior.EyeTracking(
            spatial_series=behavior.SpatialSeries(
                name="gaze", data=rng.random((20, 2)), unit="degrees", rate=20.0, reference_frame="screen centre"
            )
        )
    )
    speed = behavior.BehavioralTimeSeries(name="running")
    speed.create_timeseries(name="speed", data=rng.random(40), unit="cm/s", rate=40.0, description="wheel")
    module.add(speed)
    module.add(
        behavior.PupilTracking(time_series=top.TimeSeries(name="radius", data=rng.random(10), unit="mm", rate=10.0))
    )
    module.add(
        behavior.BehavioralEvents(
            time_series=top.TimeSeries(name="rewards", data=np.array([0.1, 0.2]), unit="ml", timestamps=[1.0, 3.0])
        )
    )
    states = misc.IntervalSeries(name="running_bouts", description="wheel running", data=[], timestamps=[])
    states.add_interval(0.5, 1.5)
    states.add_interval(2.0, 4.0)
    module.add(behavior.BehavioralEpochs(interval_series=states))
    notes = misc.AnnotationSeries(name="observer_notes", data=[], timestamps=[])
    notes.add_annotation(0.5, "grooming")
    notes.add_annotation(2.0, "asleep")
    nwbfile.add_acquisition(notes)
    return nwbfile


def test_behavior_both_ways(tmp_path: Path) -> None:
    def same(ours: Any, theirs: Any) -> None:
        module = ours.processing["behavior"]
        assert set(module.data_interfaces) == set(theirs.processing["behavior"].data_interfaces)
        xy = module["Position"]["xy"]
        assert np.array_equal(xy.data[:], theirs.processing["behavior"]["Position"]["xy"].data[:])
        assert module["BehavioralEpochs"].get_interval_series().timestamps[:].tolist() == [0.5, 1.5, 2.0, 4.0]
        assert list(ours.acquisition["observer_notes"].data) == ["grooming", "asleep"]

    assert check_both_ways(_behavior, tmp_path, same) > 100


def test_pynwb_spellings() -> None:
    position = Position(spatial_series=SpatialSeries(name="xy", data=np.ones((3, 2)), rate=1.0))
    assert position.get_spatial_series() is position["xy"] and position.spatial_series["xy"].unit == "meters"
    series = BehavioralTimeSeries()
    created = series.create_timeseries(name="speed", data=np.ones(3), unit="m/s", rate=1.0)
    assert series.get_timeseries("speed") is created and series.name == "BehavioralTimeSeries"
    with pytest.raises(AttributeError):
        series.add_spatial_series  # noqa: B018


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: SpatialSeries(name="p", data=np.ones((3, 4)), rate=1.0), r"'data': has 4 spatial components"),
        (lambda: SpatialSeries(name="p", data=np.ones((3, 2, 2, 2, 2)), rate=1.0), r"'data': must be 1 or 2-D"),
        (lambda: IntervalSeries(name="i", data=[1], timestamps=[0.0], unit="s"), r"'unit': is fixed to 'n/a'"),
        (lambda: AnnotationSeries(name="a", data=["x", "y"], timestamps=[0.0]), r"'timestamps': has 1 entries"),
        (lambda: Position(spatial_series=TimeSeries(name="t", data=[1.0], unit="m", rate=1.0)), r"expected Spatial"),
    ],
)
def test_bad_behaviour_is_refused(build: Any, match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        build()


def test_a_behavior_series_added_in_mode_a(tmp_path: Path, tutorial_file: NWBFile) -> None:
    import hdmf_zarr

    path = tmp_path / "s.nwb.zarr"
    with NWBZarrIO(path, "w") as io:
        io.write(tutorial_file)
    with NWBZarrIO(path, "a") as io:
        nwbfile = io.read()
        module = nwbfile.create_processing_module(name="behavior", description="behaviour")
        module.add(Position(spatial_series=SpatialSeries(name="xy", data=np.ones((5, 2)), rate=5.0)))
        io.write(nwbfile)
    with hdmf_zarr.NWBZarrIO(str(path), mode="r") as io:
        theirs = io.read()
        assert theirs.processing["behavior"]["Position"]["xy"].data[:].tolist() == [[1.0, 1.0]] * 5
        assert set(theirs.processing) == {"ophys", "behavior"}
