"""``NWBHDF5IO``: export to and import from NWB HDF5 files, with the same interface as NWBZarrIO."""

from __future__ import annotations

import os
from pathlib import Path

from nwbzarr.abc.backend import Backend
from nwbzarr.backends.hdf5 import HDF5Backend
from nwbzarr.io.base import NWBIO
from nwbzarr.progress import Callback

__all__ = ["NWBHDF5IO"]


class NWBHDF5IO(NWBIO):
    """Open an NWB HDF5 file: ``with NWBHDF5IO("session.nwb", "w") as io: io.write(nwbfile)``.

    Modes as NWBZarrIO: ``r``, ``w``, ``w-``, ``a``. Reads are lazy: ``data`` slices read only what
    they touch, so keep the IO open while you use the data.
    """

    def __init__(self, path: str | os.PathLike[str], mode: str = "r", *, progress: Callback | None = None) -> None:
        super().__init__(mode, progress=progress)
        self.path = Path(path)
        self._backend = HDF5Backend(self.path, self.mode)

    def _open_backend(self, *, for_write: bool) -> Backend:
        return HDF5Backend(self.path, self.mode)

    def _discard_partial(self) -> None:
        if self._backend is not None:
            self._backend.discard()

    def __repr__(self) -> str:
        return f"NWBHDF5IO({str(self.path)!r}, mode={self.mode!r})"

    __str__ = __repr__
