"""A TimeSeries as a labelled, lazy DataArray: schema dims, a ``time`` coordinate, ROI ids, units."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from nwbzarr.core.optional import require
from nwbzarr.errors import ValidationError
from nwbzarr.labelled.lazy import Wrap, dask_wrap, preferred_chunks
from nwbzarr.labelled.names import schema_dims

if TYPE_CHECKING:
    import xarray

    from nwbzarr.model.timeseries import TimeSeries

__all__ = ["label_series", "series_to_xarray"]

_FEATURE = "TimeSeries.to_xarray()"


def series_to_xarray(series: TimeSeries, *, chunks: Any = None, scaled: bool = False) -> xarray.DataArray:
    """``series.data`` as a Dask-backed DataArray; nothing but the timestamps is read.

    Dimensions are the schema's (``time, width, height`` for a TwoPhotonSeries, ``num_times, num_ROIs``
    for a RoiResponseSeries); the first carries a ``time`` coordinate (seconds, from ``timestamps`` or
    ``starting_time`` + ``rate``) with an index, so ``.sel(time=...)`` works whatever the axis is called.
    A RoiResponseSeries' ROI axis carries ``roi_id`` (the ids of the rows its ``rois`` select).
    ``scaled=True`` gives ``data * conversion + offset`` (in ``unit``), lazily. ``chunks`` as
    :meth:`LazyArray.to_dask` (default: one Dask chunk per shard: one round of requests per task).
    """
    out = label_series(series, dask_wrap(chunks, _FEATURE))
    if scaled:
        conversion, offset = float(series.conversion), float(series.offset)
        attrs = dict(out.attrs, conversion=1.0, offset=0.0, scaled=f"stored data * {conversion!r} + {offset!r}")
        # integers scale into float64; float32 stays float32 (Python floats are weak in numpy 2)
        values = out if out.dtype.kind == "f" else out.astype(np.float64)
        out = (values * conversion + offset).assign_attrs(attrs)
    return out


def label_series(series: TimeSeries, wrap: Wrap) -> xarray.DataArray:
    """The labelled DataArray of ``series`` over ``wrap(series.data)`` (Dask, or the engine's lazy arrays)."""
    xr = require("xarray", _FEATURE)
    if series.data is None or not np.shape(series.data):
        raise ValidationError(f"{series._label}: has no data over time to label")
    source = series.data
    data = wrap(source)
    dims = schema_dims(series, "data", len(data.shape))
    coords: dict[str, Any] = {"time": (dims[0], np.asarray(series.get_timestamps(), dtype=np.float64))}
    rois = _roi_ids(series, tuple(data.shape))
    if rois is not None:
        coords["roi_id"] = (dims[1], rois) if len(data.shape) > 1 else rois[0]
    attrs: dict[str, Any] = {
        "neurodata_type": type(series).neurodata_type,
        "unit": series.unit,
        "conversion": float(series.conversion),
        "offset": float(series.offset),
        "resolution": float(series.resolution),
        "description": series.description,
        "comments": series.comments,
    }
    out: xarray.DataArray = xr.DataArray(data, dims=dims, coords=coords, name=series.name, attrs=attrs)
    out.encoding["preferred_chunks"] = preferred_chunks(source, dims)
    out.coords["time"].attrs["unit"] = "seconds"
    if dims[0] != "time":
        out = out.set_xindex("time")
    if rois is not None and len(data.shape) > 1 and len(set(rois.tolist())) == len(rois):
        out = out.set_xindex("roi_id")
    return out


def _roi_ids(series: TimeSeries, shape: tuple[int, ...]) -> np.ndarray | None:
    """The ids of the table rows a RoiResponseSeries' ``rois`` select, if it has them."""
    region = getattr(series, "rois", None)
    if region is None or region.table is None:
        return None
    rows = np.asarray(region.as_array(), dtype=np.int64)
    ids = np.asarray(region.table.id.as_array())
    if len(rows) != (shape[1] if len(shape) > 1 else 1):
        return None
    return ids[rows] if len(ids) else rows
