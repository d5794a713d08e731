"""Tree data types <-> zarr v3 data types and hdmf-zarr's ``_DTYPE`` hint."""

from __future__ import annotations

from typing import Any

import numpy as np

from nwbzarr.core.dtypes import ASCII, REF, UTF8, Compound, CompoundField, DataType, ObjectRef, Text
from nwbzarr.errors import InvalidStoreError

__all__ = ["COMPOUND_MIN_CHARS", "dtype_hint", "storage_dtype", "to_storage", "tree_dtype"]

#: text/reference fields of compounds are fixed-width UTF-32 of at least this many characters
#: (hdmf-zarr's choice, so later appends of longer paths fit)
COMPOUND_MIN_CHARS = 512


def dtype_hint(dtype: DataType) -> str | None:
    """The ``_DTYPE`` attribute hdmf-zarr writes (none on compounds).

    hdmf-zarr writes ``"str"`` for all text and lets the schema restore ASCII; nwbzarr writes ``"ascii"``
    (a name in hdmf-zarr's own type table, so it reads such stores) to keep the encoding for any file.
    """
    if isinstance(dtype, Text):
        return "ascii" if dtype.encoding == "ascii" else "str"
    if isinstance(dtype, ObjectRef):
        return "object_reference"
    if isinstance(dtype, Compound):
        return None
    return str(dtype)


def storage_dtype(dtype: DataType, data: Any) -> Any:
    """The dtype to create the zarr array with."""
    if isinstance(dtype, (Text, ObjectRef)):
        return str
    if isinstance(dtype, Compound):
        fields: list[tuple[str, Any]] = []
        for f in dtype.fields:
            if isinstance(f.dtype, np.dtype):
                fields.append((f.name, f.dtype))
            else:
                longest = _longest(data, f.name, isinstance(f.dtype, ObjectRef))
                fields.append((f.name, f"<U{max(longest, COMPOUND_MIN_CHARS)}"))
        return np.dtype(fields)
    return dtype


def _longest(data: Any, field: str, reference: bool) -> int:
    array = np.asarray(data)
    values: Any = array[field].ravel() if array.size else []
    return max((len(v.path if reference else str(v)) for v in values), default=0)


def to_storage(dtype: DataType, block: np.ndarray, zdtype: Any) -> np.ndarray:
    """Convert an in-memory block to what zarr stores (reference objects become paths)."""
    if isinstance(dtype, ObjectRef):
        out = np.empty(block.shape, dtype=object)
        out.ravel()[:] = [ref.path for ref in block.ravel()]
        return out
    if isinstance(dtype, Compound) and any(not isinstance(f.dtype, np.dtype) for f in dtype.fields):
        out = np.empty(block.shape, dtype=zdtype)
        for f in dtype.fields:
            column = block[f.name]
            if isinstance(f.dtype, ObjectRef):
                out[f.name] = [ref.path for ref in column.ravel()]
            else:
                out[f.name] = column
        return out
    return block


def tree_dtype(native: np.dtype, attrs: dict[str, Any], where: str) -> DataType:
    """The tree's view of a stored array: text, references and compounds recovered from hints."""
    hint = attrs.get("_DTYPE")
    if native.names:
        ref_fields = set(attrs.get("_REFERENCE_FIELDS") or ())
        fields = []
        for name in native.names:
            sub = native[name]
            if name in ref_fields:
                fields.append(CompoundField(name=name, dtype=REF))
            elif sub.kind in "UOT":
                fields.append(CompoundField(name=name, dtype=UTF8))
            else:
                fields.append(CompoundField(name=name, dtype=sub))
        return Compound(fields=tuple(fields))
    if native.kind in "UOTS":
        if hint == "object_reference":
            return REF
        return ASCII if hint == "ascii" else UTF8
    if hint == "object_reference":
        raise InvalidStoreError(f"{where}: _DTYPE says object_reference but the data type is {native}")
    return native
