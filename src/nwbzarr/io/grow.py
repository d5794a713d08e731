"""Rows added to tables read from a store (``add_trial``, ``add_unit``, ``add_row`` in mode 'a').

A stored column keeps its new elements pending (:attr:`~nwbzarr.model.table.VectorData.pending`); the
next ``write`` appends them to the stored arrays in place, in the same commit as any new objects.
Here they are gathered and checked against the stored arrays before anything is written.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nwbzarr.abc.array import LazyArray
from nwbzarr.core.dtypes import Text
from nwbzarr.errors import ValidationError
from nwbzarr.model import NWBFile
from nwbzarr.model.base import Container
from nwbzarr.model.table import DynamicTable, VectorIndex

__all__ = ["Growth", "describe", "pending_rows"]

#: (the column, index or id object; its stored array; the new rows as the array's dtype)
Growth = tuple[Any, LazyArray, np.ndarray]


def pending_rows(nwbfile: NWBFile) -> list[Growth]:
    """Every stored column, index and id that has pending elements, with them as arrays; checked first."""
    out: list[Growth] = []
    for table in nwbfile.objects.values():
        if not isinstance(table, DynamicTable):
            continue
        parts: list[Container] = [table.id]
        for column in table.columns.values():
            parts.append(column)
            index = column.index
            while index is not None:
                parts.append(index)
                index = index.index
        for part in parts:
            pending = part.__dict__.get("_pending")
            data = part.__dict__.get("data")
            if pending and isinstance(data, LazyArray):
                out.append((part, data, _as_rows(table, part, data, pending)))
    return out


def describe(growth: Growth) -> str:
    """``TimeIntervals 'trials', column 'label'``: where rows were added, for messages."""
    part = growth[0]
    table = part.parent
    return f"{table._label}, column {part.name!r}" if isinstance(table, Container) else part._label


def _as_rows(table: DynamicTable, part: Container, data: LazyArray, pending: list[Any]) -> np.ndarray:
    where = f"{table._label}, column {part.name!r}"
    dtype = data.dtype
    if isinstance(dtype, Text):
        return np.array(pending, dtype=object)
    if not isinstance(dtype, np.dtype) or dtype.names:
        raise ValidationError(f"{where}: its stored {type(dtype).__name__} values cannot grow in place")
    rows = np.asarray(pending)
    if dtype.kind in "iu" and rows.size:
        info = np.iinfo(dtype)
        if int(rows.max()) > info.max or int(rows.min()) < info.min:
            what = "offsets" if isinstance(part, VectorIndex) else "values"
            raise ValidationError(
                f"{where}: new {what} up to {int(rows.max())} do not fit its stored {dtype} (the array is not widened)"
            )
    return rows.astype(dtype, copy=False)
