"""What every IO face shares: modes, the context-manager protocol, and read/write via the codec."""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from types import TracebackType
from typing import Literal, Self

from nwbzarr.abc.backend import Backend
from nwbzarr.codec import decode, encode
from nwbzarr.core.progress import NO_PROGRESS, Callback
from nwbzarr.errors import NWBZarrError, ReadOnlyError, StorageError, ValidationError
from nwbzarr.io.grow import Growth, describe, pending_rows
from nwbzarr.model import NWBFile
from nwbzarr.model.namespaces import catalogs_of
from nwbzarr.schema.specifications import with_specifications
from nwbzarr.tree.nodes import Group

__all__ = ["MODES", "Mode", "NWBIO"]

Mode = Literal["r", "w", "w-", "a", "r+"]
MODES: tuple[str, ...] = ("r", "w", "w-", "a", "r+")


class NWBIO(ABC):
    """An open NWB file. ``read()`` is lazy; ``write()`` validates everything before touching storage."""

    def __init__(self, mode: str, *, progress: Callback | None = None) -> None:
        if mode not in MODES:
            raise NWBZarrError(f"mode must be one of {', '.join(MODES)}; got {mode!r}")
        self.mode = "a" if mode == "r+" else mode
        self.progress = progress or NO_PROGRESS
        self._backend: Backend | None = None
        self._written = False
        self._read_file: NWBFile | None = None  # the file read() gave: the one whose stored tables may grow

    @abstractmethod
    def _open_backend(self, *, for_write: bool) -> Backend: ...

    @abstractmethod
    def _discard_partial(self) -> None:
        """Remove what this failed write attempt created (never a file that existed before it, never a file
        another writer holds); backends that undo a failed attempt themselves do nothing here."""

    def read(self) -> NWBFile:
        """The file's NWBFile; array data stays in storage until sliced."""
        if self.mode in ("w", "w-") and not self._written:
            raise NWBZarrError(f"{self}: nothing to read yet in mode {self.mode!r}; write first, or open with 'r'/'a'")
        self._read_file = decode(self.read_tree())
        return self._read_file

    def read_tree(self) -> Group:
        """The format-neutral tree (metadata only; datasets are lazy)."""
        backend = self._backend or self._open_backend(for_write=False)
        self._backend = backend
        return backend.read_tree()

    def write(self, nwbfile: NWBFile) -> None:
        """Write ``nwbfile``; in mode 'a', only the objects not yet stored are added."""
        if self.mode == "r":
            raise ReadOnlyError(f"{self}: opened with mode 'r'; use 'w', 'w-' or 'a' to write")
        if not isinstance(nwbfile, NWBFile):
            raise NWBZarrError(f"write() takes an NWBFile, got {type(nwbfile).__name__}")
        tree = encode(nwbfile)  # every validation error is raised here, before storage
        with_specifications(tree, catalogs_of(nwbfile.objects.values()))  # extension namespaces its objects use
        append = self.mode == "a" or (self._written and self.mode in ("w", "w-"))
        grow = pending_rows(nwbfile)  # rows added to stored tables, checked before storage too
        if grow and (self.mode != "a" or nwbfile is not self._read_file):
            raise ValidationError(
                f"{self}: {describe(grow[0])} has rows added after it was read; they are written in place by the "
                "IO that read it, opened with mode 'a'"
            )
        backend = self._backend or self._open_backend(for_write=True)
        self._backend = backend
        try:
            self._write_tree(backend, tree, append=append, grow=grow)
        except BaseException as exc:
            if not append:
                with contextlib.suppress(OSError):  # an unreachable store: nothing more can be removed now
                    self._discard_partial()
            if isinstance(exc, OSError) and not isinstance(exc, NWBZarrError):
                raise StorageError(f"{self}: the store failed during the write: {exc}") from exc
            raise
        self._written = True

    def _write_tree(self, backend: Backend, tree: Group, *, append: bool, grow: list[Growth]) -> None:
        """Hand the tree to the backend; a format that can grow stored arrays in place overrides this."""
        if grow:
            raise ValidationError(
                f"{self}: {describe(grow[0])} has rows added after it was read; only a Zarr store grows them in place"
            )
        backend.write_tree(tree, append=append, progress=self.progress)

    def close(self) -> None:
        if self._backend is not None:
            self._backend.close()
            self._backend = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
