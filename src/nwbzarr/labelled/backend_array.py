"""Lazily indexed arrays for the xarray engine: xarray slices, nwbzarr reads only what the slice touches."""

from __future__ import annotations

from typing import Any

import numpy as np
from xarray.backends import BackendArray
from xarray.core import indexing

from nwbzarr.abc.array import LazyArray

__all__ = ["LazyBackendArray", "backend_wrap"]


class LazyBackendArray(BackendArray):
    """A stored dataset as xarray's backends expose one (``open_dataset(..., chunks={})`` makes it Dask)."""

    def __init__(self, data: LazyArray) -> None:
        self.data = data
        self.shape = data.shape
        self.dtype = data.numpy_dtype

    def __getitem__(self, key: indexing.ExplicitIndexer) -> Any:
        return indexing.explicit_indexing_adapter(key, self.shape, indexing.IndexingSupport.BASIC, self._read)

    def _read(self, key: tuple[Any, ...]) -> np.ndarray:
        return np.asarray(self.data[key])


def backend_wrap(data: Any) -> Any:
    """Stored data lazily indexed; data already in memory as numpy."""
    if isinstance(data, LazyArray) and data.shape:
        return indexing.LazilyIndexedArray(LazyBackendArray(data))
    return np.asarray(data.read() if isinstance(data, LazyArray) else data)
