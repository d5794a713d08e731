"""The stored bytes of many chunks of a remote HDF5 dataset, as they are (still compressed), for raw copies.

A raw copy (:mod:`nwbzarr.backends.zarr_v3.raw_hdf5`) re-wraps each deflate chunk instead of decoding it;
locally it reads them with ``read_direct_chunk``, one after another. Here the chunk index already says
where each chunk lies, so the chunks are fetched by byte range: sorted by offset, cut into batches of at
most ``batch_bytes``, each batch's neighbours merged (:func:`nwbzarr.storage.ranges.merge`) and all its
ranges in flight at once; the next batch is fetched while the caller re-wraps the current one, so at most
three batches are held (memory bounded whatever the dataset's size).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor

from zarr.core.sync import sync

from nwbzarr.backends.hdf5.chunk_index import NOT_STORED, ChunkIndex
from nwbzarr.backends.hdf5.remote_source import RemoteSource
from nwbzarr.storage.ranges import MAX_IN_FLIGHT, MAX_RANGE_BYTES, fetch_ranges, merge

__all__ = ["BATCH_BYTES", "StoredChunk", "stored_chunk_batches"]

#: stored bytes fetched per batch (three are held at most: one re-wrapped, one waiting, one in flight)
BATCH_BYTES = 32 * 1024 * 1024

#: ``(chunk origin, filter mask, stored bytes)``
type StoredChunk = tuple[tuple[int, ...], int, bytes]
type _Piece = tuple[int, int, tuple[tuple[int, ...], int]]


def stored_chunk_batches(
    source: RemoteSource,
    index: ChunkIndex,
    origins: Iterable[tuple[int, ...]],
    *,
    batch_bytes: int = BATCH_BYTES,
    held: Callable[[int, int], bytes | None] | None = None,
) -> Iterator[list[StoredChunk]]:
    """The stored chunks at ``origins`` (element offsets; chunks never written are left out), batch by batch.

    ``held(offset, nbytes)`` gives bytes already at hand without a request (the metadata blocks, where a small
    dataset's chunks usually lie), else None; those chunks come first, in one batch, fetched from nowhere."""
    chunks = index.chunks
    if chunks is None:
        raise ValueError("stored_chunk_batches: a contiguous dataset has no chunks")
    pieces: list[_Piece] = []
    at_hand: list[StoredChunk] = []
    for origin in origins:
        at = tuple(o // c for o, c in zip(origin, chunks, strict=True))
        offset, nbytes, mask = int(index.offsets[at]), int(index.sizes[at]), int(index.masks[at])
        if offset == NOT_STORED:
            continue
        found = held(offset, nbytes) if held is not None else None
        if found is not None and len(found) == nbytes:
            at_hand.append((tuple(origin), mask, found))
        else:
            pieces.append((offset, nbytes, (tuple(origin), mask)))
    if at_hand:
        yield at_hand
    pieces.sort(key=lambda piece: piece[0])
    batches: list[list[_Piece]] = []
    filled = batch_bytes
    for piece in pieces:
        if filled + piece[1] > batch_bytes and (not batches or batches[-1]):
            batches.append([])
            filled = 0
        batches[-1].append(piece)
        filled += piece[1]
    in_flight = int((source.storage_options or {}).get("max_inflight", MAX_IN_FLIGHT))
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="nwbzarr-h5-prefetch") as ahead:
        coming: Future[list[StoredChunk]] | None = None
        for number in range(len(batches)):
            if coming is None:
                coming = ahead.submit(_fetch, source, batches[number], in_flight, batch_bytes)
            got = coming.result()
            following = number + 1
            coming = (
                ahead.submit(_fetch, source, batches[following], in_flight, batch_bytes)
                if following < len(batches)
                else None
            )
            yield got


def _fetch(source: RemoteSource, batch: list[_Piece], in_flight: int, batch_bytes: int) -> list[StoredChunk]:
    """One batch: its ranges merged and fetched together; each chunk's bytes cut out of its range."""
    got: list[StoredChunk] = []

    def handle(start: int, data: bytes, members: list[_Piece]) -> None:
        for offset, nbytes, (origin, mask) in members:
            got.append((origin, mask, data[offset - start : offset - start + nbytes]))

    # ranges of at most a quarter batch: a batch is several requests in flight, not one long one
    ranges = merge(batch, max_bytes=max(1, min(MAX_RANGE_BYTES, batch_bytes // 4)))
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="nwbzarr-h5-chunks") as pool:
        sync(fetch_ranges(ranges, source.get, handle, pool=pool, in_flight=in_flight))
    return got
