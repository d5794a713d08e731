"""``NWBZarrIO``: NWB files as Zarr v3 stores, local or remote."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from zarr.abc.store import Store
from zarr.storage import LocalStore

from nwbzarr.abc.backend import Backend
from nwbzarr.backends.zarr_v3 import ZarrBackend
from nwbzarr.errors import InvalidStoreError, StoreExistsError, StoreNotFoundError
from nwbzarr.io.base import NWBIO
from nwbzarr.progress import Callback
from nwbzarr.storage import StoreLike, make_store, store_exists

__all__ = ["NWBZarrIO"]


class NWBZarrIO(NWBIO):
    """Open an NWB Zarr store: ``with NWBZarrIO("session.nwb.zarr", "w") as io: io.write(nwbfile)``.

    ``path`` is a local path, a URL (``s3://``, ``memory://``...) or a zarr store; ``storage_options``
    go to the fsspec filesystem of a URL. Modes: ``r`` read, ``w`` create or overwrite, ``w-`` create
    (fails if it exists), ``a`` add objects to an existing file.
    """

    def __init__(
        self,
        path: StoreLike,
        mode: str = "r",
        *,
        storage_options: dict[str, Any] | None = None,
        progress: Callback | None = None,
    ) -> None:
        super().__init__(mode, progress=progress)
        self.path = path
        self.where = str(path) if not isinstance(path, Store) else repr(path)
        self.store = make_store(path, read_only=self.mode == "r", storage_options=storage_options)
        exists = store_exists(self.store)
        if self.mode in ("r", "a") and not exists:
            raise StoreNotFoundError(f"{self.where}: no NWB Zarr store here (mode {self.mode!r} needs one)")
        if self.mode == "w-" and (exists or _non_empty_dir(self.store)):
            raise StoreExistsError(f"{self.where} already exists (mode 'w-' never overwrites; use 'w' to replace it)")
        if self.mode == "w" and not exists and _non_empty_dir(self.store):
            raise InvalidStoreError(
                f"{self.where} is a non-empty folder that is not a Zarr store; refusing to overwrite it"
            )
        self._created = not exists

    def _open_backend(self, *, for_write: bool) -> Backend:
        return ZarrBackend(self.store, where=self.where)

    def _discard_partial(self) -> None:
        ZarrBackend(self.store, where=self.where).discard()

    def __repr__(self) -> str:
        return f"NWBZarrIO({self.where!r}, mode={self.mode!r})"

    __str__ = __repr__


def _non_empty_dir(store: Store) -> bool:
    if isinstance(store, LocalStore):
        root = Path(store.root)
        return root.is_dir() and any(root.iterdir())
    return False


del os
