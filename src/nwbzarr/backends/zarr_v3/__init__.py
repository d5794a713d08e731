"""Zarr v3 backend (the NWB Zarr v3 convention of hdmf-zarr >= 0.14 and LINDI)."""

from nwbzarr.backends.zarr_v3.backend import ZarrBackend
from nwbzarr.backends.zarr_v3.reader import ZarrLazyArray, read_tree

__all__ = ["ZarrBackend", "ZarrLazyArray", "read_tree"]
