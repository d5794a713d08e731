"""File access for a local store that stays inside its root and reads at most a bound.

A key is checked (:func:`~nwbzarr.storage.keys.check_store_key`), its path resolved with every
symlink followed and refused if it lands outside the root; the file is opened without following a
last symlink and without blocking (a FIFO), refused unless it is a regular file (a device, a FIFO),
and read with ``pread`` up to its size, which must be within the bound: a file that grows while it is
read, or ``/dev/zero`` behind a link, cannot make a read bigger than the bound.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from nwbzarr.errors import InvalidStoreError, ReadTooLargeError
from nwbzarr.storage.keys import check_store_key

__all__ = ["inside", "read_bounded", "resolve_key", "resolve_prefix"]

_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
_READ_STEP = 64 * 1024**2


def inside(root: str, path: str) -> bool:
    """Whether the resolved ``path`` is ``root`` or below it (both resolved)."""
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _resolved(root: Path, rel: str, where: str) -> Path:
    real_root = os.path.realpath(root)
    real = os.path.realpath(Path(real_root, rel))
    if not inside(real_root, real):
        raise InvalidStoreError(f"{where}: {rel!r} is a symlink (or under one) leading outside the store, to {real}")
    return Path(real)


def resolve_key(root: Path, key: str, where: str) -> Path:
    """The real path of ``key`` inside ``root``; InvalidStoreError if the key or a symlink leaves it."""
    check_store_key(key, what=f"{where}: store key")
    return _resolved(root, key, where)


def resolve_prefix(root: Path, prefix: str, where: str) -> Path:
    """Like :func:`resolve_key` for a listing prefix ('' is the root, a trailing '/' is allowed)."""
    rel = prefix.rstrip("/")
    if rel:
        check_store_key(rel, what=f"{where}: store prefix")
    return _resolved(root, rel, where)


def _span(size: int, start: int | None, length: int | None, suffix: int | None) -> tuple[int, int]:
    if suffix is not None:
        begin = max(0, size - suffix)
        return begin, size - begin
    begin = min(start or 0, size)
    return begin, (size - begin) if length is None else max(0, min(length, size - begin))


def read_bounded(
    path: Path,
    *,
    limit: int,
    what: str,
    start: int | None = None,
    length: int | None = None,
    suffix: int | None = None,
) -> bytes | None:
    """Bytes of the regular file ``path`` (a range, if given), never more than ``limit``; None if absent."""
    try:
        fd = os.open(path, _FLAGS)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # became a symlink after it was resolved
            raise InvalidStoreError(f"{what}: a symlink appeared while it was opened; not followed") from exc
        raise
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            return None
        if not stat.S_ISREG(info.st_mode):
            raise InvalidStoreError(f"{what}: not a regular file (a FIFO, socket or device); nwbzarr reads only files")
        if info.st_size > limit:
            raise InvalidStoreError(
                f"{what}: {info.st_size} bytes, more than the {limit} bytes this object can hold; "
                "the store is damaged or hostile"
            )
        begin, count = _span(info.st_size, start, length, suffix)
        pieces: list[bytes] = []
        got = 0
        while got < count:
            piece = os.pread(fd, min(_READ_STEP, count - got), begin + got)
            if not piece:
                break
            pieces.append(piece)
            got += len(piece)
        return b"".join(pieces)
    except MemoryError as exc:
        raise ReadTooLargeError(f"{what}: not enough memory to read it") from exc
    finally:
        os.close(fd)
