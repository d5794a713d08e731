"""Replace a local file or store only once its successor is complete: write beside, then swap.

The new copy is written to a hidden sibling (same folder, so the same filesystem and renames are
cheap); after it is finished, the old one is renamed away, the new one renamed in, and the old one
deleted. A failure before the swap removes the sibling and leaves the old copy as it was.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["written_beside"]


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


@contextmanager
def written_beside(final: Path) -> Iterator[Path]:
    """A sibling path to write the replacement of ``final`` to; swapped in when the block ends normally."""
    tag = uuid.uuid4().hex[:8]
    new = final.with_name(f".{final.name}.nwbzarr-new-{tag}")
    old = final.with_name(f".{final.name}.nwbzarr-old-{tag}")
    try:
        yield new
    except BaseException:
        _remove(new)
        raise
    final.rename(old)
    try:
        new.rename(final)
    except BaseException:
        old.rename(final)
        _remove(new)
        raise
    _remove(old)
