"""The legacy Zarr v2 backend: read-only access to stores written by hdmf-zarr <= 0.13."""

from __future__ import annotations

from zarr.abc.store import Store

from nwbzarr.abc.backend import Backend, Capabilities
from nwbzarr.backends.zarr_v2.reader import read_v2_tree
from nwbzarr.core.progress import Callback
from nwbzarr.errors import ReadOnlyError
from nwbzarr.tree.nodes import Group

__all__ = ["ZarrV2Backend"]


class ZarrV2Backend(Backend):
    """A v2 store, read lazily; ``allow_pickle`` lets pickle-coded arrays (references) be decoded."""

    capabilities = Capabilities(writable=False, appendable=False, remote=True, sharding=False)

    def __init__(self, store: Store, *, allow_pickle: bool = False) -> None:
        self.store = store
        self.allow_pickle = allow_pickle

    def read_tree(self) -> Group:
        return read_v2_tree(self.store, allow_pickle=self.allow_pickle)

    def write_tree(self, tree: Group, *, append: bool, progress: Callback) -> None:
        raise ReadOnlyError("legacy Zarr v2 stores are read-only: convert to v3 with `nwbzarr convert`")

    def discard(self) -> None:
        raise ReadOnlyError("legacy Zarr v2 stores are never written")

    def close(self) -> None:
        pass
