"""The disk cache of remote HDF5 files' metadata blocks and chunk indexes: a second open costs one request.

An entry is keyed by the URL; it holds the object's identity (ETag, else size and modification time),
the metadata blocks h5py read, and the chunk index of every dataset read. Opening checks the identity
with one HEAD request: a changed object drops its entry and is read (and indexed) afresh. The cache
keeps at most :attr:`CacheSettings.max_bytes` (least recently opened entries go first).

Settings: :func:`configure` (``location``, ``max_bytes``, ``enabled``), or the environment:
``NWBZARR_HDF5_CACHE=off`` turns it off, ``NWBZARR_HDF5_CACHE_DIR`` moves it (default
``$XDG_CACHE_HOME/nwbzarr/hdf5``, i.e. ``~/.cache/nwbzarr/hdf5``).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from nwbzarr.backends.hdf5.chunk_index import ChunkIndex
from nwbzarr.backends.hdf5.remote_source import Identity

__all__ = ["CacheEntry", "CacheSettings", "configure", "has_entry", "open_entry", "settings"]


@dataclass(frozen=True)
class CacheSettings:
    """Where the cache lives, how large it may grow, and whether it is used at all."""

    location: Path
    max_bytes: int = 2 * 1024**3
    enabled: bool = True


def _default() -> CacheSettings:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "nwbzarr" / "hdf5"
    location = Path(os.environ.get("NWBZARR_HDF5_CACHE_DIR") or base)
    enabled = os.environ.get("NWBZARR_HDF5_CACHE", "on").lower() not in ("off", "0", "false", "no")
    return CacheSettings(location=location, enabled=enabled)


_configured: list[CacheSettings] = []  # what configure() set, if it was called


def settings() -> CacheSettings:
    """The settings now in force (the environment's until :func:`configure` is called)."""
    return _configured[-1] if _configured else _default()


def configure(
    *, location: str | os.PathLike[str] | None = None, max_bytes: int | None = None, enabled: bool | None = None
) -> CacheSettings:
    """Change the cache's settings for this process; returns the new ones."""
    current = settings()
    new = replace(
        current,
        location=Path(location) if location is not None else current.location,
        max_bytes=max_bytes if max_bytes is not None else current.max_bytes,
        enabled=enabled if enabled is not None else current.enabled,
    )
    _configured[:] = [new]
    return new


class CacheEntry:
    """One remote file's cached blocks and indexes (a directory under the cache location)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def get_block(self, number: int) -> bytes | None:
        with contextlib.suppress(OSError):
            return (self.root / "blocks" / str(number)).read_bytes()
        return None

    def put_block(self, number: int, data: bytes) -> None:
        _write(self.root / "blocks" / str(number), data)

    def get_range(self, start: int, nbytes: int) -> bytes | None:
        """Bytes fetched outside the metadata blocks (chunk B-tree nodes), kept so a warm open needs none."""
        with contextlib.suppress(OSError):
            return (self.root / "ranges" / f"{start}-{nbytes}").read_bytes()
        return None

    def put_range(self, start: int, data: bytes) -> None:
        _write(self.root / "ranges" / f"{start}-{len(data)}", data)

    def get_index(self, dataset: str) -> ChunkIndex | None:
        try:
            with np.load(self.root / "index" / _digest(dataset), allow_pickle=False) as arrays:
                return ChunkIndex.from_arrays(dict(arrays))
        except (OSError, ValueError, KeyError):
            return None

    def put_index(self, dataset: str, index: ChunkIndex) -> None:
        buffer = io.BytesIO()
        np.savez(buffer, **index.to_arrays())  # type: ignore[arg-type]
        _write(self.root / "index" / _digest(dataset), buffer.getvalue())


def has_entry(url: str) -> bool:
    """Whether the cache holds something for ``url`` (then checking its identity is worth a HEAD request)."""
    current = settings()
    return current.enabled and (current.location / _digest(url) / "identity.json").exists()


def open_entry(url: str, identity: Identity) -> CacheEntry | None:
    """The entry for ``url`` as it is now (emptied if the object changed), or ``None`` with the cache off."""
    current = settings()
    if not current.enabled:
        return None
    root = current.location / _digest(url)
    stamp = json.dumps({"url": url, **asdict(identity)}, sort_keys=True)
    marker = root / "identity.json"
    try:
        if marker.read_text() != stamp:
            shutil.rmtree(root, ignore_errors=True)
    except OSError:
        shutil.rmtree(root, ignore_errors=True)
    try:
        _write(marker, stamp.encode())
    except OSError:
        return None  # an unwritable cache location: read without it
    _evict(current, keep=root)
    return CacheEntry(root)


def _evict(current: CacheSettings, keep: Path) -> None:
    """Remove the least recently opened entries until the cache fits its cap (``keep`` stays)."""
    entries = []
    total = 0
    for entry in current.location.iterdir():
        size = sum(f.stat().st_size for f in entry.rglob("*") if f.is_file())
        opened = (entry / "identity.json").stat().st_mtime if (entry / "identity.json").exists() else 0.0
        entries.append((opened, size, entry))
        total += size
    for _opened, size, entry in sorted(entries, key=lambda e: e[0]):
        if total <= current.max_bytes:
            break
        if entry != keep:
            shutil.rmtree(entry, ignore_errors=True)
            total -= size


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _write(path: Path, data: bytes) -> None:
    """Whole or not at all: another process may read the entry at the same time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{time.monotonic_ns()}")
    tmp.write_bytes(data)
    tmp.replace(path)
