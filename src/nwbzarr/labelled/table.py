"""A DynamicTable (a PlaneSegmentation's ROIs, units, trials...) as a Dataset indexed by row ``id``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from nwbzarr.abc.array import LazyArray
from nwbzarr.core.optional import require
from nwbzarr.labelled.lazy import Wrap, dask_wrap, preferred_chunks

if TYPE_CHECKING:
    import xarray

    from nwbzarr.model.table import DynamicTable, VectorData

__all__ = ["label_table", "table_to_xarray"]

_FEATURE = "DynamicTable.to_xarray()"


def table_to_xarray(table: DynamicTable, *, chunks: Any = None) -> xarray.Dataset:
    """Every column that fits a labelled array, on the row dimension ``id`` (coordinate: the row ids).

    Numeric columns stay lazy (Dask; ``chunks`` as :meth:`LazyArray.to_dask`), text is read. A ragged
    column (``pixel_mask``, ``spike_times``) becomes its flat values on ``{column}_element`` plus
    ``{column}_index`` (the exclusive end offsets of each row) on ``id``. A compound column (pixel and
    voxel masks) becomes one variable per numeric field, ``{column}_{field}`` (``pixel_mask_x``...), read
    at once; columns that fit none of these are listed in the ``skipped_columns`` attribute.
    """
    return label_table(table, dask_wrap(chunks, _FEATURE))


def label_table(table: DynamicTable, wrap: Wrap) -> xarray.Dataset:
    """The labelled Dataset of ``table`` with numeric columns as ``wrap`` makes them."""
    xr = require("xarray", _FEATURE)
    ids = np.asarray(table.id.as_array())
    variables: dict[str, Any] = {}
    skipped: list[str] = []
    for name, column in table.columns.items():
        values = _values(column, wrap)
        fields = _fields(values, name) if isinstance(values, np.ndarray) and values.dtype.names else {name: values}
        if values is None or not fields:
            skipped.append(name)
            continue
        row_dim = "id" if column.index is None else f"{name}_element"
        for var, field_values in fields.items():
            dims = (row_dim, *(f"{name}_dim_{i}" for i in range(1, len(field_values.shape))))
            variables[var] = xr.Variable(dims, field_values, _attrs(column))
            variables[var].encoding["preferred_chunks"] = preferred_chunks(column.data, dims)
        if column.index is not None:
            offsets = np.asarray(column.index.as_array())
            variables[f"{name}_index"] = (("id",), offsets, {"description": f"end of each row's values in {name}"})
    attrs: dict[str, Any] = {"neurodata_type": type(table).neurodata_type, "description": table.description}
    if skipped:
        attrs["skipped_columns"] = skipped
    out: xarray.Dataset = xr.Dataset(variables, coords={"id": ("id", ids)}, attrs=attrs)
    out.attrs["name"] = table.name
    return out


def _attrs(column: VectorData) -> dict[str, Any]:
    return {"description": column.description, "neurodata_type": type(column).neurodata_type}


def _values(column: VectorData, wrap: Wrap) -> Any:
    """The column's values: ``wrap``-ed for numbers, numpy for text and compounds (read at once)."""
    data = column.data
    if isinstance(data, LazyArray):
        if isinstance(data.dtype, np.dtype) and data.dtype.kind in "biuf":
            return wrap(data)
        return data.read()
    return column.as_array()


def _fields(values: np.ndarray, column: str) -> dict[str, np.ndarray]:
    """The numeric fields of a compound column as ``{column}_{field}`` arrays."""
    assert values.dtype.names is not None
    return {
        f"{column}_{field}": np.ascontiguousarray(values[field])
        for field in values.dtype.names
        if values.dtype[field].kind in "biuf"
    }
