"""The NWB schema cached in every file under ``/specifications``, as PyNWB and hdmf-zarr do.

Readers such as ``pynwb.validate`` and hdmf-zarr load the schema from the file itself. nwbzarr does
not ship the schema: it takes it from an installed PyNWB (the schema a PyNWB reader will expect)
and leaves it out, with a note from ``nwbzarr validate``, when PyNWB is not installed.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import numpy as np

from nwbzarr.dtypes import UTF8
from nwbzarr.tree.nodes import Dataset, Group

__all__ = ["SPEC_GROUP", "cached_specifications", "with_specifications"]

SPEC_GROUP = "specifications"


@functools.cache
def cached_specifications() -> Group | None:
    """``/specifications``: one folder per namespace and version, one JSON text per schema source."""
    try:
        from hdmf.backends.utils import NamespaceToBuilderHelper
        from hdmf.spec.write import SpecWriter
        from pynwb import get_type_map
    except ImportError:
        return None

    class _TreeSpecWriter(SpecWriter):  # type: ignore[misc]
        def __init__(self, folder: Group) -> None:
            self.folder = folder

        def _put(self, name: str, value: Any) -> None:
            text = json.dumps(value, separators=(",", ":"))
            self.folder.members[name] = Dataset(dtype=UTF8, data=np.array(text, dtype=object))

        def write_spec(self, spec: Any, path: str) -> None:
            self._put(path, spec)

        def write_namespace(self, namespace: Any, path: str) -> None:
            self._put(path, {"namespaces": [namespace]})

    catalog = get_type_map().namespace_catalog
    root = Group()
    for name in catalog.namespaces:
        version = catalog.get_namespace(name).version
        folder = root.require_group(f"{name}/{version or 'unversioned'}")
        NamespaceToBuilderHelper.convert_namespace(catalog, name).export("namespace", writer=_TreeSpecWriter(folder))
    return root


def with_specifications(tree: Group) -> Group:
    """``tree`` with the cached schema added when it has none and one is available."""
    if SPEC_GROUP not in tree.members:
        specs = cached_specifications()
        if specs is not None:
            tree.members[SPEC_GROUP] = specs
    return tree
