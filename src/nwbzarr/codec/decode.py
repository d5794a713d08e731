"""Tree -> model: ``decode(tree)`` builds the NWBFile of a stored file.

Bulk data stays lazy (the tree's lazy arrays), scalars and small arrays are :class:`Deferred` until
first used, and whatever the model does not know (other types, extra attributes) is kept on the
nearest object as ``_extra`` and written back unchanged by ``encode``.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import numpy as np

from nwbzarr.abc.array import LazyArray
from nwbzarr.codec.values import decode_value
from nwbzarr.core.dtypes import Compound, ObjectRef
from nwbzarr.errors import InvalidNameError, InvalidStoreError, UnsafeDataError
from nwbzarr.model import REGISTRY, Children, Container, Data, DynamicTable, NWBFile, VectorIndex
from nwbzarr.model.base import Deferred, _field_type
from nwbzarr.model.generic import SpecCatalog, generic_class
from nwbzarr.model.spec import Kind, Member
from nwbzarr.model.table import VectorData
from nwbzarr.model.timeseries import TimeSeries
from nwbzarr.schema.specifications import SPEC_GROUP
from nwbzarr.tree.nodes import Dataset, Group, Link, Node, Reference
from nwbzarr.tree.paths import join, split

__all__ = ["decode"]

_TYPE_KEYS = ("namespace", "neurodata_type", "object_id")
#: longest chain of links followed to reach a node
_MAX_LINK_HOPS = 32
#: largest dataset read into memory as a field value (scalars, small arrays); bulk data stays lazy
_MAX_SMALL_BYTES = 64 * 1024 * 1024


def decode(root: Group) -> NWBFile:
    """The NWBFile at the root of ``root``."""
    if root.attrs.get("neurodata_type") != "NWBFile":
        raise InvalidStoreError(f"/: not an NWB file (root neurodata_type is {root.attrs.get('neurodata_type')!r})")
    decoder = _Decoder(root)
    nwbfile = decoder.container("/")
    assert isinstance(nwbfile, NWBFile)
    object.__setattr__(nwbfile, "_catalog", lambda: decoder.catalog)  # for get_class(..., source=nwbfile)
    return nwbfile


def schema_catalog(root: Group) -> SpecCatalog | None:
    """The type definitions cached in the file (``/specifications``), newest version of each namespace."""
    specs = root.members.get(SPEC_GROUP)
    if not isinstance(specs, Group):
        return None
    catalog = SpecCatalog()
    for name, versions in specs.members.items():
        folders = (
            [(v, f) for v, f in versions.members.items() if isinstance(f, Group)] if isinstance(versions, Group) else []
        )
        if not folders:
            continue
        _, folder = max(folders, key=lambda item: _version_key(item[0]))
        docs: dict[str, Any] = {}
        for source, node in folder.members.items():
            if isinstance(node, Dataset):
                try:
                    text: Any = node.read()[()]
                    docs[source] = json.loads(text.decode() if isinstance(text, bytes) else str(text))
                except (ValueError, TypeError) as exc:
                    raise InvalidStoreError(
                        f"/{SPEC_GROUP}/{name}: cached schema {source!r} is not JSON: {exc}"
                    ) from exc
        catalog.add_namespace(name, docs)
    return catalog


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) if p.isdigit() else -1 for p in version.split("."))


def model_class(node: Group | Dataset) -> type[Container] | None:
    namespace, kind = node.attrs.get("namespace"), node.attrs.get("neurodata_type")
    if not isinstance(namespace, str) or not isinstance(kind, str):
        return None
    return REGISTRY.get((namespace, kind))


class _Decoder:
    def __init__(self, root: Group) -> None:
        self.root = root
        self.memo: dict[str, Container] = {}
        self._catalog: SpecCatalog | _Absent | None = _ABSENT

    @property
    def catalog(self) -> SpecCatalog | None:
        """The file's cached schema, read the first time a type the model does not declare is met."""
        if isinstance(self._catalog, _Absent):
            self._catalog = schema_catalog(self.root)
        return self._catalog

    def model_class(self, node: Group | Dataset) -> type[Container] | None:
        """The model's class of a typed node, or one built from the file's cached schema."""
        cls = model_class(node)
        namespace, kind = node.attrs.get("namespace"), node.attrs.get("neurodata_type")
        if cls is not None or not isinstance(namespace, str) or not isinstance(kind, str):
            return cls
        catalog = self.catalog
        if catalog is None or catalog.find(kind, namespace) is None:
            return None
        return generic_class(catalog, kind, namespace)

    def node_at(self, path: str, *, via: tuple[str, ...] = ()) -> Group | Dataset:
        """The node at ``path``, following links inside the file (never out of it, never in circles)."""
        if path in via:
            raise InvalidStoreError(f"{via[0]}: links form a cycle ({' -> '.join((*via, path))})")
        if len(via) > _MAX_LINK_HOPS:
            raise InvalidStoreError(f"{via[0]}: more than {_MAX_LINK_HOPS} links in a row")
        try:
            parts = split(path)
        except InvalidNameError as exc:
            raise InvalidStoreError(f"{via[-1] if via else path}: bad path {path!r}: {exc}") from None
        node: Node = self.root
        walked = ""
        for part in parts:
            if isinstance(node, Link):
                node = self._follow(node, walked, via)
            if not isinstance(node, Group) or part not in node.members:
                where = f"{via[-1]}: link to " if via else ""
                raise InvalidStoreError(f"{where}{path}: no such node in the file")
            walked = f"{walked}/{part}"
            node = node.members[part]
        if isinstance(node, Link):
            return self._follow(node, walked or "/", via)
        return node

    def _follow(self, link: Link, at: str, via: tuple[str, ...]) -> Group | Dataset:
        if link.source not in (".", ""):
            raise UnsafeDataError(
                f"{at}: links to {link.path!r} in another file ({link.source!r}); external links are not followed"
            )
        return self.node_at(link.path, via=(*via, at))

    def container(self, path: str) -> Container:
        """The object at ``path`` (one instance per path, so links share it)."""
        try:
            path = join(path)
        except InvalidNameError as exc:
            raise InvalidStoreError(f"bad path {path!r} in the file: {exc}") from None
        if path in self.memo:
            return self.memo[path]
        node = self.node_at(path)
        cls = self.model_class(node)
        if cls is None:
            raise InvalidStoreError(f"{path}: {node.attrs.get('neurodata_type')!r} is not a type the model knows")
        if issubclass(cls, Data) != isinstance(node, Dataset):
            kind = "dataset" if isinstance(node, Dataset) else "group"
            raise InvalidStoreError(f"{path}: a {cls.__name__} cannot be a {kind}")
        obj = cls.__new__(cls)
        self.memo[path] = obj
        object.__setattr__(obj, "parent", None)
        object.__setattr__(obj, "name", split(path)[-1] if path != "/" else "root")
        object_id = node.attrs.get("object_id")
        if object_id is not None and not isinstance(object_id, str):
            raise InvalidStoreError(f"{path}@object_id: expected text, found {object_id!r}"[:200])
        object.__setattr__(obj, "object_id", object_id or "")
        object.__setattr__(obj, "_from_store", True)
        object.__setattr__(obj, "_path", path)
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
            where = f"{join(path, member.on)}@{rel}"
            value = holder.attrs[rel]
            if member.dtype == "ref":
                return self._referenced(obj, field_name, value, where)
            return _checked_attribute(value, member, where)
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
                node = self._follow(node, join(path, rel), ())
            if not isinstance(node, Dataset):
                raise InvalidStoreError(f"{join(path, rel)}: expected a dataset, found a group")
            return self._dataset_value(member, node, join(path, rel))
        if isinstance(node, Link):
            self._follow(node, join(path, rel), ())  # refuses external links and cycles
        target = node.path if isinstance(node, Link) else join(path, rel)
        value = self._typed(obj, field_name, self.container(target), join(path, rel))
        if member.kind is Kind.CHILD and not isinstance(node, Link):
            object.__setattr__(value, "parent", obj)
        return value

    def _referenced(self, obj: Container, field_name: str, value: Any, where: str) -> Container:
        if not isinstance(value, Reference):
            raise InvalidStoreError(f"{where}: expected an object reference, found {type(value).__name__}")
        if value.source not in (".", ""):
            raise UnsafeDataError(f"{where}: refers to another file ({value.source!r}); not followed")
        return self._typed(obj, field_name, self.container(value.path), where)

    @staticmethod
    def _typed(obj: Container, field_name: str, value: Container, where: str) -> Container:
        expected = _field_type(type(obj), field_name)
        if expected and not isinstance(value, expected):
            names = " or ".join(t.__name__ for t in expected)
            raise InvalidStoreError(f"{where}: must be a {names}, found {type(value).__name__} {value.name!r}")
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
            if rel in consumed.nodes or (isinstance(node, Link) and node.source not in (".", "")):
                continue  # external links stay in _extra, unfollowed
            target_node = self.node_at(node.path) if isinstance(node, Link) else node
            cls = self.model_class(target_node)
            if cls is None or not issubclass(cls, accepted):
                if isinstance(node, Link) and member.path:  # a link in the field's own folder: damage, not extra
                    names = " or ".join(t.__name__ for t in accepted)
                    found = cls.__name__ if cls is not None else "an untyped node"
                    raise InvalidStoreError(
                        f"{join(path, rel)}: a link in {obj._label}.{field_name} must point to a {names}, "
                        f"but {node.path!r} is {found}"
                    )
                continue
            target = node.path if isinstance(node, Link) else join(path, rel)
            item = self.container(target)
            if not isinstance(node, Link):
                object.__setattr__(item, "parent", obj)
            items._items[name] = item
            consumed.nodes.add(rel)
        return items

    def _dataset_value(self, member: Member, node: Dataset, where: str) -> Any:
        data = node.data
        if member.lazy or isinstance(node.dtype, Compound):
            return data
        if not isinstance(data, LazyArray):
            return _small_value(member, np.asarray(data), node, where)
        return Deferred(lambda: _small_value(member, _read_small(data, where), node, where), source=data)

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
                        value = self._referenced(obj, f.name, value, f"{path}@{key}")
                    else:
                        value = _checked_attribute(value, member, f"{path}@{key}")
            elif f.name == "dtype":
                value = node.data.numpy_dtype if isinstance(node.data, LazyArray) else np.asarray(node.data).dtype
            if value is _ABSENT:
                value = _default(f)
            object.__setattr__(obj, f.name, value)
        refs = isinstance(obj, VectorData) and isinstance(node.dtype, ObjectRef)  # a column of objects
        if (refs or getattr(obj, "RESOLVES_REFERENCES", False)) and node.data is not None:
            object.__setattr__(obj, "data", Deferred(lambda: self._resolve_references(node, path)))

    def _resolve_references(self, node: Dataset, path: str) -> list[Any]:
        """The objects a reference dataset names (a compound's reference field becomes the object)."""
        values = _read_small(node.data, path) if isinstance(node.data, LazyArray) else np.asarray(node.data)
        if isinstance(node.dtype, Compound):
            from nwbzarr.model.intervals import TimeSeriesReference  # the one compound the model resolves

            field = node.dtype.reference_fields[0]
            return [
                TimeSeriesReference(int(row["idx_start"]), int(row["count"]), self._target(row[field], path))  # type: ignore[arg-type]
                for row in values
            ]
        return [self._target(ref, path) for ref in values.ravel()]

    def _target(self, ref: Any, where: str) -> Container:
        if not isinstance(ref, Reference):
            raise InvalidStoreError(f"{where}: expected an object reference, found {type(ref).__name__}")
        if ref.source not in (".", ""):
            raise UnsafeDataError(f"{where}: refers to another file ({ref.source!r}); not followed")
        return self.container(ref.path)

    def _fill_table(self, table: DynamicTable, group: Group, path: str, consumed: _Consumed) -> None:
        colnames = group.attrs.get("colnames", [])
        consumed.attrs.add(("", "colnames"))
        if isinstance(colnames, str):
            colnames = [colnames]
        if not isinstance(colnames, (list, tuple, np.ndarray)) or not all(isinstance(c, str) for c in colnames):
            raise InvalidStoreError(f"{path}@colnames: expected a list of column names, found {colnames!r}"[:200])
        columns = Children[VectorData](f"{table._label}.columns")
        for name in colnames:
            node = group.members.get(name)
            if not isinstance(node, Dataset):
                raise InvalidStoreError(f"{join(path, name)}: column listed in colnames is missing")
            cls = self.model_class(node)
            if cls is None or not issubclass(cls, VectorData):
                continue
            column = self.container(join(path, name))
            assert isinstance(column, VectorData)
            object.__setattr__(column, "parent", table)
            columns._items[name] = column
            consumed.nodes.add(name)

        def attach(name: str, owner: VectorData | VectorIndex) -> None:
            index = self.container(join(path, name))
            assert isinstance(index, VectorIndex)
            object.__setattr__(index, "parent", table)
            object.__setattr__(owner, "index", index)
            consumed.nodes.add(name)

        indexes = {  # each VectorIndex dataset: the name of the sibling it indexes (None: not in this table)
            name: _indexed_sibling(node, path, join(path, name))
            for name, node in group.members.items()
            if isinstance(node, Dataset) and node.attrs.get("neurodata_type") == "VectorIndex"
        }
        for name, target in indexes.items():
            if target is not None and target in columns:
                attach(name, columns[target])
        inner = {c.index.name: c.index for c in columns.values() if c.index is not None}
        for name, target in indexes.items():  # the index of an index: a doubly ragged column (waveforms)
            if name not in consumed.nodes and target is not None and target in inner:
                attach(name, inner[target])
        rows = table.__dict__["id"].data.shape[0] if table.__dict__.get("id") is not None else 0
        for name, column in columns.items():
            indexed = column.index if column.index is not None else column
            indexed = indexed.__dict__.get("index") or indexed
            length = int(indexed.data.shape[0]) if getattr(indexed.data, "shape", ()) else len(indexed.data)
            if length != rows:
                raise InvalidStoreError(f"{join(path, name)}: has {length} rows but the table's id has {rows}")
        object.__setattr__(table, "columns", columns)


def _indexed_sibling(node: Dataset, path: str, where: str) -> str | None:
    """The name of the dataset of table ``path`` that the VectorIndex ``node`` indexes, else None."""
    target = node.attrs.get("target")
    if not isinstance(target, Reference):
        raise InvalidStoreError(f"{where}@target: expected a reference to its column")
    parent, _, name = target.path.rpartition("/")
    return name if parent == path.rstrip("/") else None


def _read_small(data: LazyArray, where: str) -> np.ndarray:
    if data.nbytes > _MAX_SMALL_BYTES:  # a damaged or hostile store can declare any shape
        raise InvalidStoreError(f"{where}: {data.shape} is too large for a metadata field ({data.nbytes} bytes)")
    return data.read()


def _small_value(member: Member, values: np.ndarray, node: Dataset, where: str) -> Any:
    try:
        return decode_value(member.dtype, values, node.dtype)
    except (ValueError, TypeError) as exc:
        raise InvalidStoreError(f"{where}: not a valid {member.dtype or 'value'}: {exc}") from exc


_NUMBER_KINDS = {"float32", "float64", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"}


def _checked_attribute(value: Any, member: Member, where: str) -> Any:
    """An attribute value as the model expects it, or an error naming the attribute."""
    if member.dtype == "text" and not member.dims:
        if not isinstance(value, str):
            raise InvalidStoreError(f"{where}: expected text, found {type(value).__name__} {value!r}"[:200])
    elif member.dtype in _NUMBER_KINDS and not member.dims:
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
            raise InvalidStoreError(f"{where}: expected a number, found {type(value).__name__} {value!r}"[:200])
    elif member.dtype in _NUMBER_KINDS:
        array = np.asarray(value)
        if array.ndim != 1 or array.dtype.kind not in "iuf":
            raise InvalidStoreError(f"{where}: expected a list of numbers, found {value!r}"[:200])
        return array
    return value


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
                if isinstance(member, Dataset) and "neurodata_type" not in member.attrs:
                    # taken as a value: keep only the attributes the model ignored (typed datasets such as
                    # rois or id are objects of their own, with their own _extra)
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
