"""Checks of single values that every model field shares: names, text, numbers and arrays.

They run when an object is built, so that nothing a constructor accepts can fail inside ``write()``
(after the store was changed) for a reason the constructor could have seen. Each returns what is
wrong as a phrase (``None`` when the value is fine); the caller names the object and the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["MAX_NAME_BYTES", "array_problem", "as_array", "integer_problem", "name_problem", "text_problem"]

#: the longest object name (the common filesystem limit on one path part, which a local store needs)
MAX_NAME_BYTES = 255

_NOT_ARRAYS = (str, bytes, bytearray, Mapping, set, frozenset)


def _utf8(text: str) -> int | None:
    try:
        return len(text.encode("utf-8"))
    except UnicodeEncodeError:
        return None


def name_problem(name: str) -> str | None:
    """What keeps ``name`` (already a non-empty str without '/') from being stored, or None."""
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in name):
        return "contains a NUL or control character"
    size = _utf8(name)
    if size is None:
        return "is not valid Unicode text (it holds a lone surrogate)"
    if size > MAX_NAME_BYTES:
        return f"is {size} bytes long; a name is at most {MAX_NAME_BYTES} bytes (UTF-8)"
    return None


def text_problem(text: str) -> str | None:
    """What keeps ``text`` from being stored as UTF-8 text, or None (a NUL is text: Zarr keeps it)."""
    if _utf8(text) is None:
        return "is not valid Unicode text (it holds a lone surrogate)"
    return None


def integer_problem(value: int, dtype: np.dtype) -> str | None:
    """Whether the integer ``value`` fits the schema's integer ``dtype``."""
    info = np.iinfo(dtype)
    if not info.min <= value <= info.max:
        return f"{value} is outside {dtype} ({info.min} to {info.max})"
    return None


def as_array(value: Any) -> tuple[Any, str | None]:
    """``value`` as an array-like (lists become numpy arrays), or why it is not one.

    Array-likes are anything with ``shape`` and ``dtype`` (numpy, dask, h5py, lazy arrays, DataIO,
    FrameStream); text, bytes, mappings, sets and scalars are not.
    """
    if isinstance(value, _NOT_ARRAYS):
        return value, f"must be an array, got {type(value).__name__}"
    if isinstance(value, (list, tuple)):
        try:
            value = np.asarray(value)
        except (ValueError, TypeError) as exc:
            return value, f"must be a rectangular array: {exc}"
    if not (hasattr(value, "shape") and hasattr(value, "dtype")):
        return value, f"must be an array (numpy, dask, h5py, DataIO...), got {type(value).__name__}"
    return value, None


def array_problem(value: Any, numeric: bool) -> str | None:
    """What is wrong with the elements of an array-like: a schema number wants numbers; any other
    dtype accepts numbers, booleans and text, but not arbitrary Python objects."""
    dtype = value.dtype
    kind = getattr(dtype, "kind", "?")
    if numeric:
        return None if kind in "biuf" else f"must be numeric, got dtype {dtype}"
    if isinstance(value, np.ndarray) and value.dtype.hasobject:
        odd = next((v for v in value.flat if not isinstance(v, str)), None) if value.dtype.kind == "O" else value
        if odd is not None:
            return f"an array of Python objects ({type(odd).__name__}) is neither numbers nor text"
    return None
