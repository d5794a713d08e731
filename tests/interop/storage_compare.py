"""Storage-level descriptions of NWB files: every group, dataset, link and attribute with its stored type.

Two files are the same at the storage level when their descriptions are equal: same paths, same kinds,
the same stored types (text encoding, integer width and signedness, float width) and the same values.
Chunking and compression are layout, not type, and are left out.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["describe_hdf5", "describe_zarr", "differences"]

Description = dict[str, Any]


def _h5_type(h5py: Any, dtype: np.dtype) -> Any:
    if dtype.names:
        return tuple((n, _h5_type(h5py, dtype[n])) for n in dtype.names)
    text = h5py.check_string_dtype(dtype)
    if text is not None:
        return ("text", text.encoding, "vlen" if text.length is None else text.length)
    if h5py.check_ref_dtype(dtype) is not None:
        return "reference"
    return dtype.str


def _h5_values(h5py: Any, file: Any, value: Any) -> Any:
    array = np.asarray(value)
    if array.dtype.names:
        return [tuple(_h5_values(h5py, file, row[n]) for n in array.dtype.names) for row in array.ravel()]
    if array.dtype.kind in {"O", "S"}:
        return [_h5_scalar(h5py, file, v) for v in array.ravel()], array.shape
    return array.tolist(), array.shape


def _h5_scalar(h5py: Any, file: Any, v: Any) -> Any:
    if isinstance(v, h5py.Reference):
        return ("ref", file[v].name) if v else ("ref", None)
    if isinstance(v, bytes):
        return v.decode("utf-8", errors="surrogateescape")
    return v


def describe_hdf5(path: Path | str) -> Description:
    """{path: description} of every node of an HDF5 file, and {path@attr: description} of every attribute."""
    import h5py

    out: Description = {}
    with h5py.File(path, "r") as file:

        def attrs(node: Any) -> None:
            for key in node.attrs:
                dtype = node.attrs.get_id(key).dtype
                out[f"{node.name}@{key}"] = (_h5_type(h5py, dtype), _h5_values(h5py, file, node.attrs[key]))

        def visit(group: Any) -> None:
            attrs(group)
            for name in group:
                link = group.get(name, getlink=True)
                child_path = f"{group.name.rstrip('/')}/{name}"
                if isinstance(link, h5py.SoftLink):
                    out[child_path] = ("soft link", link.path)
                elif isinstance(link, h5py.ExternalLink):
                    out[child_path] = ("external link", link.filename, link.path)
                elif isinstance(group[name], h5py.Group):
                    out[child_path] = ("group",)
                    visit(group[name])
                else:
                    ds = group[name]
                    out[child_path] = ("dataset", _h5_type(h5py, ds.dtype), _h5_values(h5py, file, ds[()]))
                    attrs(ds)

        out["/"] = ("group",)
        visit(file)
    return out


def describe_zarr(path: Path | str) -> Description:
    """{path: description} of every node of a local Zarr v3 store: its metadata's type, attributes and values."""
    import zarr

    root = Path(path)
    out: Description = {}
    for meta_file in sorted(root.rglob("zarr.json")):
        rel = meta_file.parent.relative_to(root).as_posix()
        key = "/" if rel == "." else "/" + rel
        meta = json.loads(meta_file.read_text())
        for name, value in (meta.get("attributes") or {}).items():
            out[f"{key}@{name}"] = value
        if meta["node_type"] == "group":
            out[key] = ("group",)
            continue
        values = np.asarray(zarr.open_array(str(meta_file.parent), mode="r")[()])
        listed = (
            [tuple(row[n].tolist() for n in values.dtype.names) for row in values.ravel()]
            if values.dtype.names
            else [str(v) if not isinstance(v, (int, float, bool)) else v for v in values.ravel().tolist()]
        )
        out[key] = ("array", json.dumps(meta["data_type"], sort_keys=True), tuple(meta["shape"]), listed)
    return out


def differences(a: Description, b: Description, limit: int = 20) -> list[str]:
    """Human-readable differences between two descriptions (empty when they are the same)."""
    problems = []
    for key in sorted(set(a) | set(b)):
        if key not in a:
            problems.append(f"{key}: only in the second: {b[key]!r}"[:300])
        elif key not in b:
            problems.append(f"{key}: only in the first: {a[key]!r}"[:300])
        elif repr(a[key]) != repr(b[key]):
            problems.append(f"{key}: {a[key]!r} != {b[key]!r}"[:300])
    return problems[:limit]
