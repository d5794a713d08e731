"""How many requests one read keeps in flight: the ``max_inflight`` storage option.

On object storage at tens of milliseconds a request, a read's time is its number of sequential round
trips: a time course over 512 frames needs about 170 inner chunks from six shards, and with all of
them in flight it costs two round trips (the shard indexes, then the chunks) instead of eight at 24.
The bound exists so a huge selection does not open thousands of connections; it is one setting for
every read of a store (Zarr shards and remote HDF5 alike), chosen by the user with
``storage_options={"max_inflight": n}``.

The bound is an attribute of the store object, so it travels with the store when it is pickled (to
Dask distributed workers, to a process pool); a store that takes no attributes is remembered in a
table for as long as it lives (in this process only).
"""

from __future__ import annotations

import weakref
from typing import Any

from nwbzarr.errors import NWBZarrError
from nwbzarr.storage.wrappers import store_layers

__all__ = ["ATTRIBUTE", "DEFAULT_MAX_INFLIGHT", "max_inflight", "parse_max_inflight", "set_max_inflight"]

#: requests of one read in flight at once unless the store says otherwise. Above the ~170 ranges of a
#: 512-frame time course of the default layout, so that read is two round trips; real S3 serves thousands
#: of requests a second per prefix, and an HTTP/1.1 client holds one connection per request in flight
DEFAULT_MAX_INFLIGHT = 256

#: where a store carries its bound (in its ``__dict__``, which zarr's stores pickle)
ATTRIBUTE = "_nwbzarr_max_inflight"
_limits: dict[int, int] = {}


def parse_max_inflight(value: Any) -> int:
    """``value`` checked: a positive integer (what the user typed is named in the error)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise NWBZarrError(f"storage option max_inflight={value!r}: expected a positive integer of requests")
    return value


def set_max_inflight(store: object, value: int) -> None:
    """Remember ``value`` for reads of ``store``: on the store itself (pickled with it), else in a side table."""
    try:
        object.__setattr__(store, ATTRIBUTE, value)
        return
    except (AttributeError, TypeError):  # __slots__ or a frozen object: this process only
        pass
    key = id(store)
    if key not in _limits:
        weakref.finalize(store, _limits.pop, key, None)
    _limits[key] = value


def max_inflight(store: object) -> int:
    """The in-flight bound of ``store`` (or of the store it wraps), else :data:`DEFAULT_MAX_INFLIGHT`."""
    for layer in store_layers(store):
        limit = getattr(layer, ATTRIBUTE, None)
        if limit is None:
            limit = _limits.get(id(layer))
        if isinstance(limit, int):
            return limit
    return DEFAULT_MAX_INFLIGHT
