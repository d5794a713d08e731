"""How a container's data becomes an xarray variable's array: Dask, or lazily indexed for the engine."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from nwbzarr.abc.array import LazyArray
from nwbzarr.core.optional import require
from nwbzarr.errors import ValidationError
from nwbzarr.writing.dataio import DataIO
from nwbzarr.writing.streams import FrameStream

if TYPE_CHECKING:
    import dask.array

__all__ = ["Wrap", "as_dask", "dask_wrap", "preferred_chunks"]

#: turns stored (or in-memory) data into the array an xarray variable holds
Wrap = Callable[[Any], Any]


def as_dask(data: Any, chunks: Any = None, *, feature: str) -> dask.array.Array:
    """``data`` as a Dask array: stored data one chunk per shard unless ``chunks`` says otherwise."""
    da = require("dask.array", feature)
    if isinstance(data, FrameStream):
        raise ValidationError(f"{feature}: a FrameStream is read once, by the writer; label the series once written")
    if isinstance(data, DataIO):  # not written yet: its storage unit is the natural Dask chunk
        layout = data.layout
        chunks = chunks if chunks is not None else (layout.shards or layout.chunks)
        data = data.data
    if isinstance(data, LazyArray):
        out: dask.array.Array = data.to_dask() if chunks is None else data.to_dask(chunks=chunks)
        return out
    if isinstance(data, da.Array):
        out = data if chunks is None else data.rechunk(chunks)
        return out
    if not hasattr(data, "shape") or not hasattr(data, "__getitem__"):
        data = np.asarray(data)
    # in memory: one chunk unless asked otherwise (splitting costs tasks, saves nothing)
    out = da.from_array(data, chunks=chunks if chunks is not None else -1, asarray=True)
    return out


def dask_wrap(chunks: Any, feature: str) -> Wrap:
    """A :data:`Wrap` giving Dask arrays (``chunks`` as :meth:`LazyArray.to_dask`)."""
    return lambda data: as_dask(data, chunks, feature=feature)


def preferred_chunks(data: Any, dims: tuple[str, ...]) -> dict[str, int]:
    """The storage unit (shard, or chunk) by dimension: what ``xr.open_dataset(..., chunks={})`` splits by."""
    unit = data.chunks if isinstance(data, LazyArray) else None
    if not unit or len(unit) != len(dims):
        return {}
    return dict(zip(dims, (int(n) for n in unit), strict=True))
