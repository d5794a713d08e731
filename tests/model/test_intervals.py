"""Trials, epochs, invalid times and custom TimeIntervals: PyNWB's calls, values equal both ways."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tests.interop.compare import assert_cell_equal
from tests.interop.every_object_files import check_both_ways, new_file

from nwbzarr import NWBZarrIO, TimeSeries
from nwbzarr.epoch import TimeIntervals
from nwbzarr.errors import ValidationError
from nwbzarr.model import NWBFile, TimeSeriesReference

pytest.importorskip("pynwb")
pytest.importorskip("hdmf_zarr")


def _intervals(library: str) -> Any:
    import importlib

    nwbfile = new_file(library)
    top = importlib.import_module(library)
    speed = top.TimeSeries(name="speed", data=np.arange(50.0), unit="m/s", rate=10.0)
    licks = top.TimeSeries(name="licks", data=np.ones(4), unit="n", timestamps=[0.2, 1.1, 2.4, 3.9])
    nwbfile.add_acquisition(speed)
    nwbfile.add_acquisition(licks)
    nwbfile.add_trial_column("correct", "whether the answer was right")
    for i in range(4):
        nwbfile.add_trial(
            start_time=float(i),
            stop_time=i + 0.8,
            correct=bool(i % 2),
            tags=f"block{i // 2}, go",
            timeseries=[speed, licks],
        )
    nwbfile.add_epoch(start_time=0.0, stop_time=2.0, tags=["awake"], timeseries=speed)
    nwbfile.add_invalid_time_interval(start_time=3.0, stop_time=3.5)
    sleep = importlib.import_module(f"{library}.epoch").TimeIntervals(name="sleep", description="sleep bouts")
    sleep.add_column("depth", "sleep depth")
    sleep.add_interval(start_time=10.0, stop_time=20.0, depth=2)
    nwbfile.add_time_intervals(sleep)
    return nwbfile


def _same_frames(ours: Any, theirs: Any) -> None:
    for name in ("trials", "epochs", "invalid_times", "sleep"):
        mine, their = ours.intervals[name].to_dataframe(), theirs.intervals[name].to_dataframe()
        assert list(mine.columns) == list(their.columns) and list(mine.index) == list(their.index)
        for column in mine.columns:
            for x, y in zip(mine[column], their[column], strict=True):
                assert_cell_equal(x, y, f"{name}[{column}]")
    refs = ours.trials.to_dataframe()["timeseries"].iloc[2]
    assert [(r.idx_start, r.count, r.timeseries.name) for r in refs] == [(20, 8, "speed"), (2, 1, "licks")]
    assert np.array_equal(refs[0].data, np.arange(20.0, 28.0))
    assert list(ours.trials.to_dataframe()["tags"].iloc[3]) == ["block1", "go"]


def test_intervals_both_ways(tmp_path: Path) -> None:
    assert check_both_ways(_intervals, tmp_path, _same_frames) > 100


def test_trial_names_and_members() -> None:
    nwbfile = _intervals("nwbzarr")
    assert isinstance(nwbfile.trials, TimeIntervals) and nwbfile.trials.name == "trials"
    assert nwbfile.trials.colnames == ("start_time", "stop_time", "correct", "tags", "timeseries")
    assert set(nwbfile.intervals) == {"trials", "epochs", "invalid_times", "sleep"}
    assert nwbfile.get_time_intervals("sleep") is nwbfile.intervals["sleep"]
    assert nwbfile.trials.intervals().tolist()[1] == [1.0, 1.8]
    assert isinstance(nwbfile.epochs.cell("timeseries", 0)[0], TimeSeriesReference)  # type: ignore[union-attr]


def test_stop_before_start_is_refused_and_nothing_written(tmp_path: Path) -> None:
    nwbfile = _intervals("nwbzarr")
    with pytest.raises(ValidationError, match=r"TimeIntervals 'trials', field 'stop_time'.*before start_time"):
        nwbfile.add_trial(start_time=5.0, stop_time=4.0, correct=True, tags="x", timeseries=[])
    assert len(nwbfile.trials) == 4  # type: ignore[arg-type]
    nwbfile.trials.columns["stop_time"].data[1] = 0.5  # type: ignore[union-attr]  # changed after the fact
    with (
        pytest.raises(ValidationError, match=r"'trials', field 'stop_time': row 1"),
        NWBZarrIO(tmp_path / "x.nwb.zarr", "w") as io,
    ):
        io.write(nwbfile)
    assert not (tmp_path / "x.nwb.zarr" / "intervals").exists()


def test_a_trials_table_added_in_mode_a(tmp_path: Path, tutorial_file: NWBFile) -> None:
    import hdmf_zarr

    path = tmp_path / "s.nwb.zarr"
    with NWBZarrIO(path, "w") as io:
        io.write(tutorial_file)
    with NWBZarrIO(path, "a") as io:
        nwbfile = io.read()
        series = nwbfile.acquisition["TwoPhotonSeries1"]
        assert isinstance(series, TimeSeries)
        nwbfile.add_trial(start_time=1.0, stop_time=3.0, timeseries=[series])
        io.write(nwbfile)
    with hdmf_zarr.NWBZarrIO(str(path), mode="r") as io:
        trials = io.read().trials
        assert list(trials.start_time[:]) == [1.0]
        ref = trials.to_dataframe()["timeseries"].iloc[0][0]
        assert (ref.idx_start, ref.count, ref.timeseries.name) == (1, 2, "TwoPhotonSeries1")
    with NWBZarrIO(path) as io:
        assert io.read().trials.cell("timeseries", 0)[0].timeseries.name == "TwoPhotonSeries1"  # type: ignore[union-attr]


def test_plot_shades_the_trials_behind_the_traces() -> None:
    pytest.importorskip("matplotlib")
    from nwbzarr.display.plot import summary_figure
    from nwbzarr.testing.tutorial import build_tutorial_file

    nwbfile = build_tutorial_file(frames=20, size=16)
    for start, stop in ((0.2, 0.5), (1.0, 1.4), (10.0, 11.0)):  # the traces last 1.6 s: the last is not shown
        nwbfile.add_trial(start_time=start, stop_time=stop)
    figure, report = summary_figure(nwbfile)
    assert report.trials_shaded == 2 and report.to_json()["trials_shaded"] == 2
    bands = [p for ax in figure.axes for p in ax.patches if p.get_gid() == "trial"]
    assert len(bands) == 2 * 3  # behind fluorescence, dF/F and the raster
    nwbfile.intervals._items.pop("trials")
    assert summary_figure(nwbfile)[1].trials_shaded == 0
