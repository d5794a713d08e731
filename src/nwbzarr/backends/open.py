"""Open the right backend for a path, URL or store: Zarr v3, legacy Zarr v2 (read-only) or HDF5."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from zarr.abc.store import Store

from nwbzarr.abc.backend import Backend
from nwbzarr.errors import NWBZarrError, StoreNotFoundError
from nwbzarr.storage import StoreLike, make_store, store_exists

__all__ = ["Format", "detect_format", "open_backend"]

Format = Literal["zarr", "zarr-v2", "hdf5"]
_HDF5_SUFFIXES = (".nwb", ".h5", ".hdf5", ".hdf")
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


def detect_format(target: StoreLike, *, sniff: bool = False, storage_options: dict[str, Any] | None = None) -> Format:
    """What a target is: an existing file or store is sniffed, a new one is named by its suffix.

    With ``sniff`` (opening to read), a URL whose suffix tells nothing is sniffed with one ranged read of
    its first bytes (HDF5's signature, else Zarr).
    """
    if isinstance(target, Store):
        return "zarr"
    text = os.fspath(target)
    path = Path(text.removeprefix("file://"))
    if "://" not in text or text.startswith("file://"):
        if path.is_file():
            with path.open("rb") as f:
                if f.read(8) == _HDF5_MAGIC:
                    return "hdf5"
            raise NWBZarrError(f"{text}: neither an HDF5 file nor a Zarr store")
        if path.is_dir():
            if (path / "zarr.json").exists():
                return "zarr"
            if (path / ".zgroup").exists():
                return "zarr-v2"
    name = text.rstrip("/").lower()
    if name.endswith(_HDF5_SUFFIXES):
        return "hdf5"
    if sniff and "://" in text and not text.startswith("file://") and not name.endswith(".zarr"):
        return _sniff(text, storage_options)
    return "zarr"


def _sniff(url: str, storage_options: dict[str, Any] | None) -> Format:
    """A remote object named by neither suffix: its first 8 bytes (one ranged read) say if it is HDF5."""
    from nwbzarr.backends.hdf5.remote_source import RemoteSource

    try:
        head = RemoteSource(url, storage_options).read(0, 8)
    except (NWBZarrError, OSError):  # a prefix (a Zarr store), or too short for HDF5
        return "zarr"
    return "hdf5" if head == _HDF5_MAGIC else "zarr"


def open_backend(
    target: StoreLike,
    *,
    mode: Literal["r", "w", "w-", "a"],
    format: Format | None = None,
    storage_options: dict[str, Any] | None = None,
    allow_pickle: bool = False,
) -> Backend:
    """A backend for ``target`` in ``mode``; ``format`` overrides detection."""
    fmt = format or detect_format(target, sniff=mode == "r", storage_options=storage_options)
    where = os.fspath(target) if not isinstance(target, Store) else repr(target)
    if fmt == "hdf5":
        from nwbzarr.backends.hdf5 import HDF5Backend

        if isinstance(target, Store):
            raise NWBZarrError(f"{where}: an HDF5 file is a path or a URL, not a zarr store object")
        return HDF5Backend(os.fspath(target), mode, storage_options=storage_options)
    if fmt == "zarr-v2":
        if mode != "r":
            raise NWBZarrError(f"{where}: legacy Zarr v2 stores are read-only; convert to v3 with `nwbzarr convert`")
        from nwbzarr.backends.zarr_v2 import ZarrV2Backend

        store = make_store(target, read_only=True, storage_options=storage_options)
        return ZarrV2Backend(store, allow_pickle=allow_pickle)
    from nwbzarr.backends.zarr_v3 import ZarrBackend

    store = make_store(target, read_only=mode == "r", storage_options=storage_options)
    exists = store_exists(store)
    if mode == "r" and not exists:
        raise StoreNotFoundError(f"{where}: no NWB Zarr store here")
    if mode == "w-" and exists:
        from nwbzarr.errors import StoreExistsError

        raise StoreExistsError(f"{where} already exists (pass overwrite=True / --overwrite to replace it)")
    return ZarrBackend(store, where=where, allow_pickle=allow_pickle)
