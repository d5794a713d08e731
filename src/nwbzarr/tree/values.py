"""How stored values become tree values, the same way in every reader.

Text becomes ``str``, references :class:`Reference`, compounds are converted field by field, and
attribute lists of numbers become numpy arrays.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from nwbzarr.dtypes import Compound, DataType, ObjectRef, Text
from nwbzarr.tree.nodes import Reference

__all__ = ["as_objects", "from_storage", "numbers_as_array", "to_text"]


def as_objects(values: np.ndarray, convert: Callable[[Any], Any]) -> np.ndarray:
    """An object array of ``convert(v)`` for every element, in the same shape."""
    out = np.empty(values.shape, dtype=object)
    out.ravel()[:] = [convert(v) for v in values.ravel()]
    return out


def to_text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def from_storage(dtype: DataType, values: np.ndarray, to_reference: Callable[[Any], Reference]) -> np.ndarray:
    """Stored values in the tree's form; ``to_reference`` turns one stored reference into a Reference."""
    if isinstance(dtype, Text):
        return as_objects(values, to_text)
    if isinstance(dtype, ObjectRef):
        return as_objects(values, to_reference)
    if isinstance(dtype, Compound) and any(not isinstance(f.dtype, np.dtype) for f in dtype.fields):
        out = np.empty(values.shape, dtype=dtype.to_numpy())
        for f in dtype.fields:
            column = values[f.name]
            if isinstance(f.dtype, ObjectRef):
                out[f.name] = as_objects(column, to_reference)
            elif isinstance(f.dtype, Text):
                out[f.name] = as_objects(column, to_text)
            else:
                out[f.name] = column
        return out
    return values


def numbers_as_array(value: Any) -> Any:
    """A non-empty list of numbers (not bools) as a numpy array; anything else unchanged."""
    if (
        isinstance(value, list)
        and value
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
    ):
        return np.asarray(value)
    return value
