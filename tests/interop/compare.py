"""Compare an nwbzarr NWBFile with PyNWB's reading of the same file, value for value."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np

from nwbzarr.model import Container, DynamicTable, NWBFile
from nwbzarr.model.base import Children
from nwbzarr.model.spec import Kind, members

#: our field name -> PyNWB attribute name, where they differ
RENAMES = {"stimulus_notes": "stimulus_notes", "imaging_planes": "imaging_planes"}
#: fields PyNWB exposes differently and that are checked another way
SKIP = {"columns"}


def assert_same_as_pynwb(ours: NWBFile, theirs: Any) -> int:
    """Every object and field of ``ours`` equals PyNWB's; returns the number of values compared."""
    by_id = {obj.object_id: obj for obj in theirs.objects.values()}
    compared = 0
    for obj in ours.all_children():
        other = by_id.get(obj.object_id)
        assert other is not None, f"PyNWB has no object with the id of {obj._label}"
        assert type(other).__name__ == type(obj).__name__, (obj._label, type(other))
        assert other.name == obj.name
        for field_name, member in members(obj):
            if field_name in SKIP:
                continue
            mine = getattr(obj, field_name)
            if field_name == "data" and hasattr(obj, "as_array") and not getattr(obj, "RESOLVES_REFERENCES", False):
                mine = obj.as_array()
            theirs_value = getattr(other, RENAMES.get(field_name, field_name), None)
            where = f"{obj._label}.{field_name}"
            if member.kind in (Kind.LINK, Kind.CHILD) or (member.kind is Kind.ATTRIBUTE and member.dtype == "ref"):
                assert (mine is None) == (theirs_value is None), where
                if mine is not None:
                    assert theirs_value.object_id == mine.object_id, where
            elif member.kind is Kind.CHILDREN:
                theirs_names = set(
                    theirs_value.keys() if hasattr(theirs_value, "keys") else [c.name for c in theirs_value]
                )
                assert set(mine) == theirs_names, where
            elif field_name == "num_samples" and mine is None:  # PyNWB derives it from data when not stored
                assert theirs_value == len(obj.data), where  # type: ignore[attr-defined]
            else:
                _assert_value(mine, theirs_value, where)
            compared += 1
        if isinstance(obj, DynamicTable):
            _assert_table(obj, other)
    return compared


def _assert_value(mine: Any, theirs: Any, where: str) -> None:
    if mine is None:
        assert theirs is None or (isinstance(theirs, (list, tuple)) and not theirs), f"{where}: {theirs!r}"
        return
    if isinstance(mine, Children):
        return
    if isinstance(mine, list) and mine and isinstance(mine[0], (Container, tuple)):  # references to objects
        assert [_by_id(x) for x in mine] == [_by_id(y) for y in theirs[:]], where
        return
    if isinstance(mine, datetime):
        assert theirs == mine, where
        return
    if isinstance(mine, tuple) and mine and isinstance(mine[0], datetime):
        assert list(theirs) == list(mine), where
        return
    if isinstance(mine, (str, int, float)) and not isinstance(mine, bool):
        if isinstance(theirs, np.ndarray):
            theirs = theirs[()]
        assert theirs == mine, f"{where}: {theirs!r} != {mine!r}"
        return
    a, b = (
        np.asarray(mine[()] if hasattr(mine, "read") else mine),
        np.asarray(theirs[()] if hasattr(theirs, "shape") else theirs),
    )
    if a.dtype.kind in "OU":
        assert [str(x) for x in a.ravel()] == [str(x) for x in b.ravel()], where
    elif a.dtype.names:
        assert a.shape == b.shape and all(np.array_equal(a[n], b[n]) for n in a.dtype.names), where
    else:
        assert a.shape == b.shape and np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), where
        if a.dtype.names is None:
            assert a.dtype == b.dtype, f"{where}: dtype {b.dtype} != {a.dtype}"


def _by_id(value: Any) -> Any:
    """An object by its id; a (start, count, series) reference with its series by id."""
    if hasattr(value, "object_id"):
        return value.object_id
    return tuple(_by_id(v) if hasattr(v, "object_id") else int(v) for v in value)


def _assert_table(ours: DynamicTable, theirs: Any) -> None:
    assert list(theirs.colnames) == list(ours.colnames)
    mine_df, their_df = ours.to_dataframe(), theirs.to_dataframe()
    assert list(mine_df.index) == list(their_df.index)
    for column in mine_df.columns:
        for x, y in zip(mine_df[column], their_df[column], strict=True):
            assert_cell_equal(x, y, f"{ours._label}[{column!r}]")


def assert_cell_equal(x: Any, y: Any, where: str) -> None:
    """One DataFrame cell of ours equals PyNWB's (numbers, text, compound rows, references by id)."""
    if isinstance(x, list) and x and isinstance(x[0], tuple) and hasattr(x[0], "timeseries"):
        assert [_by_id(v) for v in x] == [_by_id(v) for v in y], where
        return
    if hasattr(x, "timeseries"):
        assert _by_id(x) == _by_id(y), where
        return
    a = np.asarray(x)
    if a.dtype.kind in "OUS" or isinstance(x, str):
        assert [str(v) for v in np.ravel(a)] == [str(v) for v in np.ravel(np.asarray(y))], where
        return
    b = np.asarray(
        [tuple(v) for v in y] if len(np.shape(y)) == 1 and np.ndim(y) and isinstance(y[0], (tuple, np.void)) else y
    )
    assert np.array_equal(np.asarray(x, dtype=float), np.asarray(b, dtype=float)), where


__all__ = ["Container", "assert_cell_equal", "assert_same_as_pynwb"]
