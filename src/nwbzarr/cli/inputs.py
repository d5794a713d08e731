"""The one place the command checks the file a user names, so every subcommand words a problem alike.

Each subcommand calls :func:`check_input` before it opens anything: a missing path "does not exist", a
file or folder that holds no NWB file says what it is instead, and a format the subcommand cannot read
says which it reads and how to convert. Messages name the path as typed, never an internal object.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from nwbzarr.errors import InvalidStoreError, NWBZarrError, StoreNotFoundError
from nwbzarr.storage import make_store, store_exists

__all__ = ["Kind", "check_input"]

Kind = Literal["zarr", "zarr-v2", "hdf5", "remote"]
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_NAMES = {"zarr": "a Zarr store", "zarr-v2": "a legacy Zarr v2 store", "hdf5": "an HDF5 file"}


def _kind(typed: str) -> Kind:
    if "://" in typed and not typed.startswith("file://"):
        from nwbzarr.backends.open import detect_format

        if detect_format(typed, sniff=True) == "hdf5":  # an HDF5 file at a URL: read where it lies (issue 12)
            return "remote"
        try:
            found = store_exists(make_store(typed, read_only=True))
        except NWBZarrError:
            raise
        except (OSError, ValueError) as exc:  # fsspec's errors for unknown protocols and bad URLs
            raise StoreNotFoundError(f"{typed}: cannot open this URL: {exc}") from exc
        if not found:
            raise StoreNotFoundError(f"{typed}: does not exist (no NWB store at this URL)")
        return "remote"
    path = Path(typed.removeprefix("file://"))
    if not path.exists():
        raise StoreNotFoundError(f"{typed}: does not exist")
    if path.is_file():
        with path.open("rb") as f:
            if f.read(8) == _HDF5_MAGIC:
                return "hdf5"
        raise InvalidStoreError(f"{typed}: not an NWB file (a file that is not HDF5)")
    if (path / "zarr.json").exists() or (path / "nwbzarr.json").exists() or (path / "nwbzarr.lock").exists():
        return "zarr"
    if (path / ".zgroup").exists():
        return "zarr-v2"
    raise InvalidStoreError(f"{typed}: not an NWB file (a folder that holds no Zarr store)")


def check_input(typed: str, *, command: str, reads: tuple[Kind, ...] = ("zarr", "zarr-v2", "hdf5")) -> Kind:
    """What ``typed`` is; an error worded the same in every subcommand if it is missing or unreadable."""
    kind = _kind(typed)
    if kind != "remote" and kind not in reads:
        readable = " or ".join(_NAMES[k] for k in reads if k in _NAMES)
        hint = f"; convert it first: nwbzarr convert {typed} OUT.nwb.zarr" if "zarr" in reads else ""
        raise InvalidStoreError(f"{typed}: {_NAMES[kind]}; `nwbzarr {command}` reads {readable}{hint}")
    return kind
