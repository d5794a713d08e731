"""Fetch many byte ranges of one object: neighbours merged across small gaps, a bounded number in flight,
each range decoded in a thread pool as soon as it arrives.

On object storage at tens of milliseconds a request, a read's time is its number of sequential round
trips, so a reader plans every range first and sends them together. The shard reader merges a shard's
inner chunks with :func:`merge`; the remote HDF5 reader merges a file's chunks (or rows of a contiguous
dataset) the same way and fetches them with :func:`fetch_ranges`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import Executor

from nwbzarr.storage.inflight import DEFAULT_MAX_INFLIGHT

__all__ = ["COALESCE_GAP", "MAX_IN_FLIGHT", "MAX_RANGE_BYTES", "fetch_ranges", "merge"]

#: pieces closer than this are fetched in one ranged request. Merging bigger holes would read other
#: tiles: a tile's chunks across time are a whole slab apart (hundreds of KiB)
COALESCE_GAP = 64 * 1024
#: a merged range grows no larger than this (so one slow request does not hold up a read)
MAX_RANGE_BYTES = 16 * 1024 * 1024
#: requests of one read in flight at once unless the store sets ``max_inflight`` (:mod:`nwbzarr.storage.inflight`)
MAX_IN_FLIGHT = DEFAULT_MAX_INFLIGHT

type Merged[T] = tuple[int, int, list[tuple[int, int, T]]]


def merge[T](
    pieces: Iterable[tuple[int, int, T]], *, gap: int = COALESCE_GAP, max_bytes: int = MAX_RANGE_BYTES
) -> list[Merged[T]]:
    """Byte ranges ``(start, stop, members)`` covering ``pieces`` (``(offset, nbytes, payload)``), merged
    across gaps up to ``gap`` while a range stays within ``max_bytes``."""
    ranges: list[Merged[T]] = []
    for offset, nbytes, payload in sorted(pieces, key=lambda p: p[0]):
        if ranges:
            start, stop, members = ranges[-1]
            end = max(stop, offset + nbytes)
            if offset - stop <= gap and end - start <= max_bytes:
                members.append((offset, nbytes, payload))
                ranges[-1] = (start, end, members)
                continue
        ranges.append((offset, offset + nbytes, [(offset, nbytes, payload)]))
    return ranges


async def fetch_ranges[M](
    ranges: Iterable[tuple[int, int, M]],
    get: Callable[[int, int], Awaitable[bytes]],
    handle: Callable[[int, bytes, M], None],
    *,
    pool: Executor,
    in_flight: int = MAX_IN_FLIGHT,
    inline_bytes: int = 0,
) -> None:
    """``get`` every range (at most ``in_flight`` at once) and run ``handle(start, data, members)`` in ``pool``
    as each arrives. Every range finishes before the first error is raised, so none writes afterwards.

    Ranges of at most ``inline_bytes`` are handled on the event loop's thread instead: for a ``handle`` that
    only copies, a small copy is cheaper than the hop to a pool thread and back (a time course of an
    uncompressed file: 512 ranges of 32 KiB)."""
    limit = asyncio.Semaphore(in_flight)
    loop = asyncio.get_running_loop()

    async def one(start: int, stop: int, members: M) -> None:
        async with limit:
            data = await get(start, stop)
        if stop - start <= inline_bytes:
            handle(start, data, members)
        else:
            await loop.run_in_executor(pool, handle, start, data, members)

    results = await asyncio.gather(*(one(*r) for r in ranges), return_exceptions=True)
    errors = [r for r in results if isinstance(r, BaseException)]
    if errors:
        raise errors[0]
