"""``NWBHDF5IO``: export to and import from NWB HDF5 files, with the same interface as NWBZarrIO."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from nwbzarr.abc.backend import Backend
from nwbzarr.backends.hdf5 import HDF5Backend
from nwbzarr.backends.hdf5.remote_source import is_remote
from nwbzarr.core.progress import Callback
from nwbzarr.io.base import NWBIO
from nwbzarr.storage.destination import check_destination

__all__ = ["NWBHDF5IO"]


class NWBHDF5IO(NWBIO):
    """Open an NWB HDF5 file: ``with NWBHDF5IO("session.nwb", "w") as io: io.write(nwbfile)``.

    Modes as NWBZarrIO: ``r``, ``w``, ``w-``, ``a``. Reads are lazy: ``data`` slices read only what
    they touch, so keep the IO open while you use the data. ``path`` may be a URL (``s3://``,
    ``https://``, any fsspec protocol; ``storage_options`` go to its filesystem), opened read-only.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        mode: str = "r",
        *,
        storage_options: dict[str, Any] | None = None,
        progress: Callback | None = None,
    ) -> None:
        super().__init__(mode, progress=progress)
        self.path = Path(path)
        self.url = os.fspath(path) if is_remote(os.fspath(path)) else None
        self.storage_options = storage_options
        if self.url is not None:  # a URL: read-only, refused before anything else
            self._backend = HDF5Backend(self.url, self.mode, storage_options=storage_options)
            return
        if self.mode in ("w", "w-"):  # nothing but an NWB HDF5 file is replaced, and only with 'w'
            check_destination(self.path, format="hdf5", overwrite=self.mode == "w", how="use mode 'w'")
        self._backend = HDF5Backend(self.path, self.mode)

    def _open_backend(self, *, for_write: bool) -> Backend:
        return HDF5Backend(self.url or self.path, self.mode, storage_options=self.storage_options)

    def _discard_partial(self) -> None:
        if self._backend is not None:
            self._backend.discard()

    def __repr__(self) -> str:
        return f"NWBHDF5IO({self.url or str(self.path)!r}, mode={self.mode!r})"

    __str__ = __repr__
