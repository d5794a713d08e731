"""Conversion of single values between the model's Python form and the tree's stored form."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np

from nwbzarr.abc.array import LazyArray
from nwbzarr.core.dtypes import ASCII, UTF8, Compound, CompoundField, DataType, ObjectRef, Text
from nwbzarr.tree.layout import Layout
from nwbzarr.tree.values import canonical_attribute, numbers_as_array
from nwbzarr.writing.dataio import DataIO

__all__ = ["decode_value", "encode_attribute", "encode_dataset_value", "numpy_to_tree_dtype", "pick_dims"]


def encode_dataset_value(schema_dtype: str | None, value: Any) -> tuple[DataType, Any, Layout | None]:
    """(tree dtype, data, layout) for a dataset value of the model."""
    layout = None
    if isinstance(value, DataIO):
        layout, value = value.layout, value.data
    if schema_dtype == "text":
        return UTF8, _object_array(value), layout
    if schema_dtype == "isodatetime":
        if isinstance(value, datetime):
            return ASCII, np.array(value.isoformat(), dtype=object), layout
        return ASCII, _object_array([v.isoformat() for v in value]), layout
    if isinstance(value, (bool, int, float, np.generic)):
        # scalars: Python floats stay float64 (as hdmf writes them); ints take the schema's type
        if isinstance(value, int) and not isinstance(value, bool) and schema_dtype and schema_dtype[0] in "iu":
            arr = np.array(value, dtype=schema_dtype)
        else:
            arr = np.array(value)
        return arr.dtype, arr, layout
    if isinstance(value, (list, tuple)):
        value = np.asarray(value)
    dtype = value.dtype if isinstance(value, LazyArray) else np.dtype(value.dtype)
    if isinstance(dtype, np.dtype) and dtype.names:
        return numpy_to_tree_dtype(dtype), value, layout
    return dtype, value, layout


def numpy_to_tree_dtype(dtype: np.dtype) -> DataType:
    if dtype.names:
        fields = tuple(CompoundField(name=n, dtype=UTF8 if dtype[n].kind in "OUS" else dtype[n]) for n in dtype.names)
        return Compound(fields=fields)
    if dtype.kind in "OUT":
        return UTF8
    return dtype


def _object_array(value: Any) -> np.ndarray:
    if isinstance(value, str):
        return np.array(value, dtype=object)
    out = np.empty(len(value), dtype=object)
    out[:] = [str(v) for v in value]
    return out


def encode_attribute(value: Any) -> Any:
    """Attribute values in the tree: Python scalars, str, list[str], numpy numeric arrays.

    A numpy scalar keeps its type (``np.uint32`` stays uint32 in every store), except int64/float64/bool,
    which are the tree's plain Python values (see :mod:`nwbzarr.tree.values`).
    """
    if isinstance(value, np.generic):
        return canonical_attribute(value)
    return numbers_as_array(list(value) if isinstance(value, tuple) else value)


def decode_value(schema_dtype: str | None, data: np.ndarray, tree_dtype: DataType) -> Any:
    """The model's Python form of a small dataset already read into memory."""
    if schema_dtype == "isodatetime":
        if data.ndim == 0:
            return datetime.fromisoformat(_text(data[()]))
        return tuple(datetime.fromisoformat(_text(v)) for v in data)
    if isinstance(tree_dtype, Text) or schema_dtype == "text":
        if data.ndim == 0:
            return _text(data[()])
        return tuple(_text(v) for v in data)
    if isinstance(tree_dtype, (ObjectRef, Compound)):
        return data
    if data.ndim == 0:
        item: Any = data[()]
        return item.item() if isinstance(item, np.generic) else item
    return data


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def pick_dims(options: tuple[tuple[str, ...], ...], shape: tuple[int, ...]) -> tuple[str, ...] | None:
    """The schema's dimension names for an array of this shape (``x, y`` vs ``x, y, z`` by length)."""
    fits = [d for d in options if len(d) == len(shape)]
    if len(fits) > 1 and len(shape) == 1:
        by_length = [d for d in fits if len(d[0].split(",")) == shape[0] or len(d[0].split("|")) == shape[0]]
        fits = by_length or fits
    return fits[0] if fits else None
