"""``read_nwb``: one call that opens any NWB file, as PyNWB's function of the same name."""

from __future__ import annotations

from typing import Any

from nwbzarr.backends.open import open_backend
from nwbzarr.codec import decode
from nwbzarr.model import NWBFile
from nwbzarr.storage import StoreLike

__all__ = ["read_nwb"]


def read_nwb(path_or_url: StoreLike, storage_options: dict[str, Any] | None = None) -> NWBFile:
    """The NWBFile at ``path_or_url``, whatever it is: Zarr v3, legacy Zarr v2 or HDF5, local or remote.

    The format comes from the suffix, else from sniffing the first bytes. As PyNWB's ``read_nwb``, the file
    stays open while its data are in use (reads are lazy).
    """
    backend = open_backend(path_or_url, mode="r", storage_options=storage_options)
    try:
        return decode(backend.read_tree())
    except BaseException:
        backend.close()
        raise
