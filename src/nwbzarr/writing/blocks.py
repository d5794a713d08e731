"""Walk a large array in blocks so that writes and copies use bounded memory.

A writer asks :func:`block_shape` for a block aligned to the destination's chunks (or shards),
at most ``budget`` bytes, then reads each region of :func:`iter_regions` from any array-like
source (numpy, :class:`~nwbzarr.abc.LazyArray`, h5py, zarr, dask) with :func:`read_region`.

A copy walks :func:`stored_regions` instead: when the source knows which of its chunks are stored (an
HDF5 dataset allocates chunks lazily, Zarr writes no chunk that is all fill value), only the blocks
that hold such chunks are read and written, so a sparse 10^6 x 10^6 array costs its stored bytes,
not its declared shape; the rest stays the destination's fill value (0, as the source's must be).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from typing import Any

import numpy as np

__all__ = [
    "DEFAULT_BUDGET",
    "block_shape",
    "iter_regions",
    "overlap",
    "read_region",
    "sparse_chunks",
    "stored_regions",
]

#: bytes of uncompressed data a writer holds at once per array (per worker)
DEFAULT_BUDGET = 64 * 1024 * 1024

Region = tuple[slice, ...]


def block_shape(
    shape: tuple[int, ...], unit: tuple[int, ...], itemsize: int, budget: int = DEFAULT_BUDGET
) -> tuple[int, ...]:
    """The largest block of whole ``unit``s (chunks or shards) that fits ``budget``.

    Grows along the first axis first (time, for series), then the others; never smaller than one unit.
    """
    if not shape:
        return ()
    unit = tuple(max(1, min(u, n)) for u, n in zip(unit, shape, strict=True))
    block = list(unit)
    per_unit = math.prod(unit) * itemsize
    if per_unit >= budget:
        return tuple(block)
    for axis in range(len(shape)):
        others = math.prod(block) // block[axis] * itemsize
        fit = max(1, budget // max(1, others * unit[axis]))
        block[axis] = min(shape[axis], unit[axis] * fit)
        if block[axis] < shape[axis]:
            break
    return tuple(block)


def iter_regions(shape: tuple[int, ...], block: tuple[int, ...]) -> Iterator[Region]:
    """Every block-sized region covering ``shape``, in C order (time-major)."""
    if not shape:
        yield ()
        return
    if any(n == 0 for n in shape):
        return
    starts = [range(0, n, b) for n, b in zip(shape, block, strict=True)]
    for corner in itertools.product(*starts):
        yield tuple(slice(c, min(c + b, n)) for c, b, n in zip(corner, block, shape, strict=True))


def stored_regions(
    source: Any, shape: tuple[int, ...], block: tuple[int, ...], unit: tuple[int, ...] | None = None
) -> Iterator[Region]:
    """The parts of :func:`iter_regions` that hold a stored chunk of ``source``, in C order.

    ``source.stored_chunks()`` (if it has one) gives the origins of its stored chunks of shape
    ``source.chunks``, or None when every region must be read (unknown, contiguous, or a fill value
    other than 0); without it every region is yielded. A block whose destination ``unit`` s (chunks or
    shards; ``block`` is made of whole units) are all touched is yielded whole, else unit by unit.
    """
    listing = getattr(source, "stored_chunks", None)
    origins = listing() if callable(listing) else None
    chunks = getattr(source, "chunks", None)
    if origins is None or not chunks or not shape or len(chunks) != len(shape) or 0 in shape:
        yield from iter_regions(shape, block)
        return
    unit = tuple(max(1, min(u, n)) for u, n in zip(unit or block, shape, strict=True))
    touched: set[tuple[int, ...]] = set()
    for origin in origins:
        ranges = [
            range(o // u, (min(o + c, n) - 1) // u + 1) if o < n else range(0)
            for o, c, u, n in zip(origin, chunks, unit, shape, strict=True)
        ]
        touched.update(itertools.product(*ranges))
    by_block: dict[tuple[int, ...], list[tuple[int, ...]]] = {}
    for index in touched:
        by_block.setdefault(tuple(i * u // b for i, u, b in zip(index, unit, block, strict=True)), []).append(index)
    for corner in sorted(by_block):
        region = tuple(slice(i * b, min((i + 1) * b, n)) for i, b, n in zip(corner, block, shape, strict=True))
        units = by_block[corner]
        if len(units) == math.prod(-(-(r.stop - r.start) // u) for r, u in zip(region, unit, strict=True)):
            yield region
            continue
        for index in sorted(units):
            yield tuple(slice(i * u, min((i + 1) * u, n)) for i, u, n in zip(index, unit, shape, strict=True))


def sparse_chunks(source: Any) -> tuple[int, ...] | None:
    """The chunk shape of a source that stores fewer chunks than its shape declares; None otherwise.

    A conversion keeps that chunk shape (instead of its policy's) so each stored chunk becomes one
    destination chunk: re-chunking a sparse 10^6 x 10^6 array would write its empty rows as well.
    """
    listing = getattr(source, "stored_chunks", None)
    chunks = getattr(source, "chunks", None)
    origins = listing() if callable(listing) else None
    if origins is None or not chunks:
        return None
    declared = math.prod(-(-n // c) for n, c in zip(source.shape, chunks, strict=True))
    return tuple(chunks) if len(origins) < declared else None


def read_region(source: Any, region: Region) -> np.ndarray:
    """``source[region]`` as numpy, whatever kind of array-like ``source`` is."""
    out = source[region] if region else source[()]
    compute = getattr(out, "compute", None)  # dask
    if compute is not None:
        out = compute()
    return np.asarray(out)


def overlap(origin: tuple[int, ...], size: tuple[int, ...], region: Region) -> tuple[Region, Region]:
    """Where the box at ``origin`` of ``size`` meets ``region``: (within the box, within the region)."""
    inside, within = [], []
    for o, n, r in zip(origin, size, region, strict=True):
        lo, hi = max(r.start, o), min(r.stop, o + n)
        inside.append(slice(lo - o, hi - o))
        within.append(slice(lo - r.start, hi - r.start))
    return tuple(inside), tuple(within)
