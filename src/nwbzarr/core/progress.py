"""Progress reporting as a callback with a no-op default (the fsspec way)."""

from __future__ import annotations

from typing import Any, Protocol

__all__ = ["NO_PROGRESS", "Callback", "NoProgress", "TqdmProgress", "terminal_progress"]


class Callback(Protocol):
    """Told the total number of bytes to move, then each increment as it is done."""

    def set_total(self, total: int) -> None: ...
    def advance(self, amount: int) -> None: ...
    def close(self) -> None: ...


class NoProgress:
    def set_total(self, total: int) -> None:
        pass

    def advance(self, amount: int) -> None:
        pass

    def close(self) -> None:
        pass


NO_PROGRESS: Callback = NoProgress()


class TqdmProgress:
    """A tqdm bar in bytes; shown only when stderr is a terminal unless ``force``."""

    def __init__(self, description: str, *, force: bool = False) -> None:
        import sys

        from nwbzarr.core.optional import require

        tqdm = require("tqdm", "progress bars")
        self._bar: Any = tqdm.tqdm(
            desc=description,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            disable=not (force or sys.stderr.isatty()),
        )

    def set_total(self, total: int) -> None:
        self._bar.total = total
        self._bar.refresh()

    def advance(self, amount: int) -> None:
        self._bar.update(amount)

    def close(self) -> None:
        self._bar.close()


def terminal_progress(description: str, *, quiet: bool = False) -> Callback:
    """A tqdm bar on a terminal (none with ``quiet``, off a terminal, or without tqdm installed)."""
    if quiet:
        return NO_PROGRESS
    try:
        return TqdmProgress(description)
    except ImportError:
        return NO_PROGRESS
