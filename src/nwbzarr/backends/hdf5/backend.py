"""The HDF5 backend: NWB HDF5 files as PyNWB writes and reads them (local files and, read-only, URLs).

A URL (``s3://``, ``https://``, any fsspec protocol) is opened by h5py over a block-caching file object
for the metadata; its big numeric datasets then read their chunks' byte ranges directly
(:mod:`.remote_reader`). Remote HDF5 is never written: a store in the cloud should be Zarr.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from nwbzarr.abc.backend import Backend, Capabilities
from nwbzarr.backends.hdf5.reader import H5LazyArray, read_tree
from nwbzarr.backends.hdf5.remote_handle import RemoteHDF5File
from nwbzarr.backends.hdf5.remote_reader import RemoteH5Array
from nwbzarr.backends.hdf5.remote_source import is_remote
from nwbzarr.backends.hdf5.writer import H5TreeWriter
from nwbzarr.core.optional import require
from nwbzarr.core.progress import Callback
from nwbzarr.errors import InvalidStoreError, NWBZarrError, ReadOnlyError, StoreExistsError, StoreNotFoundError
from nwbzarr.tree.nodes import Dataset, Group, walk

__all__ = ["HDF5Backend"]


class HDF5Backend(Backend):
    """One HDF5 file. Opened lazily; kept open while its lazy arrays are in use (close() ends them)."""

    capabilities = Capabilities(writable=True, appendable=True, remote=True, sharding=False)

    def __init__(
        self, path: str | os.PathLike[str], mode: str, *, storage_options: dict[str, Any] | None = None
    ) -> None:
        text = os.fspath(path)
        self.url = text if is_remote(text) else None
        self.path = Path(text.removeprefix("file://"))
        self.mode = mode
        self._file: Any = None
        self._remote: RemoteHDF5File | None = None
        if self.url is not None:
            if mode != "r":
                raise ReadOnlyError(
                    f"{text}: remote HDF5 files are read-only (mode {mode!r}); write a local .nwb file, "
                    "or convert to Zarr to write in the cloud: nwbzarr convert <source> s3://.../x.nwb.zarr"
                )
            self._remote = RemoteHDF5File(text, storage_options)
            return
        if storage_options:
            raise NWBZarrError(f"storage_options {sorted(storage_options)} are ignored for the local path {text!r}")
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
        if self._remote is not None:
            return _remote_tree(self._remote)
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
        if self._remote is None:
            self.path.unlink(missing_ok=True)

    def close(self) -> None:
        if self._remote is not None:
            self._remote.close()
        if self._file is not None:
            self._file.close()
            self._file = None


def _remote_tree(remote: RemoteHDF5File) -> Group:
    """The tree of a remote file, its numeric datasets reading their chunks' byte ranges directly."""
    file = remote.h5
    tree = read_tree(file)
    for _, node in walk(tree):
        if isinstance(node, Dataset) and isinstance(node.data, H5LazyArray):
            node.data = RemoteH5Array(remote, file[node.data.path], node.dtype, node.data)
    return tree
