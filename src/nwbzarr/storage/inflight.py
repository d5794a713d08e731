"""How many requests one read keeps in flight: the ``max_inflight`` storage option.

On object storage at tens of milliseconds a request, a read's time is its number of sequential round
trips: a time course over 512 frames needs about 170 inner chunks from six shards, and with all of
them in flight it costs two round trips (the shard indexes, then the chunks) instead of eight at 24.
The bound exists so a huge selection does not open thousands of connections; it is one setting for
every read of a store (Zarr shards and remote HDF5 alike), chosen by the user with
``storage_options={"max_inflight": n}``.
"""

from __future__ import annotations

import weakref
from typing import Any

from nwbzarr.errors import NWBZarrError

__all__ = ["DEFAULT_MAX_INFLIGHT", "max_inflight", "parse_max_inflight", "set_max_inflight"]

#: requests of one read in flight at once unless the store says otherwise. Above the ~170 ranges of a
#: 512-frame time course of the default layout, so that read is two round trips; real S3 serves thousands
#: of requests a second per prefix, and an HTTP/1.1 client holds one connection per request in flight
DEFAULT_MAX_INFLIGHT = 256

_limits: dict[int, int] = {}


def parse_max_inflight(value: Any) -> int:
    """``value`` checked: a positive integer (what the user typed is named in the error)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise NWBZarrError(f"storage option max_inflight={value!r}: expected a positive integer of requests")
    return value


def set_max_inflight(store: object, value: int) -> None:
    """Remember ``value`` for reads of ``store`` (for as long as the store object lives)."""
    key = id(store)
    if key not in _limits:
        weakref.finalize(store, _limits.pop, key, None)
    _limits[key] = value


def max_inflight(store: object) -> int:
    """The in-flight bound of ``store`` (or of the store it wraps), else :data:`DEFAULT_MAX_INFLIGHT`."""
    seen = 0
    while store is not None and seen < 8:  # wrappers (counting, caching stores) hold theirs in ``_store``
        limit = _limits.get(id(store))
        if limit is not None:
            return limit
        store = getattr(store, "_store", None)
        seen += 1
    return DEFAULT_MAX_INFLIGHT
