"""Tree -> model: ``decode(tree)`` builds the NWBFile of a stored file.

Bulk data stays lazy (the tree's lazy arrays), scalars and small arrays are :class:`Deferred` until
first used, and whatever the model does not know (other types, extra attributes) is kept on the
nearest object as ``_extra`` and written back unchanged by ``encode``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from nwbzarr.abc.array import LazyArray
from nwbzarr.codec.values import decode_value
from nwbzarr.dtypes import Compound
from nwbzarr.errors import InvalidStoreError
from nwbzarr.model import REGISTRY, Children, Container, DynamicTable, NWBFile, VectorIndex
from nwbzarr.model.base import Deferred, _field_type
from nwbzarr.model.spec import Kind, Member
from nwbzarr.model.table import VectorData
from nwbzarr.model.timeseries import TimeSeries
from nwbzarr.tree.nodes import Dataset, Group, Link, Node, Reference
from nwbzarr.tree.paths import join, split

__all__ = ["decode"]

_TYPE_KEYS = ("namespace", "neurodata_type", "object_id")


def decode(root: Group) -> NWBFile:
    """The NWBFile at the root of ``root``."""
    if root.attrs.get("neurodata_type") != "NWBFile":
        raise InvalidStoreError(f"/: not an NWB file (root neurodata_type is {root.attrs.get('neurodata_type')!r})")
    nwbfile = _Decoder(root).container("/")
    assert isinstance(nwbfile, NWBFile)
    return nwbfile


def model_class(node: Group | Dataset) -> type[Container] | None:
    key = (node.attrs.get("namespace"), node.attrs.get("neurodata_type"))
    return REGISTRY.get(key)  # type: ignore[arg-type]


class _Decoder:
    def __init__(self, root: Group) -> None:
        self.root = root
        self.memo: dict[str, Container] = {}

    def node_at(self, path: str) -> Group | Dataset:
        node: Node = self.root
        for hops, part in enumerate(split(path)):
            if isinstance(node, Link):
                node = self.node_at(node.path) if hops < 64 else node
            if not isinstance(node, Group) or part not in node.members:
                raise InvalidStoreError(f"{path}: no such node in the file")
            node = node.members[part]
        if isinstance(node, Link):
            return self.node_at(node.path)
        return node

    def container(self, path: str) -> Container:
        """The object at ``path`` (one instance per path, so links share it)."""
        if path in self.memo:
            return self.memo[path]
        node = self.node_at(path)
        cls = model_class(node)
        if cls is None:
            raise InvalidStoreError(f"{path}: {node.attrs.get('neurodata_type')!r} is not a type the model knows")
        obj = cls.__new__(cls)
        self.memo[path] = obj
        object.__setattr__(obj, "parent", None)
        object.__setattr__(obj, "name", split(path)[-1] if path != "/" else "root")
        object.__setattr__(obj, "object_id", node.attrs.get("object_id") or "")
        object.__setattr__(obj, "_from_store", True)
        consumed = _Consumed()
        if isinstance(node, Dataset):
            self._fill_data(obj, node, path, consumed)
        else:
            self._fill_group(obj, node, path, consumed)
        extra = consumed.remainder(node)
        if extra is not None:
            object.__setattr__(obj, "_extra", extra)
        return obj

    # --- filling fields -----------------------------------------------------------------------
    def _fill_group(self, obj: Container, group: Group, path: str, consumed: _Consumed) -> None:
        for f in dataclasses.fields(obj):
            if f.name in ("name", "parent", "object_id"):
                continue
            member = f.metadata.get("nwb")
            value = self._field(obj, f.name, member, group, path, consumed) if isinstance(member, Member) else None
            if value is _ABSENT or (value is None and not isinstance(member, Member)):
                value = _default(f)
            object.__setattr__(obj, f.name, value)
        if isinstance(obj, TimeSeries):
            for dataset_name, fixed in obj.FIXED_ATTRIBUTES.items():
                consumed.attrs.update((dataset_name, key) for key in fixed)
        if isinstance(obj, DynamicTable):
            self._fill_table(obj, group, path, consumed)

    def _field(
        self, obj: Container, field_name: str, member: Member, group: Group, path: str, consumed: _Consumed
    ) -> Any:
        rel = member.storage_name(field_name)
        if member.kind is Kind.ATTRIBUTE:
            holder = group.get(member.on) if member.on else group
            if holder is None or isinstance(holder, Link) or rel not in holder.attrs:
                return _ABSENT
            consumed.attrs.add((member.on, rel))
            value = holder.attrs[rel]
            if member.dtype == "ref":
                if not isinstance(value, Reference):
                    raise InvalidStoreError(f"{join(path, member.on)}@{rel}: expected an object reference")
                return self.container(value.path)
            return value
        if member.kind is Kind.CHILDREN:
            if isinstance(obj, DynamicTable) and field_name == "columns":
                return _ABSENT  # filled in colnames order by _fill_table
            return self._children(obj, field_name, member, group, path, consumed)
        node = group.get(rel)
        if node is None:
            return _ABSENT
        consumed.nodes.add(rel)
        if member.kind is Kind.DATASET:
            if isinstance(node, Link):
                node = self.node_at(node.path)
            if not isinstance(node, Dataset):
                raise InvalidStoreError(f"{join(path, rel)}: expected a dataset, found a group")
            return self._dataset_value(member, node)
        target = node.path if isinstance(node, Link) else join(path, rel)
        value = self.container(target)
        if member.kind is Kind.CHILD and not isinstance(node, Link):
            object.__setattr__(value, "parent", obj)
        return value

    def _children(
        self, obj: Container, field_name: str, member: Member, group: Group, path: str, consumed: _Consumed
    ) -> Children[Any]:
        items = Children[Any](f"{obj._label}.{field_name}")
        folder = group.get(member.path) if member.path else group
        if not isinstance(folder, Group):
            return items
        accepted = _field_type(type(obj), field_name, inner=True)
        for name, node in folder.members.items():
            rel = join(member.path, name).lstrip("/")
            if rel in consumed.nodes:
                continue
            target_node = self.node_at(node.path) if isinstance(node, Link) else node
            cls = model_class(target_node)
            if cls is None or not issubclass(cls, accepted):
                continue
            target = node.path if isinstance(node, Link) else join(path, rel)
            item = self.container(target)
            if not isinstance(node, Link):
                object.__setattr__(item, "parent", obj)
            items._items[name] = item
            consumed.nodes.add(rel)
        return items

    def _dataset_value(self, member: Member, node: Dataset) -> Any:
        data = node.data
        if member.lazy or isinstance(node.dtype, Compound):
            return data
        if not isinstance(data, LazyArray):
            return decode_value(member.dtype, bool(member.dims), np.asarray(data), node.dtype)
        return Deferred(lambda: decode_value(member.dtype, bool(member.dims), data.read(), node.dtype))

    def _fill_data(self, obj: Container, node: Dataset, path: str, consumed: _Consumed) -> None:
        for f in dataclasses.fields(obj):
            if f.name in ("name", "parent", "object_id"):
                continue
            member = f.metadata.get("nwb")
            value: Any = _ABSENT
            if isinstance(member, Member) and member.kind is Kind.DATASET:
                value = node.data
            elif isinstance(member, Member) and member.kind is Kind.ATTRIBUTE:
                key = member.storage_name(f.name)
                if key in node.attrs:
                    consumed.attrs.add(("", key))
                    value = node.attrs[key]
                    if member.dtype == "ref":
                        value = self.container(value.path)
            elif f.name == "dtype":
                value = node.data.numpy_dtype if isinstance(node.data, LazyArray) else np.asarray(node.data).dtype
            if value is _ABSENT:
                value = _default(f)
            object.__setattr__(obj, f.name, value)

    def _fill_table(self, table: DynamicTable, group: Group, path: str, consumed: _Consumed) -> None:
        colnames = group.attrs.get("colnames", [])
        consumed.attrs.add(("", "colnames"))
        columns = Children[VectorData](f"{table._label}.columns")
        for name in colnames if isinstance(colnames, (list, tuple, np.ndarray)) else [colnames]:
            node = group.members.get(str(name))
            if not isinstance(node, Dataset):
                raise InvalidStoreError(f"{join(path, str(name))}: column listed in colnames is missing")
            cls = model_class(node)
            if cls is None or not issubclass(cls, VectorData):
                continue
            column = self.container(join(path, str(name)))
            assert isinstance(column, VectorData)
            object.__setattr__(column, "parent", table)
            columns._items[str(name)] = column
            consumed.nodes.add(str(name))
        for name, node in group.members.items():
            if isinstance(node, Dataset) and node.attrs.get("neurodata_type") == "VectorIndex":
                target = node.attrs.get("target")
                if (
                    isinstance(target, Reference)
                    and split(target.path)[-1] in columns
                    and target.path == join(path, split(target.path)[-1])
                ):
                    index = self.container(join(path, name))
                    assert isinstance(index, VectorIndex)
                    object.__setattr__(index, "parent", table)
                    object.__setattr__(columns[split(target.path)[-1]], "index", index)
                    consumed.nodes.add(name)
        object.__setattr__(table, "columns", columns)


class _Absent:
    pass


_ABSENT: Any = _Absent()


def _default(f: dataclasses.Field[Any]) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return None


class _Consumed:
    """What the model took from a node; the rest is kept as ``_extra``."""

    def __init__(self) -> None:
        self.nodes: set[str] = set()  # relative paths taken whole
        self.attrs: set[tuple[str, str]] = {("", k) for k in _TYPE_KEYS} | {("", "nwb_version")}

    def remainder(self, node: Group | Dataset) -> Group | Dataset | None:
        return self._rest(node, "")

    def _rest(self, node: Group | Dataset, rel: str) -> Group | Dataset | None:
        attrs = {k: v for k, v in node.attrs.items() if (rel, k) not in self.attrs}
        if isinstance(node, Dataset):
            if not attrs:
                return None
            return Dataset(dtype=node.dtype, data=node.data, attrs=attrs, dims=node.dims, layout=node.layout)
        rest = Group(attrs=attrs)
        for name, member in node.members.items():
            child_rel = f"{rel}/{name}".lstrip("/")
            if child_rel in self.nodes:
                if isinstance(member, Dataset):  # taken as a value: keep only attributes the model ignored
                    sub = self._rest(member, child_rel)
                    if sub is not None:
                        rest.members[name] = sub
                continue
            if isinstance(member, Group) and (member.attrs.get("neurodata_type") is None or child_rel == ""):
                sub = self._rest(member, child_rel)
                if sub is not None:
                    rest.members[name] = sub
            elif (
                isinstance(member, Group)
                and not any(p.startswith(child_rel + "/") or p == child_rel for p in self.nodes)
            ) or not isinstance(member, Group):
                rest.members[name] = member
        if not rest.attrs and not rest.members:
            return None
        return rest
