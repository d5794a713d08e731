"""DynamicTable and its columns (hdmf-common): rows of ROIs, electrodes, units...

Columns grow row by row while a file is being built (``add_row``/``add_roi``), as Python lists;
the codec turns them into arrays on write, and a read gives lazy arrays.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from nwbzarr.abc.array import LazyArray
from nwbzarr.errors import ContainerNotFoundError, ValidationError
from nwbzarr.model.base import Children, Container, Data, _arrays_equal, neurodata_type, values_equal
from nwbzarr.model.spec import attribute, child, children, dataset, members

if TYPE_CHECKING:
    import pandas
    import xarray

__all__ = ["DynamicTable", "DynamicTableRegion", "ElementIdentifiers", "VectorData", "VectorIndex"]


def _as_array(data: Any, dtype: np.dtype | None) -> np.ndarray:
    if isinstance(data, LazyArray):
        return data.read()
    if isinstance(data, np.ndarray):
        return data if dtype is None or data.dtype == dtype else data.astype(dtype)
    if dtype is not None and dtype.names:
        return np.array([tuple(row) for row in data], dtype=dtype)
    if isinstance(data, list) and data and isinstance(data[0], np.ndarray):
        return np.stack(data) if dtype is None else np.stack(data).astype(dtype, copy=False)
    return np.asarray(data, dtype=dtype)


def _rows(column: Data) -> int | None:
    """Rows of a column built in memory (its index's length when ragged); None while it is in the store."""
    held = getattr(column, "index", None) or column
    data = held.__dict__.get("data")
    if isinstance(data, (list, tuple, np.ndarray)):
        return len(data)
    return None


class _TypedData(Data):
    """Shared behaviour of typed datasets whose value can grow (lists) or be lazy (reads)."""

    data: Any

    def as_array(self) -> np.ndarray:
        """The values as one numpy array (reads a lazy column)."""
        return _as_array(self.data, getattr(self, "dtype", None))

    def append(self, value: Any) -> None:
        if not isinstance(self.data, list):
            if isinstance(self.data, LazyArray):
                raise ValidationError(f"{self._label}: a column read from a store cannot grow in place")
            self.data = list(self.data)
        self.data.append(value)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, _TypedData)
        if self.name != other.name or self.object_id != other.object_id:
            return False
        for field_name, member in members(self):
            a, b = getattr(self, field_name), getattr(other, field_name)
            if field_name == "data":
                if not _arrays_equal(self.as_array(), other.as_array()):
                    return False
            elif member.dtype == "ref":
                if (a is None) != (b is None) or (a is not None and (a.name, a.object_id) != (b.name, b.object_id)):
                    return False
            elif not values_equal(a, b):
                return False
        return True

    __hash__ = Container.__hash__


@neurodata_type("hdmf-common")
class VectorData(_TypedData):
    """One column of a table; ``index`` is set when the column is ragged (a VectorIndex points at it)."""

    data: Any = dataset(lazy=True, default_factory=list)
    description: str = attribute(default="")
    #: the numpy dtype of one element (a structured dtype for pixel/voxel masks); None = infer
    dtype: np.dtype | None = dataclasses.field(default=None, repr=False)
    index: VectorIndex | None = dataclasses.field(default=None, repr=False, compare=False)

    def _validate(self) -> None:
        super()._validate()
        if self.index is not None:
            self.index.target = self


@neurodata_type("hdmf-common")
class VectorIndex(_TypedData):
    """Exclusive end offsets into ``target``: row i is ``target[offsets[i-1]:offsets[i]]``."""

    data: Any = dataset(lazy=True, default_factory=list)
    description: str = attribute(default="")
    target: VectorData | None = attribute(dtype="ref", default=None)

    def row(self, i: int) -> Any:
        """The elements of row ``i`` of the indexed column."""
        offsets = self.as_array()
        start = int(offsets[i - 1]) if i > 0 else 0
        assert self.target is not None
        data = self.target.data
        if isinstance(data, list):
            return data[start : int(offsets[i])]
        return data[start : int(offsets[i])]


@neurodata_type("hdmf-common")
class ElementIdentifiers(_TypedData):
    """Row ids of a table (``id``)."""

    name: str = "id"
    data: Any = dataset(lazy=True, default_factory=list)


@neurodata_type("hdmf-common")
class DynamicTableRegion(VectorData):
    """Row indices (positions, not ids) into ``table``."""

    table: DynamicTable | None = attribute(dtype="ref", default=None)

    def _validate(self) -> None:
        super()._validate()
        if self.table is None:
            raise self._fail("table", "is required: the DynamicTable whose rows this region selects")
        rows = self.as_array()
        if rows.size and (rows.dtype.kind not in "iu"):
            raise self._fail("data", f"row indices must be integers, got {rows.dtype}")
        n = len(self.table)
        bad = rows[(rows < 0) | (rows >= n)] if rows.size else rows
        if bad.size:
            raise self._fail("data", f"rows {bad.tolist()} are outside table {self.table.name!r} with {n} rows")
        if isinstance(self.data, list):
            self.data = rows


def _row(value: Any) -> int:
    """A row position: an integer (not a bool, a float or a numeric string)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{value!r} is a {type(value).__name__}, not an integer")
    return int(value)


@neurodata_type("hdmf-common")
class DynamicTable(Container):
    """A table of columns with a row id; ragged columns have a VectorIndex."""

    description: str = attribute()
    id: ElementIdentifiers = child(default=None)  # created empty when not given
    columns: Children[VectorData] = children(default_factory=Children)

    def _validate(self) -> None:
        super()._validate()
        lengths = {name: _rows(column) for name, column in self.columns.items()}
        if self.__dict__.get("id") is None:
            known = {n for n in lengths.values() if n is not None}
            # columns given without ids: rows are numbered 0..n-1 (as hdmf does)
            self.id = ElementIdentifiers(name="id", data=list(range(known.pop())) if len(known) == 1 else [])
            self._adopt(self.id)
        for column in self.columns.values():
            if column.index is not None:
                self._adopt(column.index)
        rows = _rows(self.id)
        for name, n in lengths.items():
            if n is not None and rows is not None and n != rows:
                raise self._fail(name, f"has {n} rows but the table has {rows} (its id column)")

    # --- building -------------------------------------------------------------------------------
    @property
    def colnames(self) -> tuple[str, ...]:
        """Column names in order (the indexes of ragged columns are not columns)."""
        return tuple(self.columns)

    def __len__(self) -> int:
        return len(self.id)

    def add_column(
        self,
        name: str,
        description: str,
        *,
        index: bool = False,
        data: Sequence[Any] | None = None,
        dtype: Any = None,
        col_cls: type[VectorData] = VectorData,
        **kwargs: Any,
    ) -> VectorData:
        """Add a column (ragged with ``index=True``); ``data`` fills existing rows."""
        column = col_cls(
            name=name, description=description, dtype=np.dtype(dtype) if dtype is not None else None, **kwargs
        )
        if index:
            column.index = VectorIndex(
                name=f"{name}_index", description=f"Index for VectorData '{name}'", target=column
            )
        self._add_child("columns", column)
        if column.index is not None:
            self._adopt(column.index)
        if data is not None:
            rows = list(data)
            if len(self) and len(rows) != len(self):
                raise self._fail(name, f"has {len(rows)} values but the table has {len(self)} rows")
            for value in rows:
                self._append_cell(column, value)
        elif len(self):
            raise self._fail(name, f"the table already has {len(self)} rows: pass data for them")
        return column

    def add_row(self, id: int | None = None, **values: Any) -> None:
        """Append one row; every column must get a value."""
        missing = [c for c in self.columns if c not in values]
        extra = [k for k in values if k not in self.columns]
        if extra:
            raise self._fail(extra[0], f"no such column (columns: {list(self.columns)}); add_column first")
        if missing:
            raise self._fail(missing[0], "needs a value in every row")
        for name, value in values.items():
            self._check_cell(self.columns[name], value)
        for name, value in values.items():
            self._append_cell(self.columns[name], value)
        self.id.append(len(self) if id is None else int(id))

    def _check_cell(self, column: VectorData, value: Any) -> None:
        """Reject a cell before anything is appended (hook for typed tables)."""

    def _append_cell(self, column: VectorData, value: Any) -> None:
        if column.index is None:
            column.append(value)
            return
        items = list(value)
        if not isinstance(column.data, list):
            column.data = list(column.data)
        column.data.extend(items)
        column.index.append(len(column.data))

    def __getitem__(self, key: str) -> VectorData:
        try:
            return self.columns[key]
        except ContainerNotFoundError:
            raise ContainerNotFoundError(f"{self._label}: no column {key!r} (columns: {list(self.columns)})") from None

    def cell(self, column: str, row: int) -> Any:
        """One cell's value (a ragged cell is the list of its elements)."""
        col = self[column]
        if col.index is not None:
            return col.index.row(row)
        return col.data[row]

    def create_region(self, name: str, region: Iterable[int] | slice, description: str) -> DynamicTableRegion:
        """A DynamicTableRegion selecting ``region`` (row positions) of this table."""
        try:
            rows = list(range(len(self))[region]) if isinstance(region, slice) else [_row(r) for r in region]
        except (TypeError, ValueError) as exc:
            raise self._fail(name, f"region must be row positions (integers) or a slice: {exc}") from None
        return DynamicTableRegion(name=name, data=np.asarray(rows, dtype=np.int64), description=description, table=self)

    def to_xarray(self, *, chunks: Any = None) -> xarray.Dataset:
        """The columns as a lazy Dataset indexed by row ``id`` (:func:`nwbzarr.labelled.table_to_xarray`)."""
        from nwbzarr.labelled.table import table_to_xarray

        return table_to_xarray(self, chunks=chunks)

    def to_dataframe(self) -> pandas.DataFrame:
        """A pandas DataFrame indexed by ``id``, as PyNWB builds it (reads every column).

        A ragged cell is the numpy array of its elements (a list of tuples for compound elements such as
        pixel masks); a ``timeseries`` cell is a list of ``TimeSeriesReference``.
        """
        from nwbzarr._optional import require

        pd = require("pandas", "DynamicTable.to_dataframe()")
        data: dict[str, Any] = {}
        for name, column in self.columns.items():
            data[name] = self._frame_column(column)
        ids = pd.Index(self.id.as_array(), name="id")
        frame: pandas.DataFrame = pd.DataFrame(data, index=ids)
        return frame

    @staticmethod
    def _frame_column(column: VectorData) -> Any:
        holds_objects = getattr(column, "RESOLVES_REFERENCES", False)
        values: Any = list(column.data) if holds_objects else column.as_array()
        if column.index is None:
            if holds_objects:
                return values
            return list(values) if values.ndim > 1 else values
        offsets = column.index.as_array().astype(np.int64)
        starts = np.concatenate([[0], offsets[:-1]]).astype(np.int64)
        if holds_objects:
            return [values[s:e] for s, e in zip(starts, offsets, strict=True)]
        if values.dtype.names:
            return [[tuple(x.tolist()) for x in values[s:e]] for s, e in zip(starts, offsets, strict=True)]
        return [values[s:e] for s, e in zip(starts, offsets, strict=True)]
