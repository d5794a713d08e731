"""Extension namespaces loaded into nwbzarr, and which namespaces a file's objects need cached.

``load_namespaces('ndx-....namespace.yaml')`` (PyNWB's function of that name, without PyNWB) makes an
extension's types available to ``get_class``. Any file that then holds one of its objects caches the
namespace under ``/specifications``, because PyNWB and hdmf-zarr resolve types from the file's own cache.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from nwbzarr.core.optional import require
from nwbzarr.errors import SchemaError
from nwbzarr.model.generic import SpecCatalog, schema_of

__all__ = ["catalogs_of", "is_loaded", "load_namespaces", "loaded_catalog", "loaded_namespaces"]

#: namespaces loaded in this process: ``{name: {"namespace": {...}, "<source>": {...}}}``
_LOADED: dict[str, dict[str, Any]] = {}
_SUFFIXES = (".yaml", ".yml", ".json")


@functools.cache
def _shipped_documents() -> dict[str, dict[str, Any]]:
    return dict(SpecCatalog.shipped().documents)


def load_namespaces(path: str | os.PathLike[str]) -> tuple[str, ...]:
    """Load the namespaces of a namespace YAML file (and its schema sources next to it); their names.

    Every namespace it includes must be known already (NWB core, hdmf-common, or loaded before).
    """
    yaml = require("yaml", "load_namespaces")
    where = Path(path)
    document = _read(yaml, where, where)
    spaces = document.get("namespaces") if isinstance(document, dict) else None
    if not isinstance(spaces, list) or not spaces:
        raise SchemaError(f"{where}: not a namespace file (no 'namespaces' list)")
    loaded: list[str] = []
    pending = {str(n.get("name")) for n in spaces if isinstance(n, dict)}
    for entry in spaces:
        name = entry.get("name") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not name:
            raise SchemaError(f"{where}: a namespace without a name")
        docs: dict[str, Any] = {}
        schema: list[dict[str, Any]] = []
        for item in entry.get("schema") or ():
            if "namespace" in item:
                included = str(item["namespace"])
                if not (included in pending or is_loaded(included) or included in _shipped_documents()):
                    raise SchemaError(f"{where}: namespace {name!r} includes {included!r}, which is not loaded")
                schema.append(dict(item))
            elif "source" in item:
                source = str(item["source"])
                key = next((source[: -len(s)] for s in _SUFFIXES if source.endswith(s)), source)
                docs[key] = _read(yaml, where.parent / source, where)
                schema.append({**item, "source": key})
        docs["namespace"] = {"namespaces": [{**entry, "schema": schema}]}
        _LOADED[name] = json.loads(json.dumps(docs, default=str))  # plain JSON (YAML dates become text)
        loaded.append(name)
    return tuple(loaded)


def _read(yaml: Any, path: Path, named_in: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SchemaError(f"{named_in}: cannot read schema file {str(path)!r}: {exc.strerror or exc}") from exc
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SchemaError(f"{path}: not valid YAML: {exc}") from exc


def is_loaded(namespace: str | None) -> bool:
    """Whether ``load_namespaces`` loaded ``namespace`` in this process."""
    return namespace in _LOADED


def loaded_namespaces() -> tuple[str, ...]:
    """The names of the namespaces loaded with ``load_namespaces``."""
    return tuple(_LOADED)


def loaded_catalog() -> SpecCatalog:
    """NWB core and hdmf-common as nwbzarr ships them, plus every namespace loaded with ``load_namespaces``."""
    catalog = SpecCatalog()
    for name, docs in {**_shipped_documents(), **_LOADED}.items():
        catalog.add_namespace(name, docs)
    return catalog


def catalogs_of(objects: Iterable[Any]) -> list[SpecCatalog]:
    """The schemas the generic classes of ``objects`` were built from (where a writer finds namespaces)."""
    out: dict[int, SpecCatalog] = {}
    for obj in objects:
        schema = schema_of(obj)
        if schema is not None:
            out.setdefault(id(schema), schema)
    if _LOADED:
        out[0] = loaded_catalog()
    return list(out.values())
