"""Time intervals (trials, epochs, invalid times) and references from table rows into TimeSeries."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from typing import Any, ClassVar, NamedTuple

import numpy as np

from nwbzarr.abc.array import LazyArray
from nwbzarr.model.base import neurodata_type
from nwbzarr.model.spec import attribute
from nwbzarr.model.table import DynamicTable, VectorData
from nwbzarr.model.timeseries import TimeSeries

__all__ = ["TIMESERIES_REFERENCE", "TimeIntervals", "TimeSeriesReference", "TimeSeriesReferenceVectorData"]

#: the stored compound of one reference: first sample, number of samples, the series
TIMESERIES_REFERENCE = np.dtype([("idx_start", "<i4"), ("count", "<i4"), ("timeseries", object)])


class TimeSeriesReference(NamedTuple):
    """A run of samples of a TimeSeries (PyNWB's ``TimeSeriesReference``); ``idx_start=-1`` means none."""

    idx_start: int
    count: int  # type: ignore[assignment]  # PyNWB names the field after tuple.count
    timeseries: TimeSeries

    @property
    def timestamps(self) -> np.ndarray:
        """The times of the referenced samples."""
        return self.timeseries.get_timestamps()[self.idx_start : self.idx_start + self.count]

    @property
    def data(self) -> Any:
        """The referenced samples (reads only them from a lazy series)."""
        return self.timeseries.data[self.idx_start : self.idx_start + self.count]


@neurodata_type("core")
class TimeSeriesReferenceVectorData(VectorData):
    """A column of (idx_start, count, timeseries) references: a trial's samples in each series."""

    name: str = "timeseries"
    description: str = attribute(default="index into a TimeSeries object")

    #: the decoder resolves stored references to the series themselves
    RESOLVES_REFERENCES: ClassVar[bool] = True

    def _validate(self) -> None:
        if self.dtype is None:
            self.dtype = TIMESERIES_REFERENCE
        structured = isinstance(self.data, np.ndarray) and self.data.dtype.names
        if not isinstance(self.data, LazyArray) and not structured:
            self.data = [self._reference(cell) for cell in self.data]
        super()._validate()

    def _reference(self, cell: Any) -> TimeSeriesReference:
        if isinstance(cell, TimeSeriesReference):
            return cell
        if not (hasattr(cell, "__len__") and len(cell) == 3 and isinstance(cell[2], TimeSeries)):
            raise self._fail("data", f"each entry must be (idx_start, count, TimeSeries), got {cell!r}"[:200])
        return TimeSeriesReference(int(cell[0]), int(cell[1]), cell[2])

    def append(self, value: Any) -> None:
        """Append one (idx_start, count, TimeSeries) reference."""
        super().append(self._reference(value))


def sample_range(start_time: float, stop_time: float, series: TimeSeries) -> TimeSeriesReference:
    """The samples of ``series`` in [start, stop), computed as PyNWB does."""
    if series.rate is not None and series.starting_time is not None:
        first = int((start_time - series.starting_time) * series.rate)
        last = int((stop_time - series.starting_time) * series.rate)
    elif series.timestamps is not None and len(series.timestamps):
        times = np.asarray(series.timestamps[:])
        first, last = bisect_left(times, start_time), bisect_left(times, stop_time)
    else:
        raise series._fail("timestamps", "the series has neither timestamps nor rate: no samples to refer to")
    return TimeSeriesReference(int(first), int(last - first), series)


_COLUMNS = {
    "start_time": "Start time of epoch, in seconds",
    "stop_time": "Stop time of epoch, in seconds",
    "tags": "user-defined tags",
    "timeseries": "index into a TimeSeries object",
}


@neurodata_type("core")
class TimeIntervals(DynamicTable):
    """Intervals of time (trials, epochs...): ``start_time``, ``stop_time``, optional ``tags`` and ``timeseries``."""

    description: str = attribute(default="experimental intervals")

    def _validate(self) -> None:
        super()._validate()
        for name in ("start_time", "stop_time"):
            if name not in self.columns:
                self.add_column(name, _COLUMNS[name])
        starts, stops = self.columns["start_time"].data, self.columns["stop_time"].data
        if isinstance(starts, list) and isinstance(stops, list):
            self._check_order(starts, stops)

    def _check_order(self, starts: Sequence[Any], stops: Sequence[Any]) -> None:
        for row, (start, stop) in enumerate(zip(starts, stops, strict=False)):
            for name, value in (("start_time", start), ("stop_time", stop)):
                if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
                    raise self._fail(name, f"row {row}: expected a time in seconds (a number), got {value!r}")
            if float(stop) < float(start):
                raise self._fail("stop_time", f"row {row}: stop_time {stop} is before start_time {start}")

    def add_column(
        self, name: str, description: str | None = None, *, index: bool | int = False, **kwargs: Any
    ) -> VectorData:
        """Add a column; ``tags`` and ``timeseries`` get their predefined kind and description."""
        if name == "timeseries":
            kwargs.setdefault("col_cls", TimeSeriesReferenceVectorData)
            index = True
        elif name == "tags":
            index = True
        return super().add_column(name, description or _COLUMNS.get(name, name), index=index, **kwargs)

    def add_interval(
        self,
        start_time: float,
        stop_time: float,
        tags: str | Sequence[str] | None = None,
        timeseries: TimeSeries | Sequence[TimeSeries | TimeSeriesReference] | None = None,
        **columns: Any,
    ) -> None:
        """Add one interval (PyNWB's signature); ``tags`` may be a comma-separated string."""
        self._check_order([start_time], [stop_time])
        if tags is not None:
            if isinstance(tags, str):
                tags = [t.strip() for t in tags.split(",") if not t.isspace()]
            if "tags" not in self.columns and not len(self):
                self.add_column("tags")
            columns["tags"] = list(tags)
        if timeseries is not None and not (isinstance(timeseries, Sequence) and not timeseries):
            items = [timeseries] if isinstance(timeseries, TimeSeries) else list(timeseries)
            refs = [
                ts if isinstance(ts, TimeSeriesReference) else sample_range(start_time, stop_time, ts) for ts in items
            ]
            if "timeseries" not in self.columns and not len(self):
                self.add_column("timeseries")
            columns["timeseries"] = refs
        self.add_row(start_time=float(start_time), stop_time=float(stop_time), **columns)

    add_trial = add_interval
    add_epoch = add_interval

    @property
    def start_time(self) -> VectorData:
        """The ``start_time`` column."""
        return self.columns["start_time"]

    @property
    def stop_time(self) -> VectorData:
        """The ``stop_time`` column."""
        return self.columns["stop_time"]

    def intervals(self) -> np.ndarray:
        """(n, 2) start and stop times of every row (reads both columns)."""
        return np.stack([self.start_time.as_array(), self.stop_time.as_array()], axis=1).astype(np.float64)
