"""From any store-like input (path, URL, fsspec mapper, zarr store) to a zarr store, in one place."""

from nwbzarr.storage.keys import check_store_key
from nwbzarr.storage.local import SafeLocalStore
from nwbzarr.storage.resolve import StoreLike, make_store, store_exists

__all__ = ["SafeLocalStore", "StoreLike", "check_store_key", "make_store", "store_exists"]
