"""Model -> tree: ``encode(nwbfile)`` builds the format-neutral hierarchy of a whole file.

Encoding never touches storage, so every error (a link to an object outside the file, two objects
with one name...) surfaces before a byte is written.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nwbzarr.abc.array import LazyArray
from nwbzarr.codec.values import encode_attribute, encode_dataset_value, pick_dims
from nwbzarr.core.dtypes import REF, Compound, CompoundField, DataType
from nwbzarr.errors import DuplicateNameError, NotInFileError
from nwbzarr.model import NWB_VERSION, Container, Data, DynamicTable, NWBFile, VectorIndex
from nwbzarr.model.spec import Kind, Member, members
from nwbzarr.model.table import DynamicTableRegion, VectorData
from nwbzarr.model.timeseries import TimeSeries
from nwbzarr.tree.nodes import Dataset, Group, Link, Node, Reference
from nwbzarr.tree.paths import join, split

__all__ = ["encode", "object_paths"]

#: groups every NWB file has, even empty (the schema's required untyped groups of NWBFile)
_FILE_GROUPS = ("general",)


def encode(nwbfile: NWBFile) -> Group:
    """The tree of ``nwbfile``; raises before anything is written if the file is inconsistent."""
    paths = object_paths(nwbfile)
    root = _Encoder(paths).group(nwbfile)
    for name in _FILE_GROUPS:
        root.require_group(name)
    root.attrs["nwb_version"] = NWB_VERSION
    return root


def object_paths(nwbfile: NWBFile) -> dict[int, str]:
    """``id(container) -> absolute path`` for every object the file owns (not linked).

    Validates each new object on the way, so changes made after construction are checked too.
    """
    paths: dict[int, str] = {id(nwbfile): "/"}
    stack: list[tuple[Container, str]] = [(nwbfile, "/")]
    while stack:
        obj, path = stack.pop()
        if not obj.__dict__.get("_from_store"):  # objects read from a store were valid when written
            obj.validate()
        for child, rel in _owned(obj):
            child_path = join(path, rel)
            if id(child) in paths:
                raise DuplicateNameError(f"{child._label} is stored twice, at {paths[id(child)]} and {child_path}")
            paths[id(child)] = child_path
            stack.append((child, child_path))
    return paths


def _owned(obj: Container) -> list[tuple[Container, str]]:
    out: list[tuple[Container, str]] = []
    for field_name, member in members(obj):
        value = getattr(obj, field_name)
        if value is None:
            continue
        if member.kind is Kind.CHILD and value.parent is obj:
            out.append((value, member.storage_name(field_name)))
        elif member.kind is Kind.CHILDREN:
            out.extend((item, join(member.path, item.name)) for item in value.values() if item.parent is obj)
    if isinstance(obj, DynamicTable):
        out.extend((col.index, col.index.name) for col in obj.columns.values() if col.index is not None)
        out.extend((c.index.index, c.index.index.name) for c in obj.columns.values() if c.index and c.index.index)
    return out


class _Encoder:
    def __init__(self, paths: dict[int, str]) -> None:
        self.paths = paths

    def path_of(self, owner: Container, field_name: str, target: Container) -> str:
        try:
            return self.paths[id(target)]
        except KeyError:
            stored = target.__dict__.get("_path")
            if target.__dict__.get("_from_store") and isinstance(stored, str):
                return stored  # read from the file, kept there unchanged (a type the model leaves generic)
            raise NotInFileError(
                f"{owner._label}, field {field_name!r}: {target._label} is not part of the file; "
                f"add it to the NWBFile (add_acquisition, create_device, add_imaging_plane, ...) first"
            ) from None

    # --- containers -------------------------------------------------------------------------
    def node(self, obj: Container) -> Group | Dataset:
        return self.dataset(obj) if isinstance(obj, Data) else self.group(obj)

    def group(self, obj: Container) -> Group:
        group = Group(attrs=_type_attrs(obj))
        deferred_attrs: list[tuple[str, Member]] = []
        for field_name, member in members(obj):
            value = getattr(obj, field_name)
            if member.kind is Kind.ATTRIBUTE:
                deferred_attrs.append((field_name, member))
            elif member.kind is Kind.DATASET:
                if value is not None:
                    self._put(
                        group,
                        member.storage_name(field_name),
                        self.member_dataset(obj, field_name, member, value),
                    )
            elif member.kind is Kind.LINK:
                if value is not None:
                    self._put(
                        group,
                        member.storage_name(field_name),
                        Link(path=self.path_of(obj, field_name, value)),
                    )
            elif member.kind is Kind.CHILD:
                if value is not None:
                    self._put(group, member.storage_name(field_name), self.child(obj, field_name, value))
            else:
                folder = group.require_group(member.path) if (member.path and (value or member.required)) else group
                for item in value.values():
                    self._put(folder, item.name, self.child(obj, field_name, item), where=member.path)
        for field_name, member in deferred_attrs:
            self._attribute(group, obj, field_name, member)
        if isinstance(obj, TimeSeries):
            for dataset_name, fixed in obj.FIXED_ATTRIBUTES.items():
                target = group.members.get(dataset_name)
                if isinstance(target, Dataset):
                    target.attrs.update(fixed)
        if isinstance(obj, DynamicTable):
            self._table(group, obj)
        _merge_extra(group, obj)
        return group

    def child(self, owner: Container, field_name: str, item: Container) -> Node:
        if item.parent is owner:
            return self.node(item)
        return Link(path=self.path_of(owner, field_name, item))

    def dataset(self, obj: Container) -> Dataset:
        data_member = next(m for n, m in members(obj) if n == "data")
        as_array = getattr(obj, "as_array", None)  # growing columns are lists until written
        values = as_array() if as_array is not None else getattr(obj, "data", None)
        if isinstance(obj, VectorIndex):
            values = np.asarray(values)
            values = values.astype(_index_dtype(values), copy=False)
        objects = getattr(obj, "RESOLVES_REFERENCES", False) or (isinstance(obj, VectorData) and obj.holds_objects())
        referenced = self._references(obj) if objects else None
        if referenced is not None:
            dtype, data, layout = (*referenced, None)
        elif _is_text(values):  # a text column built from Python strings (trial stimuli, tags, unit quality)
            dtype, data, layout = encode_dataset_value("text", np.asarray(values).ravel())
        else:
            dtype, data, layout = encode_dataset_value(data_member.dtype, values)
        ds = Dataset(dtype=dtype, data=data, attrs=_type_attrs(obj), layout=layout, dims=_column_dims(obj, data))
        for field_name, member in members(obj):
            if member.kind is Kind.ATTRIBUTE:
                value = getattr(obj, field_name)
                if value is not None:
                    ds.attrs[member.storage_name(field_name)] = self._attr_value(obj, field_name, member, value)
        _merge_extra(ds, obj)
        return ds

    def _references(self, obj: Container) -> tuple[DataType, np.ndarray] | None:
        """Objects held by value in a reference dataset (ImageReferences, a timeseries column) as References."""
        data = obj.__dict__.get("data")
        if data is None or isinstance(data, LazyArray):
            return None  # still in the store: its references are already stored ones
        items = list(data)
        if not items or not isinstance(items[0], tuple):  # plain references to objects
            refs = np.empty(len(items), dtype=object)
            refs[:] = [Reference(path=self.path_of(obj, "data", item)) for item in items]
            return REF, refs
        fields = [
            CompoundField(name=n, dtype=np.dtype(np.int32)) if n != "timeseries" else CompoundField(name=n, dtype=REF)
            for n in ("idx_start", "count", "timeseries")
        ]
        rows = np.empty(len(items), dtype=Compound(fields=tuple(fields)).to_numpy())
        for i, (start, count, target) in enumerate(items):
            rows[i] = (start, count, Reference(path=self.path_of(obj, "data", target)))
        return Compound(fields=tuple(fields)), rows

    def member_dataset(self, obj: Container, field_name: str, member: Member, value: Any) -> Dataset:
        dtype, data, layout = encode_dataset_value(member.dtype, value)
        shape = tuple(getattr(data, "shape", ()))
        dims = pick_dims(member.dims, shape) if member.dims else None
        return Dataset(dtype=dtype, data=data, layout=layout, dims=dims)

    # --- attributes ---------------------------------------------------------------------------
    def _attribute(self, group: Group, obj: Container, field_name: str, member: Member) -> None:
        value = getattr(obj, field_name)
        if value is None:
            return
        target: Node | None = group.get(member.on) if member.on else group
        if target is None or isinstance(target, Link):
            return  # the dataset it annotates is absent (e.g. rate without starting_time)
        target.attrs[member.storage_name(field_name)] = self._attr_value(obj, field_name, member, value)

    def _attr_value(self, obj: Container, field_name: str, member: Member, value: Any) -> Any:
        if member.dtype == "ref":
            return Reference(path=self.path_of(obj, field_name, value))
        return encode_attribute(value)

    # --- tables -------------------------------------------------------------------------------
    def _table(self, group: Group, table: DynamicTable) -> None:
        group.attrs["colnames"] = list(table.colnames)
        for column in table.columns.values():
            if column.index is not None:
                group.members[column.index.name] = self.dataset(column.index)
                if column.index.index is not None:  # doubly ragged (Units waveforms)
                    group.members[column.index.index.name] = self.dataset(column.index.index)

    @staticmethod
    def _put(group: Group, rel: str, node: Node, where: str = "") -> None:
        parts = split(rel)
        parent = group.require_group("/".join(parts[:-1])) if len(parts) > 1 else group
        if parts[-1] in parent.members:
            raise DuplicateNameError(f"{join(where, rel)}: two objects with the name {parts[-1]!r} in one group")
        parent.members[parts[-1]] = node


def _type_attrs(obj: Container) -> dict[str, Any]:
    return {"namespace": obj.namespace, "neurodata_type": obj.neurodata_type, "object_id": obj.object_id}


def _index_dtype(offsets: np.ndarray) -> np.dtype:
    """The smallest unsigned type holding the largest offset (hdmf's choice; the schema's minimum is uint8)."""
    top = int(offsets.max()) if offsets.size else 0
    for dtype in (np.uint8, np.uint16, np.uint32, np.uint64):
        if top <= np.iinfo(dtype).max:
            return np.dtype(dtype)
    raise OverflowError(top)


def _column_dims(obj: Container, data: Any) -> tuple[str, ...] | None:
    ndim = len(getattr(data, "shape", ()))
    if ndim == 0:
        return None
    if isinstance(obj, (VectorIndex, DynamicTableRegion)) or obj.neurodata_type == "ElementIdentifiers":
        return ("num_rows",) if ndim == 1 else None
    if obj.name == "image_mask":
        return ("num_roi", "num_x", "num_y", "num_z")[:ndim] if ndim in (3, 4) else None
    declared = next((m.dims for n, m in members(obj) if n == "data"), ())
    named = pick_dims(declared, tuple(data.shape)) if declared else None
    return named or tuple(f"dim{i}" for i in range(ndim))


def _merge_extra(node: Group | Dataset, obj: Container) -> None:
    """Put back what the file held that the model does not map (unknown members and attributes)."""
    extra = obj.__dict__.get("_extra")
    if extra is not None:
        merge_missing(node, extra)


def merge_missing(node: Group | Dataset, extra: Group | Dataset) -> None:
    for key, value in extra.attrs.items():
        node.attrs.setdefault(key, value)
    if isinstance(node, Group) and isinstance(extra, Group):
        for name, member in extra.members.items():
            mine = node.members.get(name)
            if mine is None:
                node.members[name] = member
            elif isinstance(mine, (Group, Dataset)) and isinstance(member, (Group, Dataset)):
                merge_missing(mine, member)


def _is_text(values: Any) -> bool:
    if not isinstance(values, np.ndarray) or values.ndim != 1:
        return False
    if values.dtype.kind in "US":
        return True
    return values.dtype.kind == "O" and values.size > 0 and all(isinstance(v, str) for v in values)
