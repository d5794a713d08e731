"""Every error nwbzarr raises.

One root, :class:`NWBZarrError`; each leaf also subclasses the built-in a caller would already
catch (``ValueError``, ``KeyError``, ``FileNotFoundError`` ...), so ``except ValueError`` keeps
working and ``except nwbzarr.NWBZarrError`` catches everything of ours.
"""

from __future__ import annotations

__all__ = [
    "ContainerNotFoundError",
    "DestinationError",
    "DuplicateNameError",
    "IncompleteStoreError",
    "InvalidNameError",
    "InvalidStoreError",
    "LegacyStoreError",
    "MissingDependencyError",
    "NWBZarrError",
    "NotInFileError",
    "ReadTooLargeError",
    "ResumeRefusedError",
    "ReadOnlyError",
    "SchemaError",
    "StorageError",
    "StoreExistsError",
    "StoreLockedError",
    "LockLostError",
    "StoreNotFoundError",
    "UnsafeDataError",
    "ValidationError",
]


class NWBZarrError(Exception):
    """Root of every error raised by nwbzarr."""


class ValidationError(NWBZarrError, ValueError):
    """A value breaks a rule of the NWB schema or of the model; the message names object and field."""


class InvalidNameError(ValidationError):
    """An object name that cannot be a node name (empty, contains '/', or is '.' or '..')."""


class DuplicateNameError(ValidationError):
    """Two objects with one name in one group."""


class NotInFileError(ValidationError):
    """A link or reference points at an object that is not part of the file being written."""


class ContainerNotFoundError(NWBZarrError, KeyError):
    """No object of that name in a group (``module['name']``, ``nwbfile.acquisition[...]``)."""

    def __str__(self) -> str:  # KeyError quotes its argument; keep the message readable
        return str(self.args[0]) if self.args else ""


class StoreNotFoundError(NWBZarrError, FileNotFoundError):
    """Opening for reading a store or file that does not exist."""


class StoreExistsError(NWBZarrError, FileExistsError):
    """Mode ``w-`` on a path that already holds something."""


class StorageError(NWBZarrError, OSError):
    """The storage itself failed (network, permissions, a full disk) after retries and timeouts."""


class StoreLockedError(NWBZarrError, BlockingIOError):
    """Another writer holds the store's write lock: concurrent writes are refused, never interleaved."""


class LockLostError(StoreLockedError):
    """This writer's lock was taken over (its lease expired) or removed: it must not commit over another's work."""


class ReadOnlyError(NWBZarrError, PermissionError):
    """A write attempted through an IO opened in mode ``r``."""


class InvalidStoreError(NWBZarrError, ValueError):
    """The store exists but is not an NWB file nwbzarr can read; the message names the node."""


class DestinationError(InvalidStoreError):
    """A write destination refused before anything is touched: it is (or holds, or lies in) the source,
    it is a folder or file that is not an NWB file of that format, or its name gives no NWB format."""


class LegacyStoreError(InvalidStoreError):
    """A legacy Zarr v2 store (hdmf-zarr <= 0.13) where a v3 one is needed (to write, or append)."""


class IncompleteStoreError(InvalidStoreError):
    """The store was not finished by its writer (interrupted write); says how to resume or remove it."""


class ResumeRefusedError(NWBZarrError, ValueError):
    """A resume was refused: the source or the options changed since the first attempt (the message says which)."""


class ReadTooLargeError(NWBZarrError, MemoryError):
    """One read would bring more into memory than :data:`nwbzarr.abc.array.MAX_READ_BYTES`."""


class UnsafeDataError(NWBZarrError, PermissionError):
    """Decoding would run code from the data (pickle) or leave the store; refused unless allowed."""


class SchemaError(NWBZarrError, ValueError):
    """A namespace or schema file cannot be loaded (missing source, bad YAML, unknown included namespace)."""


class MissingDependencyError(NWBZarrError, ImportError):
    """An optional dependency is needed for this feature; the message says what to install."""
