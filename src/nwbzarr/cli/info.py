"""``nwbzarr info PATH``: the tree with types, shapes, dtypes, chunking, codecs, raw and stored sizes."""

from __future__ import annotations

import argparse
import json
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from nwbzarr.backends.open import open_backend
from nwbzarr.backends.zarr_v3.manifest import read_manifest
from nwbzarr.cli.inputs import check_input
from nwbzarr.core.dtypes import dtype_name, is_numeric
from nwbzarr.operations.summary import format_bytes, tree_lines
from nwbzarr.storage import make_store
from nwbzarr.tree.nodes import Dataset, Group, Link, walk

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser("info", help="show the tree of an NWB file (Zarr or HDF5)")
    parser.add_argument("path", help="store, file or URL")
    parser.add_argument("--specs", action="store_true", help="also list the cached specifications")
    parser.add_argument("--json", action="store_true", help="print every node as JSON")
    parser.set_defaults(run=run)


def _stored_sizes(path: str) -> tuple[dict[str, int], int] | None:
    """Bytes stored under each node and the object count, from the manifest or a local folder."""
    objects: dict[str, int] = {}
    if Path(path).is_file():  # an HDF5 file is one object
        return {"/": Path(path).stat().st_size}, 1
    if Path(path).is_dir():
        objects = {str(p.relative_to(path)): p.stat().st_size for p in Path(path).rglob("*") if p.is_file()}
    elif "://" in path:
        manifest = read_manifest(make_store(path, read_only=True))
        if manifest is None:
            return None
        objects = {key: int(entry[0]) for key, entry in (manifest.get("objects") or {}).items()}
        objects["nwbzarr.json"] = 0  # the manifest is an object of the store too (as verify counts it)
    else:
        return None
    per_node: dict[str, int] = defaultdict(int)
    for key, size in objects.items():
        parts = key.split("/")
        for i in range(len(parts)):
            per_node["/" + "/".join(parts[:i])] += size
    return dict(per_node), len(objects)


def _node_json(path: str, node: Group | Dataset | Link, stored: dict[str, int] | None) -> dict[str, Any]:
    if isinstance(node, Link):
        return {"path": path, "kind": "link", "target": node.path, "source": node.source}
    out: dict[str, Any] = {
        "path": path,
        "kind": "group" if isinstance(node, Group) else "dataset",
        "neurodata_type": node.attrs.get("neurodata_type"),
    }
    if isinstance(node, Dataset):
        out.update(shape=list(node.shape), dtype=dtype_name(node.dtype))
        if is_numeric(node.dtype):
            out["raw_bytes"] = _raw_bytes(node)
        if node.layout is not None:
            out.update(
                chunks=node.layout.chunks,
                shards=node.layout.shards,
                compression=None if node.layout.compression is None else vars_of(node.layout.compression),
            )
    if stored is not None and path in stored:
        out["stored_bytes"] = stored[path]
    return out


def _raw_bytes(ds: Dataset) -> int:
    return math.prod(ds.shape) * ds.dtype.itemsize if isinstance(ds.dtype, np.dtype) and is_numeric(ds.dtype) else 0


def vars_of(obj: Any) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in obj.__slots__}


def run(args: argparse.Namespace) -> int:
    check_input(args.path, command="info")
    backend = open_backend(args.path, mode="r")
    try:
        tree = backend.read_tree()
        sizes = _stored_sizes(str(args.path))
        stored, count = sizes if sizes is not None else (None, None)
        nodes = [(p, n) for p, n in walk(tree) if args.specs or not p.startswith("/specifications")]
        raw = sum(_raw_bytes(n) for _, n in nodes if isinstance(n, Dataset))
        if args.json:
            print(
                json.dumps(
                    {
                        "path": str(args.path),
                        "objects": count,
                        "raw_bytes": raw,
                        "stored_bytes": stored.get("/") if stored else None,
                        "nodes": [_node_json(p, n, stored) for p, n in nodes],
                    },
                    indent=1,
                    default=str,
                )
            )
            return 0
        for line in tree_lines(tree, show_specs=args.specs, stored=stored):
            print(line)
        total = f"{format_bytes(stored['/'])} stored" if stored else "stored size unknown"
        ratio = ""
        if stored and stored["/"] and raw:
            factor = raw / stored["/"]
            ratio = (
                f" ({factor:.1f}x smaller than raw)" if factor >= 1 else f" ({1 / factor:.1f}x raw: mostly metadata)"
            )
        objects = f"{count} objects, " if count is not None else ""
        print(f"\n{objects}{format_bytes(raw)} of numeric data raw, {total}{ratio}")
    finally:
        backend.close()
    return 0
