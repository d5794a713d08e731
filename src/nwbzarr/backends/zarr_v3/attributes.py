"""JSON attributes of the Zarr v3 NWB convention: references, links and the reserved keys."""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np

from nwbzarr.errors import InvalidStoreError
from nwbzarr.storage.keys import check_node_name, check_node_path
from nwbzarr.tree.nodes import Link, Reference
from nwbzarr.tree.values import numbers_as_array, stored_type, with_stored_type

__all__ = ["ATTRIBUTE_DTYPES", "RESERVED", "NonFinite", "decode_attrs", "encode_attrs", "links_attr", "parse_links"]

#: bookkeeping keys of hdmf-zarr's convention; they never reach the tree
RESERVED = frozenset(
    {
        "_DTYPE",
        "_LINKS",
        "_REFERENCE_FIELDS",
        "_ARRAY_DIMENSIONS",
        ".specloc",
        "zarr_dtype",
        "zarr_link",
        "_ATTRIBUTE_DTYPES",
    }
)

#: how non-finite float attributes are stored. ``"strict"`` (the default): zarr v3's fill-value strings
#: ``"NaN"``/``"Infinity"``/``"-Infinity"``, typed in ``_ATTRIBUTE_DTYPES``, so every document is RFC 8259
#: JSON that strict readers (tensorstore, zarrita.js, web viewers) accept; PyNWB + hdmf-zarr 0.14 reject such
#: an attribute (a string where the schema wants a float). ``"bare"``: the ``NaN``/``Infinity`` tokens
#: hdmf-zarr writes and PyNWB reads back, which are not JSON (strict readers reject the whole store).
NonFinite = Literal["strict", "bare"]

#: nwbzarr's record of attribute types JSON cannot say (``{"sweep_number": "uint64", "x": "ascii"}``),
#: written only when one is needed: hdmf-zarr leaves typing to the schema, which a raw tree may lack
ATTRIBUTE_DTYPES = "_ATTRIBUTE_DTYPES"


def encode_attrs(attrs: dict[str, Any], *, nonfinite: NonFinite = "strict") -> dict[str, Any]:
    """Stored JSON of tree attributes, with the stored types JSON loses in ``_ATTRIBUTE_DTYPES``."""
    out = {key: _to_json(value) for key, value in attrs.items()}
    types = {key: name for key, value in attrs.items() if (name := stored_type(value)) is not None}
    if nonfinite == "strict":  # RFC 8259 has no NaN: zarr v3's fill-value strings, typed so they read back
        for key, value in out.items():
            if _has_nonfinite(value):
                out[key] = _strict_numbers(value)
                types.setdefault(key, "float64")
    elif nonfinite != "bare":
        raise ValueError(f"nonfinite={nonfinite!r}: expected 'strict' or 'bare'")
    if types:
        out[ATTRIBUTE_DTYPES] = types
    return out


def _has_nonfinite(value: Any) -> bool:
    if isinstance(value, list):
        return any(_has_nonfinite(v) for v in value)
    return isinstance(value, float) and not math.isfinite(value)


def _strict_numbers(value: Any) -> Any:
    """Non-finite floats as the strings zarr v3 uses for fill values; other values unchanged."""
    if isinstance(value, list):
        return [_strict_numbers(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return value


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
        return value  # bare NaN/Infinity tokens (as hdmf-zarr writes) unless encode_attrs makes them strict
    if isinstance(value, str):
        return str(value)  # Ascii is a str: its type is recorded in _ATTRIBUTE_DTYPES
    return value


def decode_attrs(raw: dict[str, Any], where: str) -> dict[str, Any]:
    """Tree attributes from stored JSON: references decoded, recorded types restored, reserved keys dropped."""
    types = raw.get(ATTRIBUTE_DTYPES) or {}
    if not isinstance(types, dict):
        raise InvalidStoreError(f"{where}@{ATTRIBUTE_DTYPES}: expected an object, got {type(types).__name__}")
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key in RESERVED:
            continue
        name = types.get(key)
        if name is None:
            out[key] = _from_json(value, f"{where}@{key}")
            continue
        try:
            out[key] = with_stored_type(value, name)
        except (TypeError, ValueError, OverflowError) as exc:
            raise InvalidStoreError(f"{where}@{key}: cannot read as the recorded {name!r}: {exc}") from exc
    return out


def _from_json(value: Any, where: str) -> Any:
    if isinstance(value, dict):
        ref = value.get("_REFERENCE")
        if isinstance(ref, dict):
            path = ref.get("path")
            if not isinstance(path, str):
                raise InvalidStoreError(f"{where}: reference without a path: {value!r}")
            check_node_path(path, what=f"{where}: reference target")
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
        check_node_name(entry["name"], what=f"{where}@_LINKS: link name")
        check_node_path(entry["path"], what=f"{where}@_LINKS: target of link {entry['name']!r}")
        out[entry["name"]] = Link(path=entry["path"], source=str(entry.get("source", ".")))
    return out
