"""Format-neutral NWB tree and its data types; see :mod:`nwbzarr.tree.nodes`."""

from nwbzarr.core.dtypes import ASCII, REF, UTF8, Compound, CompoundField, DataType, ObjectRef, Text
from nwbzarr.tree.layout import Compression, Layout
from nwbzarr.tree.nodes import ArrayData, Dataset, Group, Link, Node, Reference, walk

__all__ = [
    "ASCII",
    "REF",
    "UTF8",
    "ArrayData",
    "Compound",
    "CompoundField",
    "Compression",
    "DataType",
    "Dataset",
    "Group",
    "Layout",
    "Link",
    "Node",
    "ObjectRef",
    "Reference",
    "Text",
    "walk",
]
