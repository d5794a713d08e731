"""Convert into an icechunk session (a versioned, transactional Zarr 3 store): see docs/icechunk.md.

icechunk accepts Zarr node keys only (``nwbzarr.json``, the lock and the resume record are refused) and no
consolidated metadata, and it needs neither: its commit is the transaction (readers see the whole snapshot
or none of it), conflicting commits are detected by icechunk, and every snapshot stays readable. So the tree
is written as plain Zarr v3 nodes of the NWB convention (what hdmf-zarr reads), and the caller commits the
session (``session.commit("...")``).
"""

from __future__ import annotations

from typing import Any

import zarr
from zarr.abc.store import Store
from zarr.core.sync import sync

from nwbzarr.backends.zarr_v3.writer import TreeWriter, payload_bytes
from nwbzarr.core.progress import Callback
from nwbzarr.errors import StoreExistsError
from nwbzarr.tree.nodes import Group

__all__ = ["is_icechunk", "write_icechunk"]


def is_icechunk(target: Any) -> bool:
    """Whether ``target`` is an icechunk session's store (checked without importing icechunk)."""
    return isinstance(target, Store) and type(target).__module__.split(".")[0] == "icechunk"


def write_icechunk(tree: Group, store: Store, progress: Callback, *, overwrite: bool) -> None:
    """Write ``tree`` into an icechunk session's ``store`` (uncommitted: the caller commits)."""
    if not overwrite and not sync(store.is_empty("")):
        raise StoreExistsError(
            f"{store!r}: the icechunk session already holds nodes; pass overwrite=True to replace them "
            "(earlier snapshots are kept by icechunk)"
        )
    root = zarr.open_group(store, mode="w", zarr_format=3)
    progress.set_total(payload_bytes(tree))
    TreeWriter(root, existing=set(), progress=progress).write(tree)
