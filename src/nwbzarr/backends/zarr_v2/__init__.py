"""Legacy Zarr v2 reader (hdmf-zarr <= 0.13 stores), read-only."""

from nwbzarr.backends.zarr_v2.backend import ZarrV2Backend
from nwbzarr.backends.zarr_v2.reader import V2LazyArray, read_v2_tree

__all__ = ["V2LazyArray", "ZarrV2Backend", "read_v2_tree"]
