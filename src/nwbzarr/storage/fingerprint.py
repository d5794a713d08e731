"""A source's fingerprint: what tells a resumed conversion that its source is the one the first attempt read.

Cheap by design (no read of the data): a local file by its resolved path, size and modification time;
a local Zarr store by its path and the size and time of its root documents (``zarr.json``,
``nwbzarr.json``, ``.zgroup``, ``.zmetadata``: a writer changes at least one of them); a URL by the
object's size and ETag (or modification time), and a remote store by those of its root documents.
A store object gives only its ``repr``: a resume from it trusts the caller.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from zarr.abc.store import Store

from nwbzarr.core.optional import require
from nwbzarr.errors import StorageError
from nwbzarr.storage.resolve import StoreLike, fsspec_options

__all__ = ["fingerprint"]

_ROOT_DOCUMENTS = ("zarr.json", "nwbzarr.json", ".zgroup", ".zmetadata")


def fingerprint(src: StoreLike, storage_options: dict[str, Any] | None = None) -> dict[str, Any]:
    """A JSON-able description of ``src`` that changes when its content does (see the module doc)."""
    if isinstance(src, Store):
        return {"store": repr(src)}
    text = os.fspath(src)
    if "://" not in text or text.startswith("file://"):
        return _local(Path(text.removeprefix("file://")).expanduser().resolve())
    return _remote(text, storage_options or {})


def _local(path: Path) -> dict[str, Any]:
    if not path.exists():  # opening the source says what is wrong, in its usual words
        return {"path": str(path), "missing": True}
    try:
        if path.is_dir():
            found = {name: _stat(path / name) for name in _ROOT_DOCUMENTS if (path / name).is_file()}
            return {"path": str(path), **found}
        info = path.stat()
    except OSError as exc:
        raise StorageError(f"{path}: cannot read the source's size and time: {exc}") from exc
    return {"path": str(path), "size": info.st_size, "mtime_ns": info.st_mtime_ns}


def _stat(path: Path) -> list[int]:
    info = path.stat()
    return [info.st_size, info.st_mtime_ns]


def _remote(url: str, options: dict[str, Any]) -> dict[str, Any]:
    fsspec = require("fsspec", "reading remote sources")
    fs, path = fsspec.core.url_to_fs(url, **fsspec_options(options))  # without nwbzarr's transport options
    try:
        info = fs.info(path)
    except FileNotFoundError:
        return {"url": url, "missing": True}
    except OSError as exc:
        raise StorageError(f"{url}: cannot read the source's size and version: {exc}") from exc
    try:
        if info.get("type") != "directory":
            return {"url": url, **_version(info)}
        found = {}
        for name in _ROOT_DOCUMENTS:
            key = f"{path.rstrip('/')}/{name}"
            if fs.exists(key):
                found[name] = _version(fs.info(key))
        return {"url": url, **found}
    except OSError as exc:
        raise StorageError(f"{url}: cannot read the source's size and version: {exc}") from exc


def _version(info: dict[str, Any]) -> dict[str, Any]:
    """Size and the best version marker an object store gives (ETag, else its modification time)."""
    marker = info.get("ETag") or info.get("etag") or info.get("LastModified") or info.get("mtime")
    return {"size": info.get("size"), "version": str(marker) if marker is not None else None}
