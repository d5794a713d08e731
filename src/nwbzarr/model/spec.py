"""The single description of every member of every NWB type.

Each model class is a dataclass whose fields are declared with the specifiers below. A field's
metadata (:class:`Member`) says where the member lives in the NWB hierarchy (attribute, dataset,
link, single child or named children), its schema dtype and dims, and whether it is required.
Constructors, validation, ``repr``, equality and the codec all read this one table.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import MISSING, dataclass
from enum import Enum
from typing import Any

__all__ = [
    "Kind",
    "Member",
    "attribute",
    "child",
    "children",
    "dataset",
    "link",
    "member_of",
    "members",
]


class Kind(Enum):
    ATTRIBUTE = "attribute"  # an attribute of the group, or of one of its datasets (``on``)
    DATASET = "dataset"  # a named dataset inside the group (or a nested path such as general/lab)
    LINK = "link"  # a soft link to another object of the file
    CHILD = "child"  # one typed child with a fixed name (CorrectedImageStack/corrected)
    CHILDREN = "children"  # any number of typed children, each under its own name


@dataclass(frozen=True, kw_only=True, slots=True)
class Member:
    """Where and how one field is stored. ``path`` is relative to the object's own group."""

    kind: Kind
    path: str = ""  # storage name (DATASET/LINK/CHILD/CHILDREN folder); "" -> the field name
    on: str = ""  # ATTRIBUTE: the dataset it is attached to ("" = the group itself)
    dtype: str | None = None  # schema dtype: text, isodatetime, float32, uint32, numeric, ref ...
    dims: tuple[tuple[str, ...], ...] = ()  # allowed dimension-name tuples (their lengths = ranks)
    required: bool = False
    lazy: bool = False  # DATASET: keep as a lazy array on read (bulk data), else read on access
    doc: str = ""

    def storage_name(self, field_name: str) -> str:
        return self.path or field_name


_KEY = "nwb"


def _field(member: Member, default: Any, default_factory: Any, kw_only: bool) -> Any:
    if default is not MISSING and default_factory is not MISSING:
        raise TypeError("give default or default_factory, not both")
    if default is not MISSING:
        return dataclasses.field(default=default, kw_only=kw_only, metadata={_KEY: member})
    if default_factory is not MISSING:
        return dataclasses.field(default_factory=default_factory, kw_only=kw_only, metadata={_KEY: member})
    return dataclasses.field(kw_only=kw_only, metadata={_KEY: member})


def attribute(
    *,
    name: str = "",
    on: str = "",
    dtype: str = "text",
    dims: tuple[tuple[str, ...], ...] = (),
    default: Any = MISSING,
    default_factory: Any = MISSING,
    kw_only: bool = True,
    doc: str = "",
) -> Any:
    """An attribute; ``on='data'`` attaches it to the ``data`` dataset (``data@unit``)."""
    required = default is MISSING and default_factory is MISSING
    member = Member(kind=Kind.ATTRIBUTE, path=name, on=on, dtype=dtype, dims=dims, required=required, doc=doc)
    return _field(member, default, default_factory, kw_only)


def dataset(
    *,
    path: str = "",
    dtype: str | None = None,
    dims: tuple[tuple[str, ...], ...] = (),
    lazy: bool = False,
    default: Any = MISSING,
    default_factory: Any = MISSING,
    kw_only: bool = True,
    doc: str = "",
) -> Any:
    """A dataset member; ``lazy`` ones stay in the store until sliced."""
    required = default is MISSING and default_factory is MISSING
    member = Member(kind=Kind.DATASET, path=path, dtype=dtype, dims=dims, lazy=lazy, required=required, doc=doc)
    return _field(member, default, default_factory, kw_only)


def link(*, path: str = "", default: Any = MISSING, kw_only: bool = True, doc: str = "") -> Any:
    """A link to an object that lives elsewhere in the file (written as a soft link)."""
    member = Member(kind=Kind.LINK, path=path, required=default is MISSING, doc=doc)
    return _field(member, default, MISSING, kw_only)


def child(*, path: str = "", default: Any = MISSING, kw_only: bool = True, doc: str = "") -> Any:
    """One typed child stored under a fixed name (the field name, or ``path``)."""
    member = Member(kind=Kind.CHILD, path=path, required=default is MISSING, doc=doc)
    return _field(member, default, MISSING, kw_only)


def children(
    *,
    path: str = "",
    default_factory: Callable[[], Any],
    required: bool = False,
    kw_only: bool = True,
    doc: str = "",
) -> Any:
    """Named typed children; ``path`` is the folder that holds them ('' = the object's own group).

    ``required`` folders are written even when empty (NWBFile's acquisition, processing...).
    """
    member = Member(kind=Kind.CHILDREN, path=path, required=required, doc=doc)
    return _field(member, MISSING, default_factory, kw_only)


def member_of(f: dataclasses.Field[Any]) -> Member | None:
    member = f.metadata.get(_KEY)
    return member if isinstance(member, Member) else None


def members(cls_or_obj: Any) -> list[tuple[str, Member]]:
    """``(field name, Member)`` for every stored field, in declaration order."""
    out = []
    for f in dataclasses.fields(cls_or_obj):
        member = member_of(f)
        if member is not None:
            out.append((f.name, member))
    return out
