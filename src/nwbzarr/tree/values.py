"""How stored values become tree values, the same way in every reader.

Text becomes ``str``, references :class:`Reference`, compounds are converted field by field, and
attribute lists of numbers become numpy arrays.

Attribute values carry their stored type, so that every backend writes back what it read:

- ``str`` is UTF-8 text, :class:`Ascii` (a ``str``) ASCII text; lists of either are 1-d text arrays;
- ``bool``, ``int`` and ``float`` are HDF5's bool, int64 and float64 (and JSON's defaults);
- any other numeric scalar is a numpy scalar of its exact type (``np.uint32(3)``);
- numeric arrays are numpy arrays of their exact type.

:func:`canonical_attribute` brings a value read from any store into that form, and
:func:`stored_type` / :func:`with_stored_type` are what a store without types (JSON) records and
restores: ``with_stored_type(json(v), stored_type(v)) == v`` for every canonical ``v``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from nwbzarr.core.dtypes import Compound, DataType, ObjectRef, Text
from nwbzarr.tree.nodes import Reference

__all__ = [
    "Ascii",
    "as_objects",
    "canonical_attribute",
    "from_storage",
    "numbers_as_array",
    "stored_type",
    "to_text",
    "with_stored_type",
]


class Ascii(str):
    """Text stored as ASCII (HDF5 keeps the encoding; PyNWB writes some text so): a ``str`` everywhere else."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"Ascii({str.__repr__(self)})"


#: numpy scalar types whose values are plain Python values in the tree
_PLAIN = {np.dtype("int64"): int, np.dtype("float64"): float, np.dtype("bool"): bool}


def canonical_attribute(value: Any) -> Any:
    """``value`` in the tree's attribute form: int64/float64/bool scalars as Python values, others exact."""
    if isinstance(value, np.generic) and not isinstance(value, (np.str_, np.bytes_)):
        plain = _PLAIN.get(value.dtype)
        return plain(value.item()) if plain is not None else value
    if isinstance(value, (bytes, np.bytes_)):
        return Ascii(value.decode("ascii", errors="surrogateescape"))
    if isinstance(value, np.str_):
        return str(value)
    return value


def stored_type(value: Any) -> str | None:
    """The type name a JSON store must record to give ``value`` back exactly; None when JSON says it.

    Numpy scalars and arrays record their dtype (arrays always: JSON cannot tell an empty or n-d array
    from a list); ASCII text records ``"ascii"``.
    """
    if isinstance(value, Ascii):
        return "ascii"
    if isinstance(value, list) and value and all(isinstance(v, Ascii) for v in value):
        return "ascii"
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return str(value.dtype.name)
    if isinstance(value, np.generic) and value.dtype.kind in "biuf" and value.dtype not in _PLAIN:
        return str(value.dtype.name)
    return None


def with_stored_type(value: Any, name: str | None) -> Any:
    """A JSON value given back its recorded stored type (see :func:`stored_type`)."""
    if name is None:
        return value
    if name == "ascii":
        return [Ascii(v) for v in value] if isinstance(value, list) else Ascii(value)
    dtype = np.dtype(name)
    if dtype.kind not in "biuf":
        raise ValueError(f"not a numeric type: {name!r}")
    if isinstance(value, list):
        return np.asarray(value, dtype=dtype)
    return canonical_attribute(dtype.type(value))


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
