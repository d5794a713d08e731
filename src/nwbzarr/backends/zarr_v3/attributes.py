"""JSON attributes of the Zarr v3 NWB convention: references, links and the reserved keys."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from nwbzarr.errors import InvalidStoreError
from nwbzarr.tree.nodes import Link, Reference
from nwbzarr.tree.values import numbers_as_array

__all__ = ["RESERVED", "decode_attrs", "encode_attrs", "links_attr", "parse_links"]

#: bookkeeping keys of hdmf-zarr's convention; they never reach the tree
RESERVED = frozenset(
    {"_DTYPE", "_LINKS", "_REFERENCE_FIELDS", "_ARRAY_DIMENSIONS", ".specloc", "zarr_dtype", "zarr_link"}
)


def encode_attrs(attrs: dict[str, Any]) -> dict[str, Any]:
    return {key: _to_json(value) for key, value in attrs.items()}


def _to_json(value: Any) -> Any:
    if isinstance(value, Reference):
        return {"_REFERENCE": {"source": value.source, "path": value.path}}
    if isinstance(value, np.ndarray):
        return [_to_json(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [_to_json(v) for v in value]
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, float) and not math.isfinite(value):
        return value  # zarr writes bare NaN/Infinity tokens, as hdmf-zarr does
    return value


def decode_attrs(raw: dict[str, Any], where: str) -> dict[str, Any]:
    """Tree attributes from stored JSON: references decoded, reserved keys dropped."""
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key in RESERVED:
            continue
        out[key] = _from_json(value, f"{where}@{key}")
    return out


def _from_json(value: Any, where: str) -> Any:
    if isinstance(value, dict):
        ref = value.get("_REFERENCE")
        if isinstance(ref, dict):
            path = ref.get("path")
            if not isinstance(path, str):
                raise InvalidStoreError(f"{where}: reference without a path: {value!r}")
            return Reference(path=path, source=str(ref.get("source", ".")))
        return value
    return numbers_as_array(value)


def links_attr(links: dict[str, Link]) -> list[dict[str, str]]:
    return [{"source": link.source, "path": link.path, "name": name} for name, link in links.items()]


def parse_links(raw: Any, where: str) -> dict[str, Link]:
    if raw is None:
        return {}
    if not isinstance(raw, list):
        raise InvalidStoreError(f"{where}@_LINKS: expected a list, got {type(raw).__name__}")
    out: dict[str, Link] = {}
    for entry in raw:
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("name"), str)
            or not isinstance(entry.get("path"), str)
        ):
            raise InvalidStoreError(f"{where}@_LINKS: malformed entry {entry!r}")
        out[entry["name"]] = Link(path=entry["path"], source=str(entry.get("source", ".")))
    return out
