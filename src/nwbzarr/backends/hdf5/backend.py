"""The HDF5 backend: NWB HDF5 files as PyNWB writes and reads them (local files, h5py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nwbzarr._optional import require
from nwbzarr.abc.backend import Backend, Capabilities
from nwbzarr.backends.hdf5.reader import read_tree
from nwbzarr.backends.hdf5.writer import H5TreeWriter
from nwbzarr.errors import InvalidStoreError, ReadOnlyError, StoreExistsError, StoreNotFoundError
from nwbzarr.progress import Callback
from nwbzarr.tree.nodes import Group, walk

__all__ = ["HDF5Backend"]


class HDF5Backend(Backend):
    """One HDF5 file. Opened lazily; kept open while its lazy arrays are in use (close() ends them)."""

    capabilities = Capabilities(writable=True, appendable=True, remote=False, sharding=False)

    def __init__(self, path: Path, mode: str) -> None:
        self.path = Path(path)
        self.mode = mode
        self._file: Any = None
        if mode in ("r", "a") and not self.path.is_file():
            raise StoreNotFoundError(f"{self.path}: no such HDF5 file")
        if mode == "w-" and self.path.exists():
            raise StoreExistsError(f"{self.path} already exists (mode 'w-' never overwrites)")

    def _open(self, mode: str) -> Any:
        h5py = require("h5py", "HDF5 files")
        if self._file is None:
            try:
                self._file = h5py.File(self.path, mode)
            except OSError as exc:
                raise InvalidStoreError(f"{self.path}: not a readable HDF5 file: {exc}") from exc
        return self._file

    def read_tree(self) -> Group:
        return read_tree(self._open("r" if self.mode == "r" else "a"))

    def write_tree(self, tree: Group, *, append: bool, progress: Callback) -> None:
        if self.mode == "r":
            raise ReadOnlyError(f"{self.path}: opened read-only")
        if append:
            file = self._open("a")
            existing = {path for path, _ in walk(read_tree(file))}
        else:
            self.close()
            file = self._open("w")
            existing = set()
        H5TreeWriter(file, existing=existing, progress=progress).write(tree)
        file.flush()

    def discard(self) -> None:
        self.close()
        self.path.unlink(missing_ok=True)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
