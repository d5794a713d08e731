"""Unsigned attribute types from the cached schema, for Zarr stores that do not record them.

hdmf-zarr (and nwbzarr's own model writer) store integer attributes as bare JSON numbers and leave
their type to the schema. nwbzarr records what JSON cannot say (``_ATTRIBUTE_DTYPES``), but a store
written by hdmf-zarr gives back ``sweep_number`` as a plain int, which HDF5 would store as int64 where
the schema says uint32/uint64: ``pynwb.validate`` reports that. Before such a tree is written, each
plain non-negative int attribute whose schema dtype is unsigned gets that dtype. Signed and float widths
are left alone: a wider type is valid (hdmf itself keeps float64 for a float32 attribute).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nwbzarr.model.generic import SpecCatalog
from nwbzarr.tree.nodes import Dataset, Group, walk

__all__ = ["apply_unsigned_types"]

#: the schema's unsigned integer names (hdmf's spellings) -> numpy
_UNSIGNED = {"uint8": "uint8", "uint16": "uint16", "uint32": "uint32", "uint": "uint32", "uint64": "uint64"}
#: how far up the neurodata_type_inc chain a spec is searched
_MAX_DEPTH = 32


def apply_unsigned_types(tree: Group) -> int:
    """Give plain-int attributes the unsigned dtype the file's cached schema declares; the number changed."""
    from nwbzarr.codec.decode import schema_catalog

    catalog = schema_catalog(tree)
    if catalog is None:
        return 0
    changed = 0
    for _, node in walk(tree):
        if isinstance(node, (Group, Dataset)):
            kind, namespace = node.attrs.get("neurodata_type"), node.attrs.get("namespace")
            if isinstance(kind, str):
                changed += _apply(node, _specs(catalog, kind, namespace if isinstance(namespace, str) else None))
    return changed


def _specs(catalog: SpecCatalog, kind: str, namespace: str | None) -> list[dict[str, Any]]:
    """The spec of ``kind`` and of every type it extends, nearest first."""
    out: list[dict[str, Any]] = []
    while kind and len(out) < _MAX_DEPTH:
        found = catalog.find(kind, namespace)
        if found is None:
            break
        namespace, spec = found
        out.append(spec)
        kind = spec.get("neurodata_type_inc") or ""
    return out


def _apply(node: Group | Dataset, specs: list[dict[str, Any]]) -> int:
    changed = 0
    seen: set[str] = set()
    for spec in specs:
        for attr in spec.get("attributes") or ():
            name, dtype = attr.get("name"), attr.get("dtype")
            if not isinstance(name, str) or name in seen:
                continue
            seen.add(name)
            target = _UNSIGNED.get(dtype) if isinstance(dtype, str) else None
            value = node.attrs.get(name)
            if target is not None and type(value) is int and 0 <= value <= np.iinfo(target).max:
                node.attrs[name] = np.dtype(target).type(value)
                changed += 1
        if isinstance(node, Group):  # untyped named members defined inline (a typed one is visited itself)
            for sub in [*(spec.get("datasets") or ()), *(spec.get("groups") or ())]:
                member = node.members.get(sub.get("name") or "")
                if isinstance(member, (Group, Dataset)) and "neurodata_type" not in member.attrs:
                    changed += _apply(member, [sub])
    return changed
