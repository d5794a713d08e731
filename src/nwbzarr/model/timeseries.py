"""TimeSeries: data over time, timed by a rate or by timestamps."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from nwbzarr.model.base import NWBDataInterface, neurodata_type
from nwbzarr.model.spec import attribute, dataset

if TYPE_CHECKING:
    import xarray

__all__ = ["TimeSeries"]

_TIME_DIMS = (
    ("num_times",),
    ("num_times", "num_DIM2"),
    ("num_times", "num_DIM2", "num_DIM3"),
    ("num_times", "num_DIM2", "num_DIM3", "num_DIM4"),
)


@neurodata_type("core")
class TimeSeries(NWBDataInterface):
    """Data over time. Give exactly one of ``rate`` (with ``starting_time``, default 0) or ``timestamps``."""

    #: attributes whose value the schema fixes, by the dataset that carries them
    FIXED_ATTRIBUTES: ClassVar[dict[str, dict[str, Any]]] = {
        "starting_time": {"unit": "seconds"},
        "timestamps": {"interval": 1, "unit": "seconds"},
    }

    data: Any = dataset(dims=_TIME_DIMS, lazy=True, doc="the data; first dimension is time")
    unit: str = attribute(on="data", doc="SI unit of data after conversion and offset")
    resolution: float = attribute(on="data", dtype="float32", default=-1.0, doc="smallest meaningful difference")
    conversion: float = attribute(on="data", dtype="float32", default=1.0, doc="multiply data by this to get unit")
    offset: float = attribute(on="data", dtype="float32", default=0.0, doc="add after conversion")
    continuity: str | None = attribute(on="data", default=None, doc="continuous, instantaneous or step")
    starting_time: float | None = dataset(dtype="float64", default=None, doc="time of the first sample, s")
    rate: float | None = attribute(on="starting_time", dtype="float32", default=None, doc="sampling rate, Hz")
    timestamps: Any = dataset(dtype="float64", dims=(("num_times",),), lazy=True, default=None, doc="sample times, s")
    comments: str = attribute(default="no comments", doc="human-readable comments")
    description: str = attribute(default="no description", doc="description of the series")
    control: Any = dataset(dtype="uint8", dims=(("num_times",),), lazy=True, default=None)
    control_description: tuple[str, ...] | None = dataset(dtype="text", dims=(("num_control_values",),), default=None)

    def _validate(self) -> None:
        super()._validate()
        if self.rate is not None and self.timestamps is not None:
            raise self._fail("rate", "give either rate or timestamps, not both")
        if self.rate is None and self.timestamps is None:
            raise self._fail("rate", "give either rate (with starting_time) or timestamps")
        if self.rate is not None and self.starting_time is None:
            object.__setattr__(self, "starting_time", 0.0)
        if self.rate is None and self.starting_time not in (None,):
            raise self._fail("starting_time", "starting_time goes with rate; with timestamps, leave it out")
        if self.rate is not None and not self.rate > 0:
            raise self._fail("rate", f"must be positive, got {self.rate}")
        n = self.num_samples_in_data
        if self.timestamps is not None and n is not None and len(self.timestamps) != n:
            raise self._fail("timestamps", f"has {len(self.timestamps)} entries but data has {n} samples")

    @property
    def num_samples_in_data(self) -> int | None:
        """Samples in ``data`` (its first dimension), if it has a shape."""
        shape = getattr(self.data, "shape", None)
        return int(shape[0]) if shape else None

    def to_xarray(self, *, chunks: Any = None, scaled: bool = False) -> xarray.DataArray:
        """``data`` as a lazy DataArray with a ``time`` coordinate (:func:`nwbzarr.labelled.series_to_xarray`)."""
        from nwbzarr.labelled.series import series_to_xarray

        return series_to_xarray(self, chunks=chunks, scaled=scaled)

    def get_timestamps(self) -> np.ndarray:
        """The time of every sample, from ``timestamps`` or from ``starting_time`` and ``rate``."""
        if self.timestamps is not None:
            return np.asarray(self.timestamps[:])
        n = self.num_samples_in_data or 0
        assert self.rate is not None and self.starting_time is not None
        return self.starting_time + np.arange(n) / self.rate
