"""Types the model does not declare, built from a schema: a file's cached specification or PyNWB's namespaces.

A generic class is an ordinary model class (a dataclass with the field table of :mod:`nwbzarr.model.spec`)
whose fields come from the type's schema: attributes, datasets (lazy when they have dimensions), typed
children, and links, by their schema names. Its base is the model class of its parent type, so an
extension of ``LabMetaData``, ``TimeSeries`` or ``DynamicTable`` behaves as one (columns, ``to_dataframe``,
timestamps) and is accepted wherever its parent is. Everything the schema leaves untyped (untyped
subgroups) stays with the object as stored content and is written back unchanged.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import keyword
import re
from collections.abc import Iterable, Mapping
from typing import Any

from nwbzarr.errors import ContainerNotFoundError, MissingDependencyError
from nwbzarr.model.base import REGISTRY, Children, Container, Data
from nwbzarr.model.spec import attribute, child, children, dataset, link, members
from nwbzarr.model.table import DynamicTable, ElementIdentifiers, VectorData, VectorIndex

__all__ = ["SpecCatalog", "generic_class", "get_class", "is_generic", "pynwb_documents", "schema_of"]

#: namespaces the model's own classes come from
_MODEL_NAMESPACES = ("core", "hdmf-common")

_DTYPES = {
    "text": "text",
    "utf": "text",
    "utf8": "text",
    "utf-8": "text",
    "ascii": "text",
    "bytes": "text",
    "isodatetime": "isodatetime",
    "datetime": "isodatetime",
    "float": "float32",
    "float32": "float32",
    "double": "float64",
    "float64": "float64",
    "long": "int64",
    "int64": "int64",
    "int": "int32",
    "int32": "int32",
    "short": "int16",
    "int16": "int16",
    "int8": "int8",
    "uint": "uint32",
    "uint32": "uint32",
    "uint64": "uint64",
    "uint16": "uint16",
    "uint8": "uint8",
    "numeric": "numeric",
    "bool": "bool",
}


class SpecCatalog:
    """Type definitions by namespace and type name, and which namespaces each namespace includes."""

    def __init__(self) -> None:
        self.types: dict[str, dict[str, dict[str, Any]]] = {}
        self.includes: dict[str, list[str]] = {}
        #: each namespace's documents as given (``namespace`` and one per source): what a writer caches
        self.documents: dict[str, dict[str, Any]] = {}

    @classmethod
    def from_documents(cls, documents: Mapping[str, Mapping[str, Any]]) -> SpecCatalog:
        """From one namespace's documents: ``{"namespace": {...}, "<source>": {"groups": [...], ...}}`` per name."""
        catalog = cls()
        for name, docs in documents.items():
            catalog.add_namespace(name, docs)
        return catalog

    def add_namespace(self, name: str, docs: Mapping[str, Any]) -> None:
        """Add the types of namespace ``name`` (its namespace document and its schema sources)."""
        spaces = docs.get("namespace", {}).get("namespaces", [])
        entry = next((n for n in spaces if n.get("name") == name), spaces[0] if spaces else {})
        self.includes[name] = [s["namespace"] for s in entry.get("schema", []) if "namespace" in s]
        self.documents[name] = dict(docs)
        types = self.types.setdefault(name, {})
        for source, doc in docs.items():
            if source == "namespace" or not isinstance(doc, Mapping):
                continue
            for kind in ("groups", "datasets"):
                for spec in _typed_specs(doc.get(kind, []), kind):
                    types[spec["neurodata_type_def"]] = spec

    def version(self, name: str) -> str:
        """The version namespace ``name`` declares (``unversioned`` when it declares none)."""
        spaces = self.documents.get(name, {}).get("namespace", {}).get("namespaces", [])
        entry: dict[str, Any] = next((n for n in spaces if n.get("name") == name), {})
        return str(entry.get("version") or "unversioned")

    @classmethod
    def from_pynwb(cls, names: Iterable[str] | None = None) -> SpecCatalog:
        """The namespaces PyNWB has loaded (its core schema and any ``pynwb.load_namespaces`` extensions).

        Each namespace's documents are the ones PyNWB itself caches in a file, so a writer can cache them too.
        """
        catalog = cls()
        for name, docs in pynwb_documents(names).items():
            catalog.add_namespace(name, docs)
        return catalog

    @classmethod
    def from_texts(cls, texts: Mapping[str, Mapping[str, Mapping[str, str]]]) -> SpecCatalog:
        """From ``{namespace: {version: {source: JSON text}}}`` (a file's cache, or the schema nwbzarr ships)."""
        catalog = cls()
        for name, versions in texts.items():
            if versions:
                newest = max(versions, key=lambda v: tuple(int(p) if p.isdigit() else -1 for p in v.split(".")))
                catalog.add_namespace(name, {src: json.loads(text) for src, text in versions[newest].items()})
        return catalog

    @classmethod
    def shipped(cls) -> SpecCatalog:
        """The NWB core and hdmf-common schema nwbzarr ships (for ``get_class`` without PyNWB)."""
        from importlib import resources

        text = resources.files("nwbzarr").joinpath("schema/nwb-schema.json").read_text(encoding="utf-8")
        return cls.from_texts(json.loads(text))

    def find(self, type_name: str, namespace: str | None = None) -> tuple[str, dict[str, Any]] | None:
        """``(namespace, spec)`` of ``type_name``: in ``namespace``, then what it includes, then anywhere."""
        order: list[str] = []
        pending = [namespace] if namespace else []
        while pending:
            ns = pending.pop(0)
            if ns not in order:
                order.append(ns)
                pending.extend(self.includes.get(ns, []))
        order.extend(ns for ns in self.types if ns not in order)
        for ns in order:
            spec = self.types.get(ns, {}).get(type_name)
            if spec is not None:
                return ns, spec
        return None


def pynwb_documents(names: Iterable[str] | None = None) -> dict[str, dict[str, Any]]:
    """``{namespace: {source: document}}`` of PyNWB's loaded namespaces, as PyNWB caches them in a file."""
    from nwbzarr.core.optional import require

    pynwb = require("pynwb", "get_class without a file's cached schema")
    helper = require("hdmf.backends.utils", "get_class without a file's cached schema").NamespaceToBuilderHelper
    writer_base = require("hdmf.spec.write", "get_class without a file's cached schema").SpecWriter

    class _Collect(writer_base):  # type: ignore[misc,valid-type]
        def __init__(self, folder: dict[str, Any]) -> None:
            self.folder = folder

        def write_spec(self, spec: Any, path: str) -> None:
            self.folder[path] = json.loads(json.dumps(spec, default=str))

        def write_namespace(self, namespace: Any, path: str) -> None:
            self.folder[path] = json.loads(json.dumps({"namespaces": [namespace]}, default=str))

    spaces = pynwb.get_type_map().namespace_catalog
    wanted = list(spaces.namespaces) if names is None else [n for n in names if n in spaces.namespaces]
    out: dict[str, dict[str, Any]] = {}
    for name in wanted:
        folder: dict[str, Any] = {}
        helper.convert_namespace(spaces, name).export("namespace", writer=_Collect(folder))
        out[name] = folder
    return out


def _nwb_keys(value: Any) -> Any:
    """hdmf-common writes ``data_type_def``/``data_type_inc`` where NWB writes ``neurodata_type_*``: one spelling."""
    if isinstance(value, Mapping):
        return {
            str(k).replace("data_type_", "neurodata_type_", 1)
            if str(k).startswith("data_type_")
            else str(k): _nwb_keys(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_nwb_keys(v) for v in value]
    return value


def _typed_specs(specs: Iterable[Any], kind: str) -> Iterable[dict[str, Any]]:
    """Every type definition in a list of specs, nested ones included (types may be defined inline)."""
    for given in specs:
        if not isinstance(given, Mapping):
            continue
        spec = _nwb_keys(given)
        if spec.get("neurodata_type_def"):
            spec["_kind"] = kind
            yield spec
        for sub in ("groups", "datasets"):
            yield from _typed_specs(spec.get(sub, []), sub)


_CACHE: dict[tuple[str, str, str], type[Container]] = {}


def is_generic(obj_or_cls: Any) -> bool:
    """Whether a class (or object) was built from a schema rather than declared by the model."""
    cls = obj_or_cls if isinstance(obj_or_cls, type) else type(obj_or_cls)
    return bool(cls.__dict__.get("GENERIC", False))


def generic_class(catalog: SpecCatalog, type_name: str, namespace: str | None = None) -> type[Container]:
    """The model class of ``type_name``: the model's own when it declares the type, else one built from its schema."""
    found = catalog.find(type_name, namespace)
    if found is None:
        raise ContainerNotFoundError(f"no type {type_name!r} in namespace {namespace!r} of the schema")
    ns, spec = found
    known = REGISTRY.get((ns, type_name))
    if known is not None:
        return known
    key = (ns, type_name, hashlib.sha1(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest())
    if key not in _CACHE:
        _CACHE[key] = _build(catalog, ns, type_name, spec)
    return _CACHE[key]


def _parent_class(catalog: SpecCatalog, ns: str, spec: Mapping[str, Any]) -> type[Container]:
    parent = spec.get("neurodata_type_inc")
    if not parent:
        return Data if spec.get("_kind") == "datasets" else Container
    if catalog.find(parent, ns) is None:
        return _known_ancestor(catalog, ns, parent)
    return generic_class(catalog, parent, ns)


def get_class(neurodata_type: str, namespace: str, source: Container | None = None) -> type[Container]:
    """The class of ``neurodata_type`` (PyNWB's ``get_class``): the model's, or one built from its schema.

    The schema is the one cached in ``source`` (an NWBFile read from a store) or, without it, a
    namespace loaded with ``nwbzarr.load_namespaces('ndx-....namespace.yaml')``, else the namespaces
    PyNWB has loaded (``pynwb.load_namespaces``), or without PyNWB the core schema nwbzarr ships.
    A file the class's objects are written to caches its namespace under ``/specifications``.
    """
    catalog = source.__dict__.get("_catalog") if source is not None else None
    if callable(catalog):  # read from a store: the schema is read when first needed
        catalog = catalog()
    if not isinstance(catalog, SpecCatalog):
        if source is not None:
            raise ContainerNotFoundError(f"{source._label} carries no cached schema (it was not read from a file)")
        from nwbzarr.model.namespaces import is_loaded, loaded_catalog

        if is_loaded(namespace):
            catalog = loaded_catalog()
        else:
            try:
                catalog = SpecCatalog.from_pynwb()
            except MissingDependencyError:
                catalog = loaded_catalog()
    return generic_class(catalog, neurodata_type, namespace)


def _known_ancestor(catalog: SpecCatalog, ns: str, type_name: str | None) -> type[Container]:
    """The nearest ancestor of ``type_name`` the model declares (what a child or link field accepts)."""
    while type_name:
        found = catalog.find(type_name, ns)
        known = REGISTRY.get((found[0], type_name)) if found else None
        for model_ns in _MODEL_NAMESPACES:
            known = known or REGISTRY.get((model_ns, type_name))
        if known is not None:
            return known
        if found is None:
            break
        ns, spec = found
        type_name = spec.get("neurodata_type_inc")
    return Container


def _field_name(name: str, taken: set[str], base: type) -> str:
    field = re.sub(r"\W", "_", name)
    if not field or field[0].isdigit() or keyword.iskeyword(field):
        field = f"x_{field}"
    while field in taken or hasattr(base, field):
        field = f"{field}_"
    taken.add(field)
    return field


def _snake(type_name: str) -> str:
    """``SpatialSeries`` -> ``spatial_series``: PyNWB's field name for unnamed children of a type."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", type_name).lower()


def _dims(spec: Mapping[str, Any]) -> tuple[tuple[str, ...], ...]:
    dims = spec.get("dims")
    if not dims:
        shape = spec.get("shape")
        if not shape:
            return ()
        dims = (
            [[f"dim{i}" for i in range(len(s))] for s in shape]
            if isinstance(shape[0], list)
            else [f"dim{i}" for i in range(len(shape))]
        )
    if all(isinstance(d, str) for d in dims):
        return (tuple(dims),)
    return tuple(tuple(d) for d in dims)


def _dtype(spec: Mapping[str, Any]) -> str | None:
    dtype = spec.get("dtype")
    if isinstance(dtype, Mapping):
        return "ref"
    if isinstance(dtype, list):
        return None  # a compound: kept as stored (structured arrays)
    return _DTYPES.get(str(dtype)) if dtype is not None else None


def _build(catalog: SpecCatalog, ns: str, type_name: str, spec: Mapping[str, Any]) -> type[Container]:
    base = _parent_class(catalog, ns, spec)
    inherited = {m.storage_name(n) for n, m in members(base) if not m.on}
    inherited_attrs = {(m.on, m.storage_name(n)) for n, m in members(base)}
    taken = {f.name for f in dataclasses.fields(base)}
    annotations: dict[str, Any] = {}
    values: dict[str, Any] = {}
    table = issubclass(base, DynamicTable)

    def add(name: str, annotation: Any, value: Any) -> None:
        field = _field_name(name, taken, base)
        annotations[field] = annotation
        values[field] = value

    fixed_name = spec.get("name") or spec.get("default_name")
    if fixed_name and spec.get("_kind") == "groups":
        annotations["name"], values["name"] = str, str(fixed_name)
    for attr in spec.get("attributes", []):
        if ("", attr["name"]) in inherited_attrs or attr["name"] in ("namespace", "neurodata_type", "object_id"):
            continue
        add(
            attr["name"],
            Any,
            attribute(
                name=attr["name"],
                dtype=_dtype(attr) or "text",
                dims=_dims(attr),
                default=attr.get("value", attr.get("default_value")),
            ),
        )
    if spec.get("_kind") == "datasets" and "data" not in inherited:
        add("data", Any, dataset(dtype=_dtype(spec), dims=_dims(spec), lazy=True, default=None))
    for sub in spec.get("datasets", []):
        name, inc = sub.get("name"), sub.get("neurodata_type_inc") or sub.get("neurodata_type_def")
        if name and name in inherited:  # a parent's member refined: only new defaults of its attributes apply
            for attr in sub.get("attributes", []):
                default = attr.get("value", attr.get("default_value"))
                for field, member in members(base):
                    if default is not None and member.on == name and member.storage_name(field) == attr["name"]:
                        annotations[field] = Any
                        values[field] = attribute(
                            on=name, name=attr["name"], dtype=member.dtype or "text", dims=member.dims, default=default
                        )
            continue
        if inc and table and _is_column(catalog, ns, inc):
            continue  # table columns are read by colnames
        if inc:
            _typed_member(add, _known_ancestor(catalog, ns, inc), name, inc)
            continue
        if not name:
            continue
        lazy = bool(_dims(sub)) or _dtype(sub) in (None, "ref")
        add(name, Any, dataset(path=name, dtype=_dtype(sub), dims=_dims(sub), lazy=lazy, default=None))
        for attr in sub.get("attributes", []):
            if (name, attr["name"]) not in inherited_attrs:
                add(
                    f"{name}__{attr['name']}",
                    Any,
                    attribute(
                        on=name,
                        name=attr["name"],
                        dtype=_dtype(attr) or "text",
                        dims=_dims(attr),
                        default=attr.get("value", attr.get("default_value")),
                    ),
                )
    for sub in spec.get("groups", []):
        inc = sub.get("neurodata_type_inc") or sub.get("neurodata_type_def")
        if inc and not (sub.get("name") and sub["name"] in inherited):
            _typed_member(add, _known_ancestor(catalog, ns, inc), sub.get("name"), inc)
    for sub in spec.get("links", []):
        if sub.get("name") and sub["name"] not in inherited:
            target = _known_ancestor(catalog, ns, sub.get("target_type"))
            add(sub["name"], target | None, link(path=sub["name"], default=None))
    body: dict[str, Any] = {
        "__annotations__": annotations,
        "__module__": __name__,
        "__doc__": str(spec.get("doc", f"{type_name} ({ns}), built from its schema")),
        "__qualname__": type_name,
        "GENERIC": True,
        **values,
    }
    cls: type[Container] = dataclasses.dataclass(kw_only=True, eq=False, repr=False)(type(type_name, (base,), body))
    cls.namespace = ns
    cls.neurodata_type = type_name
    cls.SCHEMA = catalog  # type: ignore[attr-defined]  # where a writer finds the namespace to cache
    return cls


def schema_of(obj_or_cls: Any) -> SpecCatalog | None:
    """The schema a generic class (or object) was built from; None for the model's own classes."""
    cls = obj_or_cls if isinstance(obj_or_cls, type) else type(obj_or_cls)
    schema = cls.__dict__.get("SCHEMA")
    return schema if isinstance(schema, SpecCatalog) else None


def _typed_member(add: Any, target: type[Container], name: str | None, type_name: str) -> None:
    if name:
        add(name, target | None, child(path=name, default=None))
    else:
        add(_snake(type_name), Children[target], children(default_factory=Children))  # type: ignore[valid-type]


def _is_column(catalog: SpecCatalog, ns: str, type_name: str) -> bool:
    return issubclass(_known_ancestor(catalog, ns, type_name), (VectorData, VectorIndex, ElementIdentifiers))
