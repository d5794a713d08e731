"""Walking a container tree from instance state only: no deferred value is resolved, nothing is read."""

from __future__ import annotations

from collections.abc import Iterator

from nwbzarr.model.base import Children, Container
from nwbzarr.model.spec import Kind, members
from nwbzarr.model.table import DynamicTable

__all__ = ["owned", "walk"]


def owned(obj: Container) -> Iterator[Container]:
    """Direct children owned by ``obj`` (not links), including a table's column indexes."""
    for field_name, member in members(obj):
        value = obj.__dict__.get(field_name)
        if member.kind is Kind.CHILD and isinstance(value, Container) and value.parent is obj:
            yield value
        elif member.kind is Kind.CHILDREN and isinstance(value, Children):
            yield from (v for v in value.values() if v.parent is obj)
    if isinstance(obj, DynamicTable):
        columns = obj.__dict__.get("columns")
        for column in columns.values() if isinstance(columns, Children) else ():
            index = column.__dict__.get("index")
            if isinstance(index, Container) and index.parent is obj:
                yield index


def walk(obj: Container) -> Iterator[Container]:
    """``obj`` and everything it owns, depth first."""
    stack = [obj]
    while stack:
        item = stack.pop()
        yield item
        stack.extend(reversed(list(owned(item))))
