"""The format-neutral NWB hierarchy: groups, datasets, links and references.

Backends read a store into this tree and write this tree into a store; the codec maps it to and
from the container model. Because conversion works here, a file whose types the model does not
know still converts without loss.

Every value carries its stored type: a Dataset's ``dtype`` (numpy, or Text with its encoding), and
attributes by their Python/numpy type (``np.uint32(3)``, :class:`~nwbzarr.tree.values.Ascii` text; see
:mod:`nwbzarr.tree.values`), so that every backend writes back exactly what it read.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nwbzarr.abc.array import LazyArray
from nwbzarr.core.dtypes import DataType
from nwbzarr.errors import InvalidStoreError
from nwbzarr.tree.layout import Layout
from nwbzarr.tree.paths import join, split

__all__ = ["ArrayData", "Dataset", "Group", "Link", "Node", "Reference", "walk"]


@dataclass(frozen=True, kw_only=True, slots=True)
class Reference:
    """An object reference (a value): the target's absolute path, in this file when source is '.'."""

    path: str
    source: str = "."


@dataclass(frozen=True, kw_only=True, slots=True)
class Link:
    """A soft link (a member of a group) to the node at ``path``; external when source is not '.'."""

    path: str
    source: str = "."


ArrayData = np.ndarray | LazyArray


@dataclass(kw_only=True, eq=False)
class Dataset:
    """An n-d array with attributes. ``data`` is numpy in memory or a :class:`LazyArray` from a store."""

    dtype: DataType
    data: Any
    attrs: dict[str, Any] = field(default_factory=dict)
    #: dimension names from the schema (written by Zarr as ``_ARRAY_DIMENSIONS``)
    dims: tuple[str, ...] | None = None
    layout: Layout | None = None

    @property
    def shape(self) -> tuple[int, ...]:
        """The dataset shape (no I/O)."""
        return tuple(self.data.shape)

    def read(self) -> np.ndarray:
        """The whole array in memory (0-d for a scalar)."""
        if isinstance(self.data, LazyArray):
            return self.data.read()
        return np.asarray(self.data)


@dataclass(kw_only=True, eq=False)
class Group:
    """A group: attributes and named members (groups, datasets, links), in insertion order."""

    attrs: dict[str, Any] = field(default_factory=dict)
    members: dict[str, Group | Dataset | Link] = field(default_factory=dict)

    def get(self, path: str) -> Group | Dataset | Link | None:
        """The member at a relative path ('a/b'), following no links; ``None`` if absent."""
        node: Group | Dataset | Link = self
        for part in split(path):
            if not isinstance(node, Group) or part not in node.members:
                return None
            node = node.members[part]
        return node

    def require_group(self, path: str) -> Group:
        """The group at a relative path, creating missing untyped groups on the way."""
        node = self
        for part in split(path):
            child = node.members.get(part)
            if child is None:
                child = node.members[part] = Group()
            if not isinstance(child, Group):
                raise InvalidStoreError(f"{join(path)}: expected a group at {part!r}")
            node = child
        return node


Node = Group | Dataset | Link


def walk(group: Group, path: str = "/") -> Iterator[tuple[str, Node]]:
    """Every node below ``group`` (pre-order), with its absolute path; links are yielded, not followed."""
    yield path, group
    for name, member in group.members.items():
        child_path = join(path, name)
        if isinstance(member, Group):
            yield from walk(member, child_path)
        else:
            yield child_path, member
