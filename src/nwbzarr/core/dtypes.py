"""Format-neutral data types of NWB datasets.

Numbers are plain ``numpy.dtype`` objects. The three kinds numpy cannot say on its own get a small
frozen type each: text (with the encoding HDF5 keeps and Zarr v3 does not), object references, and
compounds whose fields may be text or references.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

__all__ = [
    "ASCII",
    "REF",
    "UTF8",
    "Compound",
    "CompoundField",
    "DataType",
    "FieldType",
    "ObjectRef",
    "Text",
    "dtype_name",
    "is_numeric",
]


@dataclass(frozen=True, kw_only=True, slots=True)
class Text:
    """Variable-length text. ``ascii`` is kept so HDF5 -> Zarr -> HDF5 restores PyNWB's typing."""

    encoding: Literal["utf8", "ascii"] = "utf8"


@dataclass(frozen=True, kw_only=True, slots=True)
class ObjectRef:
    """A reference to another node of the same file, held as :class:`nwbzarr.tree.Reference`."""


FieldType = np.dtype | Text | ObjectRef


@dataclass(frozen=True, kw_only=True, slots=True)
class CompoundField:
    name: str
    dtype: FieldType


@dataclass(frozen=True, kw_only=True, slots=True)
class Compound:
    """A struct of named fields. In memory: a numpy structured array (text/ref fields as objects)."""

    fields: tuple[CompoundField, ...]

    @property
    def names(self) -> tuple[str, ...]:
        """Field names, in order."""
        return tuple(f.name for f in self.fields)

    def to_numpy(self) -> np.dtype:
        """The in-memory numpy dtype: numeric fields native, text and reference fields ``object``."""
        return np.dtype([(f.name, f.dtype if isinstance(f.dtype, np.dtype) else np.dtype(object)) for f in self.fields])

    @property
    def reference_fields(self) -> tuple[str, ...]:
        """Names of the fields that hold object references."""
        return tuple(f.name for f in self.fields if isinstance(f.dtype, ObjectRef))


DataType = np.dtype | Text | ObjectRef | Compound

UTF8 = Text(encoding="utf8")
ASCII = Text(encoding="ascii")
REF = ObjectRef()


def is_numeric(dtype: DataType) -> bool:
    return isinstance(dtype, np.dtype) and dtype.kind in "biuf"


def dtype_name(dtype: DataType) -> str:
    """A short human name: ``uint16``, ``text``, ``ascii``, ``reference``, ``compound{x,y,weight}``."""
    if isinstance(dtype, np.dtype):
        return str(dtype)
    if isinstance(dtype, Text):
        return "text" if dtype.encoding == "utf8" else "ascii"
    if isinstance(dtype, ObjectRef):
        return "reference"
    return "compound{" + ",".join(dtype.names) + "}"
