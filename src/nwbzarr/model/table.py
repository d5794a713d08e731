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
from nwbzarr.core.dtypes import Text
from nwbzarr.errors import ContainerNotFoundError, ValidationError
from nwbzarr.model.base import Children, Container, Data, Deferred, _arrays_equal, neurodata_type, values_equal
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


def _outer(column: Data) -> Data:
    """What holds a column's rows: itself, its index, or its index's index (a doubly ragged column)."""
    index = getattr(column, "index", None)
    if index is None:
        return column
    outer: Data | None = index.__dict__.get("index")
    return outer if outer is not None else index


def _rows(column: Data) -> int | None:
    """Rows of a column built in memory (its outermost index's length when ragged); None while it is in the store."""
    held = _outer(column)
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
        """Add one element; a stored column keeps it pending for the next write in mode 'a' (see ``pending``)."""
        if isinstance(self.data, LazyArray):
            self.pending.append(value)
            return
        if not isinstance(self.data, list):
            self.data = list(self.data)
        self.data.append(value)

    @property
    def pending(self) -> list[Any]:
        """Elements added to a column read from a store: the next ``write`` in mode 'a' appends them in place."""
        pending: list[Any] = self.__dict__.setdefault("_pending", [])
        return pending

    def check_growth(self, value: Any, table: str) -> None:
        """Refuse an element a stored column cannot hold (a wrong type), before anything of a row is added."""
        data = self.data
        if not isinstance(data, LazyArray):
            return
        dtype = data.dtype
        if not isinstance(dtype, np.dtype) or dtype.names:
            if not isinstance(dtype, Text):
                raise ValidationError(
                    f"{table}, column {self.name!r}: its stored {type(dtype).__name__} values cannot grow in place"
                )
            if not all(isinstance(v, str) for v in (value if isinstance(value, list | tuple) else [value])):
                raise ValidationError(f"{table}, column {self.name!r}: expected text, got {value!r}")
            return
        given = np.asarray(value)
        if given.dtype.kind not in "biuf" or not np.can_cast(given.dtype, dtype, casting="same_kind"):
            raise ValidationError(f"{table}, column {self.name!r}: expected {dtype} values, got {value!r}")
        if given.shape != tuple(data.shape[1:]):
            raise ValidationError(
                f"{table}, column {self.name!r}: expected elements of shape {tuple(data.shape[1:])}, got {given.shape}"
            )

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

    def holds_objects(self) -> bool:
        """Whether the cells are objects of the file (a reference column such as Units ``electrode_group``)."""
        if getattr(self, "RESOLVES_REFERENCES", False):
            return True
        data = self.__dict__.get("data")
        if data.__class__ is Deferred:  # a stored reference column, resolved when first read
            return True
        return isinstance(data, list) and bool(data) and isinstance(data[0], Container)


@neurodata_type("hdmf-common")
class VectorIndex(_TypedData):
    """Exclusive end offsets into ``target``: row i is ``target[offsets[i-1]:offsets[i]]``."""

    data: Any = dataset(lazy=True, default_factory=list)
    description: str = attribute(default="")
    #: the indexed column, or for the outer index of a doubly ragged column, the inner index
    target: VectorData | VectorIndex | None = attribute(dtype="ref", default=None)
    #: the index of this index (``waveforms_index_index``): a row of it is a list of this index's rows
    index: VectorIndex | None = dataclasses.field(default=None, repr=False, compare=False)

    def _validate(self) -> None:
        super()._validate()
        if self.index is not None:
            self.index.target = self

    def row(self, i: int) -> Any:
        """The elements of row ``i`` of the indexed column (a list of the inner rows when it indexes an index)."""
        offsets = np.concatenate([self.as_array(), np.asarray(self.pending, dtype=np.int64)])
        start = int(offsets[i - 1]) if i > 0 else 0
        assert self.target is not None
        if isinstance(self.target, VectorIndex):
            return [self.target.row(j) for j in range(start, int(offsets[i]))]
        data = self.target.data
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
                if column.index.index is not None:
                    self._adopt(column.index.index)
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
        index: bool | int = False,
        data: Sequence[Any] | None = None,
        dtype: Any = None,
        col_cls: type[VectorData] = VectorData,
        **kwargs: Any,
    ) -> VectorData:
        """Add a column (ragged with ``index=True``, doubly ragged with ``index=2``); ``data`` fills existing rows."""
        column = col_cls(
            name=name, description=description, dtype=np.dtype(dtype) if dtype is not None else None, **kwargs
        )
        if index:
            column.index = VectorIndex(
                name=f"{name}_index", description=f"Index for VectorData '{name}'", target=column
            )
            if index is not True and int(index) == 2:
                column.index.index = VectorIndex(
                    name=f"{name}_index_index", description=f"Index for VectorIndex '{name}_index'", target=column.index
                )
            elif index is not True and int(index) != 1:
                raise self._fail(name, f"index={index!r}: a column is ragged once (True or 1) or twice (2)")
        self._add_child("columns", column)
        if column.index is not None:
            self._adopt(column.index)
            if column.index.index is not None:
                self._adopt(column.index.index)
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
            self._check_stored(self.columns[name], value)
        for name, value in values.items():
            self._append_cell(self.columns[name], value)
        self.id.append(len(self) if id is None else int(id))

    def _check_cell(self, column: VectorData, value: Any) -> None:
        """Reject a cell before anything is appended (hook for typed tables)."""

    def _check_stored(self, column: VectorData, value: Any) -> None:
        """A cell of a column read from a store must fit its stored dtype (it is appended in place)."""
        if isinstance(column.data, LazyArray):
            if column.index is None:
                column.check_growth(value, self._label)
                return
            cells = list(value) if column.index.index is not None else [value]
            for cell in cells:
                if isinstance(cell, str | bytes) or not isinstance(cell, Iterable | np.ndarray):
                    raise ValidationError(
                        f"{self._label}, column {column.name!r}: a ragged cell is a list, got {cell!r}"
                    )
                for item in cell:
                    column.check_growth(item, self._label)

    def _append_cell(self, column: VectorData, value: Any) -> None:
        if column.index is None:
            column.append(value)
            return
        outer = column.index.index
        if outer is not None:  # doubly ragged: a list of ragged cells, then the outer offset
            for cell in value:
                self._append_ragged(column, column.index, cell)
            outer.append(len(column.index))
            return
        self._append_ragged(column, column.index, value)

    @staticmethod
    def _append_ragged(column: VectorData, index: VectorIndex, value: Any) -> None:
        items = list(value)
        if isinstance(column.data, LazyArray):  # stored: the new elements and their end offset wait for the write
            column.pending.extend(items)
            index.append(len(column))
            return
        if not isinstance(column.data, list):
            column.data = list(column.data)
        column.data.extend(items)
        index.append(len(column.data))

    def __getitem__(self, key: str) -> VectorData:
        try:
            return self.columns[key]
        except ContainerNotFoundError:
            raise ContainerNotFoundError(f"{self._label}: no column {key!r} (columns: {list(self.columns)})") from None

    def cell(self, column: str, row: int) -> Any:
        """One cell's value (a ragged cell is the list of its elements)."""
        col = self[column]
        if col.index is not None:
            return (col.index.index or col.index).row(row)
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
        from nwbzarr.core.optional import require

        pd = require("pandas", "DynamicTable.to_dataframe()")
        data: dict[str, Any] = {}
        for name, column in self.columns.items():
            data[name] = self._frame_column(column)
        ids = pd.Index(self.id.as_array(), name="id")
        frame: pandas.DataFrame = pd.DataFrame(data, index=ids)
        return frame

    @staticmethod
    def _frame_column(column: VectorData) -> Any:
        holds_objects = column.holds_objects()
        values: Any = list(column.data) if holds_objects else column.as_array()
        if column.index is None:
            if holds_objects:
                return values
            return list(values) if values.ndim > 1 else values
        offsets = column.index.as_array().astype(np.int64)
        starts = np.concatenate([[0], offsets[:-1]]).astype(np.int64)
        outer = column.index.index
        if outer is not None:  # doubly ragged: each row is a list of arrays (PyNWB's waveforms)
            cells = [values[s:e] for s, e in zip(starts, offsets, strict=True)]
            ends = outer.as_array().astype(np.int64)
            return [cells[s:e] for s, e in zip(np.concatenate([[0], ends[:-1]]).astype(np.int64), ends, strict=True)]
        if holds_objects:
            return [values[s:e] for s, e in zip(starts, offsets, strict=True)]
        if values.dtype.names:
            return [[tuple(x.tolist()) for x in values[s:e]] for s, e in zip(starts, offsets, strict=True)]
        return [values[s:e] for s, e in zip(starts, offsets, strict=True)]
