"""A store and the stores it wraps: nwbzarr's checking store, counting and caching stores in tests and
benchmarks, zarr's ``WrapperStore``, each holding the next in ``_store``."""

from __future__ import annotations

from collections.abc import Iterator

__all__ = ["MAX_DEPTH", "store_layers"]

#: wrappers followed at most (a wrapper of itself would otherwise loop forever)
MAX_DEPTH = 8


def store_layers(store: object) -> Iterator[object]:
    """``store``, then the store it wraps, and so on, outermost first."""
    current: object = store
    for _ in range(MAX_DEPTH):
        if current is None:
            return
        yield current
        current = getattr(current, "_store", None)
