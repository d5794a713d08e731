"""Behaviour: positions and directions over time, and the containers that group behavioural series."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

from nwbzarr.model.base import Children, NWBDataInterface, neurodata_type
from nwbzarr.model.misc import IntervalSeries
from nwbzarr.model.spec import attribute, children, dataset
from nwbzarr.model.timeseries import TimeSeries

__all__ = [
    "BehavioralEpochs",
    "BehavioralEvents",
    "BehavioralTimeSeries",
    "CompassDirection",
    "EyeTracking",
    "Position",
    "PupilTracking",
    "SpatialSeries",
]


@neurodata_type("core")
class SpatialSeries(TimeSeries):
    """Positions or directions over time: (time[, x[, y[, z]]]), in ``reference_frame``."""

    data: Any = dataset(
        dtype="numeric",
        dims=(("num_times",), ("num_times", "x"), ("num_times", "x,y"), ("num_times", "x,y,z")),
        lazy=True,
    )
    unit: str = attribute(on="data", default="meters")
    reference_frame: str | None = dataset(dtype="text", default=None, doc="what the zero position is")

    def _validate(self) -> None:
        super()._validate()
        shape = tuple(getattr(self.data, "shape", ()))
        if len(shape) == 2 and shape[1] > 3:
            raise self._fail("data", f"has {shape[1]} spatial components; at most 3 (x, y, z), got shape {shape}")


@dataclasses.dataclass(kw_only=True, eq=False, repr=False)
class _SeriesGroup(NWBDataInterface):
    """A named group of series of one kind; PyNWB's add_/create_/get_ methods by the field's name."""

    SERIES: ClassVar[type[TimeSeries]] = TimeSeries
    FIELD: ClassVar[str] = "time_series"

    def _series(self) -> Children[Any]:
        children_: Children[Any] = getattr(self, self.FIELD)
        return children_

    def add(self, series: TimeSeries) -> TimeSeries:
        """Add a series of this container's kind."""
        return self._add_child(self.FIELD, series)

    def create(self, **kwargs: Any) -> TimeSeries:
        """Create and add a series of this container's kind."""
        return self.add(self.SERIES(**kwargs))

    def get(self, name: str | None = None) -> TimeSeries:
        """The series named ``name`` (the only one when not given)."""
        items = self._series()
        if name is None and len(items) == 1:
            return next(iter(items.values()))  # type: ignore[no-any-return]
        if name is None:
            raise self._fail(self.FIELD, f"holds {len(items)} series: name one of {list(items)}")
        return items[name]  # type: ignore[no-any-return]

    def __getitem__(self, name: str) -> TimeSeries:
        return self.get(name)

    def __getattr__(self, key: str) -> Any:
        # PyNWB spells the methods after the field: add_spatial_series, create_timeseries, get_interval_series...
        prefix, _, rest = key.partition("_")
        if prefix in ("add", "create", "get") and rest in (self.FIELD, self.FIELD.replace("_", "")):
            return getattr(self, prefix)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {key!r}")


@dataclasses.dataclass(kw_only=True, eq=False, repr=False)
class _SpatialSeriesGroup(_SeriesGroup):
    """Position, CompassDirection and EyeTracking: SpatialSeries under ``spatial_series``."""

    spatial_series: Children[SpatialSeries] = children(default_factory=Children)
    SERIES: ClassVar[type[TimeSeries]] = SpatialSeries
    FIELD: ClassVar[str] = "spatial_series"


@neurodata_type("core")
class Position(_SpatialSeriesGroup):
    """Position of the animal (or of a body part) as SpatialSeries."""

    name: str = "Position"


@neurodata_type("core")
class CompassDirection(_SpatialSeriesGroup):
    """Head or body direction as SpatialSeries (radians or degrees)."""

    name: str = "CompassDirection"


@neurodata_type("core")
class EyeTracking(_SpatialSeriesGroup):
    """Eye position as SpatialSeries."""

    name: str = "EyeTracking"


@neurodata_type("core")
class BehavioralTimeSeries(_SeriesGroup):
    """Continuous behavioural measures (running speed, licking force...)."""

    name: str = "BehavioralTimeSeries"
    time_series: Children[TimeSeries] = children(default_factory=Children)


@neurodata_type("core")
class PupilTracking(_SeriesGroup):
    """Pupil size over time."""

    name: str = "PupilTracking"
    time_series: Children[TimeSeries] = children(default_factory=Children)


@neurodata_type("core")
class BehavioralEvents(_SeriesGroup):
    """Discrete behavioural events (rewards, licks) as TimeSeries."""

    name: str = "BehavioralEvents"
    time_series: Children[TimeSeries] = children(default_factory=Children)


@neurodata_type("core")
class BehavioralEpochs(_SeriesGroup):
    """Behavioural states (running, still) as IntervalSeries."""

    name: str = "BehavioralEpochs"
    interval_series: Children[IntervalSeries] = children(default_factory=Children)
    SERIES: ClassVar[type[TimeSeries]] = IntervalSeries
    FIELD: ClassVar[str] = "interval_series"
