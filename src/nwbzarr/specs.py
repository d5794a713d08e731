"""The NWB schema cached in every file under ``/specifications``, as PyNWB and hdmf-zarr do.

Readers such as ``pynwb.validate`` and hdmf-zarr load the schema from the file itself, so every file
nwbzarr writes carries the schema of the NWB version it declares (``NWB_VERSION``). nwbzarr ships that
schema (NWB core and hdmf-common, BSD-licensed: ``schema/LICENSE-*.txt``) in ``schema/nwb-schema.json``,
so a file is complete without PyNWB; ``scripts/build_schema.py`` regenerates it from PyNWB.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

import numpy as np

from nwbzarr.dtypes import UTF8
from nwbzarr.tree.nodes import Dataset, Group

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


def with_specifications(tree: Group) -> Group:
    """``tree`` with the cached schema added when it has none."""
    if SPEC_GROUP not in tree.members:
        tree.members[SPEC_GROUP] = cached_specifications()
    return tree
