"""Read sharded arrays directly: every request of a read in flight at once, chunks decoded on every core.

The mirror of :mod:`.shards`. zarr-python reads a shard through its general pipeline: at most ten
requests in flight, the shards of one read partly one after another, and chunks decoded one by one.
On object storage at tens of milliseconds a request, a read's time is its number of sequential round
trips, so nwbzarr plans the whole read first and sends each round at once:

1. the shards the read covers whole are fetched in one request each (from object storage, a shard
   the write manifest gives the size of in parts of at most 8 MiB: :mod:`nwbzarr.storage.parts`), and the
   index (with its CRC-32C) of every other shard it touches, all together;
2. the inner chunks it needs from those other shards, adjacent byte ranges merged across gaps up to
   :data:`COALESCE_GAP`, all together.

"All together" is bounded by the store's ``max_inflight`` storage option (:mod:`nwbzarr.storage.inflight`,
256 by default), one setting for every read, so a time course's ~170 chunk ranges leave in one round.

Indexes once read are kept (step 1 is then skipped for those shards). Chunks are decoded as their bytes
arrive, in the process's one decoding pool (:mod:`nwbzarr.core.decode_pool`: as many threads as cores
however many reads run at once; Blosc, Zstd and the checksum release the GIL); an arrival of at most
:data:`INLINE_BYTES` (a time course's chunk of a few KiB) is decoded where it arrives, which costs less than
its trip to the pool and back. A frame is two rounds (one in
a shard read before), a time course across many shards two rounds too, and a whole shard one. Strided
selections and layouts :class:`.ShardLayout` does not describe stay with zarr.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import threading
from collections import OrderedDict
from collections.abc import Iterator
from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np
from zarr.abc.store import ByteRequest, RangeByteRequest, SuffixByteRequest
from zarr.core.buffer import default_buffer_prototype
from zarr.core.sync import sync

from nwbzarr.abc.array import Index, as_box, drop_integer_axes
from nwbzarr.backends.zarr_v3.manifest import CheckedStore
from nwbzarr.backends.zarr_v3.shard_format import EMPTY, Region, ShardLayout, checked
from nwbzarr.core.decode_pool import decode_pool, decode_workers
from nwbzarr.errors import InvalidStoreError
from nwbzarr.storage.inflight import DEFAULT_MAX_INFLIGHT, max_inflight
from nwbzarr.storage.parts import PART_BYTES, fetch_in_parts, splits_large_reads
from nwbzarr.storage.ranges import merge
from nwbzarr.writing.blocks import overlap

__all__ = ["CACHED_INDEXES", "COALESCE_GAP", "INLINE_BYTES", "MAX_IN_FLIGHT", "MAX_RANGE_BYTES", "ShardReader"]

#: inner chunks of one shard closer than this are fetched in one ranged request. Merging bigger holes
#: would read other tiles: a tile's chunks across time are a whole slab apart (hundreds of KiB)
COALESCE_GAP = 64 * 1024
#: a merged range grows no larger than this (so one slow request does not hold up a read)
MAX_RANGE_BYTES = 16 * 1024 * 1024
#: requests of one read in flight at once, unless the store sets ``max_inflight`` (:mod:`nwbzarr.storage.inflight`):
#: high enough that a time course's ~170 inner chunks go out in one round (it was 24, eight rounds)
MAX_IN_FLIGHT = DEFAULT_MAX_INFLIGHT
#: stored bytes of one arrival decoded on the event loop's thread rather than in the decoding pool: a pool
#: job's submission and wake-ups cost more CPU than decoding a few KiB (issue 15, fifth round)
INLINE_BYTES = 64 * 1024
#: shard indexes a reader keeps (16 bytes an inner chunk: about 43 KiB a default shard of 512 x 512 frames)
CACHED_INDEXES = 1024


@dataclass(frozen=True)
class _Piece:
    """One inner chunk a read needs: where it sits in the shard and where its values go."""

    chunk: tuple[int, ...]
    source: Region  # within the decoded chunk
    target: Region  # within the read's output


class ShardReader:
    """Reads regions of one sharded array; ``read`` returns ``None`` for a selection it leaves to zarr."""

    def __init__(self, layout: ShardLayout, where: str, *, in_flight: int | None = None) -> None:
        self.layout = layout
        self.where = where
        # the store's ``max_inflight`` storage option unless given here
        self.in_flight = in_flight if in_flight is not None else max_inflight(layout.array.store_path.store)
        # whole shards in parts, all in flight (object stores only)
        self.split = splits_large_reads(layout.array.store_path.store)
        # shard indexes already read, most recent last; only for chunks with a CRC-32C (see _cached)
        self._indexes: OrderedDict[tuple[int, ...], np.ndarray] = OrderedDict()
        self._indexes_lock = threading.Lock()

    def __getstate__(self) -> dict[str, object]:
        """Pickled without its lock and its cached indexes (a Dask distributed worker reads them again)."""
        state = dict(self.__dict__)
        state.pop("_indexes_lock")
        state["_indexes"] = OrderedDict()
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._indexes_lock = threading.Lock()

    def read(self, key: Index) -> np.ndarray | None:
        """``array[key]`` for integers and unit-step slices (as :func:`.normalize_key` gives them)."""
        region = as_box(key)
        if region is None:
            return None
        out = np.empty(tuple(s.stop - s.start for s in region), dtype=self.layout.array.dtype)
        if out.size:
            sync(self._read(region, out, decode_pool(), decode_workers()))
        return drop_integer_axes(out, key)

    async def _read(self, region: Region, out: np.ndarray, pool: Executor, workers: int) -> None:
        layout = self.layout
        limit = asyncio.Semaphore(self.in_flight)
        whole = asyncio.Semaphore(workers + 1)  # whole shards held undecoded: memory stays a few shards
        loop = asyncio.get_running_loop()
        store = layout.array.store_path.store

        async def get(key: str, request: ByteRequest | None = None) -> memoryview | None:
            async with limit:
                buffer = await store.get(key, prototype=default_buffer_prototype(), byte_range=request)
            return None if buffer is None else memoryview(buffer.as_numpy_array())  # a view: a shard is not copied

        async def get_whole(key: str) -> tuple[memoryview | None, bool]:
            """A whole shard, and whether the write manifest proved its bytes (:meth:`.CheckedStore.get_proven`)."""
            if not isinstance(store, CheckedStore):
                return await get(key), False
            entry = store.objects.get(key)
            if entry is not None and entry[0] > PART_BYTES and self.split:

                async def ranged(start: int, stop: int) -> memoryview | None:
                    return await get(key, RangeByteRequest(start, stop))

                data = await fetch_in_parts(ranged, entry[0], PART_BYTES)
                if data is not None and store.proves(key, data):
                    return memoryview(data), True
                # changed since the manifest was read (rewritten by an append, damaged): one whole GET
                # decides, with every check
            async with limit:
                buffer, proven = await store.get_proven(key, prototype=default_buffer_prototype())
            return (None if buffer is None else memoryview(buffer.as_numpy_array())), proven

        async def decode_into(key: str, pieces: list[tuple[_Piece, memoryview | None]], proven: bool = False) -> None:
            if sum(len(data) for _, data in pieces if data is not None) <= INLINE_BYTES:
                self._place(key, pieces, out, proven)  # decoded here: cheaper than a trip to the pool and back
                return
            batch = max(1, math.ceil(len(pieces) / (2 * workers)))  # every core busy, few jobs
            jobs = [pieces[i : i + batch] for i in range(0, len(pieces), batch)]
            await asyncio.gather(*(loop.run_in_executor(pool, self._place, key, job, out, proven) for job in jobs))

        async def whole_shard(
            key: str, raw: memoryview, index: np.ndarray, data_end: int, part: Region, proven: bool
        ) -> None:
            """A whole shard: its first axis cut into one job a core, each decoding its chunks into one
            buffer and copying it into ``out`` at once (no per-chunk placement)."""
            rows = layout.grid[0]
            step = max(1, math.ceil(rows / (2 * workers)))
            target = tuple(slice(p.start - r.start, p.stop - r.start) for p, r in zip(part, region, strict=True))
            jobs = [(first, min(rows, first + step)) for first in range(0, rows, step)]
            await asyncio.gather(
                *(
                    loop.run_in_executor(pool, self._place_rows, key, raw, index, data_end, rows_, out, target, proven)
                    for rows_ in jobs
                )
            )

        async def shard(coords: tuple[int, ...], part: Region) -> None:
            key = layout.key(coords)
            if part == layout.extent(coords):  # the whole shard: one request, its index from its tail
                async with whole:
                    raw, proven = await get_whole(key)
                    if raw is None:  # a shard never written reads as the fill value, as in zarr
                        await decode_into(key, [(p, None) for p in self._pieces(coords, part, region)])
                        return
                    data_end = len(raw) - layout.index_size
                    index = self._index(raw[data_end:] if data_end >= 0 else b"", coords, key)
                    if part == self._full(coords):  # not cut by the array's edge: decoded slab by slab
                        await whole_shard(key, raw, index, data_end, part, proven)
                    else:
                        pieces = list(self._pieces(coords, part, region))
                        stored = [(p, self._stored(raw, index[p.chunk], data_end, key)) for p in pieces]
                        await decode_into(key, stored, proven)
                return
            pieces = list(self._pieces(coords, part, region))
            cached = self._cached(coords)
            if cached is not None:
                try:
                    await chunks(key, pieces, cached)
                    return
                except (InvalidStoreError, OSError, ValueError):  # the shard changed since: read its index again
                    self._forget(coords)
            tail = await get(key, SuffixByteRequest(layout.index_size))
            if tail is None:
                await decode_into(key, [(p, None) for p in pieces])
                return
            await chunks(key, pieces, self._index(tail, coords, key))

        async def chunks(key: str, pieces: list[_Piece], index: np.ndarray) -> None:
            """The pieces' chunks of one shard, by ``index``: ranged reads sent together, merged across small gaps."""
            stored = [p for p in pieces if not _empty(index[p.chunk])]
            missing: list[tuple[_Piece, memoryview | None]] = [(p, None) for p in pieces if _empty(index[p.chunk])]
            ranges = _merge([(int(index[p.chunk][0]), int(index[p.chunk][1]), p) for p in stored])

            async def fetch(start: int, stop: int, members: list[tuple[int, int, _Piece]]) -> None:
                data = await get(key, RangeByteRequest(start, stop))
                if data is None or len(data) != stop - start:
                    raise InvalidStoreError(f"{self.where}: shard {key} indexes bytes it does not hold")
                view = memoryview(data)
                await decode_into(key, [(p, view[o - start : o - start + n]) for o, n, p in members])

            # all finish before an error is raised, so none writes into ``out`` after a retry with a fresh index
            jobs = [fetch(*r) for r in ranges] + ([decode_into(key, missing)] if missing else [])
            errors = [e for e in await asyncio.gather(*jobs, return_exceptions=True) if isinstance(e, BaseException)]
            if errors:
                raise errors[0]

        await asyncio.gather(*(shard(coords, part) for coords, part in self.layout.shards_touching(region)))

    def _index(self, tail: memoryview | bytes, coords: tuple[int, ...], key: str) -> np.ndarray:
        """The index of shard ``coords`` from its stored bytes (CRC-32C checked), remembered for later reads."""
        if len(tail) != self.layout.index_size:
            raise InvalidStoreError(f"{self.where}: shard {key} is shorter than its index")
        body = checked(tail, f"{self.where} (index of shard {key})")
        # a copy (16 bytes a chunk): a view of a whole shard's tail would keep the whole shard alive as long
        # as the index is remembered, every shard a Dask mean has read (584 MB of a 1.6 GB movie)
        index = np.frombuffer(body, dtype="<u8").reshape(*self.layout.grid, 2).copy()
        if self.layout.crc:
            with self._indexes_lock:
                self._indexes[coords] = index
                self._indexes.move_to_end(coords)
                while len(self._indexes) > CACHED_INDEXES:
                    self._indexes.popitem(last=False)
        return index

    def _cached(self, coords: tuple[int, ...]) -> np.ndarray | None:
        """The index of shard ``coords`` as read before, if any.

        Only arrays whose chunks carry a CRC-32C keep indexes: if another process rewrote the shard since
        (an append), a stale entry points at bytes whose checksum fails, and the index is read again. A
        shard's index is then fetched once, so a frame read after the first in its shard is one request.
        """
        with self._indexes_lock:
            index = self._indexes.get(coords)
            if index is not None:
                self._indexes.move_to_end(coords)
            return index

    def _forget(self, coords: tuple[int, ...]) -> None:
        with self._indexes_lock:
            self._indexes.pop(coords, None)

    def _stored(self, raw: memoryview, entry: np.ndarray, data_end: int, key: str) -> memoryview | None:
        """A chunk's bytes in a whole shard (``None`` if not stored), checked against the shard's length."""
        return self._span(raw, int(entry[0]), int(entry[1]), data_end, key)

    def _span(self, raw: memoryview, offset: int, nbytes: int, data_end: int, key: str) -> memoryview | None:
        """``raw[offset:offset + nbytes]`` as a view (``None`` for the entry of a chunk not stored)."""
        if offset == EMPTY and nbytes == EMPTY:
            return None
        if offset + nbytes > data_end:
            raise InvalidStoreError(f"{self.where}: shard {key} indexes bytes it does not hold")
        return raw[offset : offset + nbytes]

    def _pieces(self, coords: tuple[int, ...], part: Region, region: Region) -> Iterator[_Piece]:
        """The inner chunks of shard ``coords`` that ``part`` (of ``region``) touches."""
        inner = self.layout.inner
        origin = [c * n for c, n in zip(coords, self.layout.shard, strict=True)]
        spans = [
            range((p.start - o) // n, math.ceil((p.stop - o) / n)) for p, o, n in zip(part, origin, inner, strict=True)
        ]
        for chunk in itertools.product(*spans):
            corner = tuple(o + c * n for o, c, n in zip(origin, chunk, inner, strict=True))
            yield _Piece(chunk, *overlap(corner, inner, region))  # inside the shard: meets region where part does

    def _full(self, coords: tuple[int, ...]) -> Region:
        """The region of shard ``coords`` if the array's edge did not cut it."""
        return tuple(slice(c * n, (c + 1) * n) for c, n in zip(coords, self.layout.shard, strict=True))

    def _place_rows(
        self,
        key: str,
        raw: memoryview,
        index: np.ndarray,
        data_end: int,
        rows: tuple[int, int],
        out: np.ndarray,
        target: Region,
        proven: bool,
    ) -> None:
        """Decode the chunks of grid rows ``rows`` of a whole shard into one buffer, then copy it into
        ``out[target]`` in one step (a thread-pool job): the chunks' order in the buffer is the grid's.
        ``proven``: the manifest proved the shard's bytes, so the chunks' own checksums are not computed."""
        layout = self.layout
        first, stop = rows
        grid, inner = layout.grid, layout.inner
        block = np.empty(((stop - first) * math.prod(grid[1:]), *inner), dtype=layout.dtype)
        where = f"{self.where} (shard {key})"
        entries = index[first:stop].reshape(-1, 2)
        # each chunk decoded straight into its place in ``block``, from a view of the shard: no copies;
        # chunk by chunk (and its error said) only where the checks of all at once refuse
        if not layout.decode_many(raw, entries, data_end, block, where, proven=proven):
            for i, (offset, nbytes) in enumerate(entries.tolist()):
                data = self._span(raw, offset, nbytes, data_end, key)
                if data is None:
                    block[i] = layout.fill
                else:
                    layout.decode_into(data, block[i], where, proven=proven)
        ndim = len(inner)
        counts = (stop - first, *grid[1:])
        shaped = block.reshape(*counts, *inner)
        order = [axis for k in range(ndim) for axis in (k, ndim + k)]
        slab = out[(slice(target[0].start + first * inner[0], target[0].start + stop * inner[0]), *target[1:])]
        # the output's slab seen as (count, inner) pairs per axis: one strided copy, no contiguous temporary
        split = slab.reshape([n for pair in zip(counts, inner, strict=True) for n in pair])
        if np.may_share_memory(split, slab):
            split[...] = shaped.transpose(order)
        else:  # the slab cannot be viewed so (not contiguous within its rows): through a temporary
            slab[...] = shaped.transpose(order).reshape(slab.shape)

    def _place(
        self, key: str, pieces: list[tuple[_Piece, memoryview | None]], out: np.ndarray, proven: bool = False
    ) -> None:
        """Decode chunks (a thread-pool job, or inline for a few) and copy the values each piece wants into ``out``."""
        layout = self.layout
        for piece, data in pieces:
            if data is None:
                out[piece.target] = layout.fill
            else:
                out[piece.target] = layout.decode(data, f"{self.where} (shard {key})", proven=proven)[piece.source]


def _empty(entry: np.ndarray) -> bool:
    return int(entry[0]) == EMPTY and int(entry[1]) == EMPTY


def _merge(chunks: list[tuple[int, int, _Piece]]) -> list[tuple[int, int, list[tuple[int, int, _Piece]]]]:
    """Byte ranges ``(start, stop, members)`` covering ``chunks``, neighbours merged across small gaps."""
    return merge(chunks, gap=COALESCE_GAP, max_bytes=MAX_RANGE_BYTES)  # shared with the remote HDF5 reader
