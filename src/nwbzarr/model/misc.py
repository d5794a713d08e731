"""Series of marks rather than measurements: intervals (on/off codes) and text annotations."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from nwbzarr.model.base import neurodata_type
from nwbzarr.model.spec import attribute, dataset
from nwbzarr.model.timeseries import TimeSeries

__all__ = ["AnnotationSeries", "IntervalSeries"]


@dataclasses.dataclass(kw_only=True, eq=False, repr=False)
class _MarkSeries(TimeSeries):
    """Shared rules: timed by timestamps, unit and resolution fixed by the schema."""

    unit: str = attribute(on="data", default="n/a")
    resolution: float = attribute(on="data", dtype="float32", default=-1.0)

    def _validate(self) -> None:
        if self.__dict__.get("timestamps") is None and self.rate is None:
            self.timestamps = np.zeros(0)
            if isinstance(self.data, list) or self.data is None:
                self.data = []
        super()._validate()
        times = self.timestamps
        in_memory = isinstance(self.data, (list, tuple)) and times is not None and not hasattr(times, "read")
        if in_memory and len(self.data) != len(times):
            raise self._fail("timestamps", f"has {len(self.timestamps)} entries but data has {len(self.data)}")
        if self.unit != "n/a":
            raise self._fail("unit", f"is fixed to 'n/a' by the schema, got {self.unit!r}")
        if float(self.resolution) != -1.0:
            raise self._fail("resolution", f"is fixed to -1.0 by the schema, got {self.resolution!r}")

    def _mark(self, time: float, value: Any) -> None:
        if hasattr(self.data, "read") or hasattr(self.timestamps, "read"):
            raise self._fail("data", "a series read from a store cannot grow in place")
        self.data = [*list(self.data), value]
        self.timestamps = np.append(np.asarray(self.timestamps, dtype=np.float64), float(time))


@neurodata_type("core")
class IntervalSeries(_MarkSeries):
    """Interval starts (> 0) and stops (< 0) at ``timestamps``; several interval kinds by code."""

    data: Any = dataset(dtype="int8", dims=(("num_times",),), lazy=True, default_factory=list)

    def add_interval(self, start: float, stop: float) -> None:
        """Add an interval (PyNWB's ``add_interval``): a start mark (1) and a stop mark (-1)."""
        if stop < start:
            raise self._fail("timestamps", f"interval stop {stop} is before its start {start}")
        self._mark(start, 1)
        self._mark(stop, -1)
        self.data = np.asarray(self.data, dtype=np.int8)


@neurodata_type("core")
class AnnotationSeries(_MarkSeries):
    """Text annotations at ``timestamps`` (``add_annotation``)."""

    data: Any = dataset(dtype="text", dims=(("num_times",),), default_factory=tuple)

    def add_annotation(self, time: float, annotation: str) -> None:
        """Add one annotation at ``time`` seconds."""
        self._mark(time, str(annotation))
        self.data = tuple(self.data)
