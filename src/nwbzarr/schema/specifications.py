"""The NWB schema cached in every file under ``/specifications``, as PyNWB and hdmf-zarr do.

Readers such as ``pynwb.validate`` and hdmf-zarr load the schema from the file itself, so every file
nwbzarr writes carries the schema of the NWB version it declares (``NWB_VERSION``). nwbzarr ships that
schema (NWB core and hdmf-common, BSD-licensed: ``schema/LICENSE-*.txt``) in ``schema/nwb-schema.json``,
so a file is complete without PyNWB; ``scripts/build_schema.py`` regenerates it from PyNWB.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from importlib import resources
from typing import TYPE_CHECKING, Any

import numpy as np

from nwbzarr.core.dtypes import UTF8
from nwbzarr.tree.nodes import Dataset, Group, walk

if TYPE_CHECKING:
    from nwbzarr.model.generic import SpecCatalog

__all__ = [
    "SCHEMA_FILE",
    "SHIPPED_NAMESPACES",
    "SPEC_GROUP",
    "cached_specifications",
    "export_pynwb_schema",
    "with_specifications",
]

SPEC_GROUP = "specifications"
#: the shipped schema, relative to the package: ``{namespace: {version: {source: JSON text}}}``
SCHEMA_FILE = "schema/nwb-schema.json"


#: the namespaces nwbzarr ships: NWB core and what it is built on (extensions a process loaded are not among them)
SHIPPED_NAMESPACES = ("core", "hdmf-common", "hdmf-experimental")


def export_pynwb_schema() -> dict[str, dict[str, dict[str, str]]]:
    """The installed PyNWB's core namespaces as nwbzarr ships them (PyNWB's own JSON text per schema source)."""
    from hdmf.backends.utils import NamespaceToBuilderHelper
    from hdmf.spec.write import SpecWriter
    from pynwb import get_type_map

    class _Collect(SpecWriter):  # type: ignore[misc]
        def __init__(self, folder: dict[str, str]) -> None:
            self.folder = folder

        def write_spec(self, spec: Any, path: str) -> None:
            self.folder[path] = json.dumps(spec, separators=(",", ":"))

        def write_namespace(self, namespace: Any, path: str) -> None:
            self.folder[path] = json.dumps({"namespaces": [namespace]}, separators=(",", ":"))

    catalog = get_type_map().namespace_catalog
    out: dict[str, dict[str, dict[str, str]]] = {}
    for name in (n for n in catalog.namespaces if n in SHIPPED_NAMESPACES):
        version = catalog.get_namespace(name).version or "unversioned"
        folder = out.setdefault(name, {}).setdefault(version, {})
        NamespaceToBuilderHelper.convert_namespace(catalog, name).export("namespace", writer=_Collect(folder))
    return out


@functools.cache
def _shipped() -> dict[str, dict[str, dict[str, str]]]:
    text = resources.files("nwbzarr").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    data: dict[str, dict[str, dict[str, str]]] = json.loads(text)
    return data


def cached_specifications() -> Group:
    """``/specifications``: one folder per namespace and version, one JSON text per schema source.

    A new tree each call: a writer may attach it to a file tree it then owns.
    """
    root = Group()
    for name, versions in _shipped().items():
        for version, sources in versions.items():
            folder = root.require_group(f"{name}/{version}")
            for source, text in sources.items():
                folder.members[source] = Dataset(dtype=UTF8, data=np.array(text, dtype=object))
    return root


def with_specifications(tree: Group, schemas: Iterable[SpecCatalog] = ()) -> Group:
    """``tree`` with the cached schema added when it has none, and every namespace its objects use.

    A namespace missing from the tree's ``/specifications`` (an extension type created with ``get_class``)
    is cached from the first of ``schemas`` that holds it, with the namespaces it includes: PyNWB and
    hdmf-zarr resolve a type only from the file's own cache.
    """
    if SPEC_GROUP not in tree.members:
        tree.members[SPEC_GROUP] = cached_specifications()
    group = tree.members[SPEC_GROUP]
    if not isinstance(group, Group):
        return tree
    known = tuple(schemas)
    pending = sorted(_used_namespaces(tree) - set(group.members))
    added: dict[str, Group] = {}
    while pending:
        name = pending.pop()
        schema = next((s for s in known if name in s.documents), None)
        if name in added or name in group.members or schema is None:
            continue
        folder = Group()
        for source, document in schema.documents[name].items():
            text = json.dumps(document, separators=(",", ":"))
            folder.members[source] = Dataset(dtype=UTF8, data=np.array(text, dtype=object))
        added[name] = Group(members={schema.version(name): folder})
        pending.extend(n for n in schema.includes.get(name, []) if n not in group.members)
    if added:  # a new group: the tree's own (perhaps a file's stored one) is left as it was
        tree.members[SPEC_GROUP] = Group(attrs=dict(group.attrs), members={**group.members, **added})
    return tree


def _used_namespaces(tree: Group) -> set[str]:
    out: set[str] = set()
    for path, node in walk(tree):
        if path.startswith(f"/{SPEC_GROUP}"):
            continue
        if isinstance(node, (Group, Dataset)) and isinstance(node.attrs.get("neurodata_type"), str):
            namespace = node.attrs.get("namespace")
            if isinstance(namespace, str):
                out.add(namespace)
    return out
