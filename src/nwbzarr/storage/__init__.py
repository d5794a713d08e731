"""From any store-like input (path, URL, fsspec mapper, zarr store) to a zarr store, in one place."""

from nwbzarr.storage.resolve import StoreLike, make_store, store_exists

__all__ = ["StoreLike", "make_store", "store_exists"]
