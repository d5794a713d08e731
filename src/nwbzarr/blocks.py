"""Walk a large array in blocks so that writes and copies use bounded memory.

A writer asks :func:`block_shape` for a block aligned to the destination's chunks (or shards),
at most ``budget`` bytes, then reads each region of :func:`iter_regions` from any array-like
source (numpy, :class:`~nwbzarr.abc.LazyArray`, h5py, zarr, dask) with :func:`read_region`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from typing import Any

import numpy as np

__all__ = ["DEFAULT_BUDGET", "block_shape", "iter_regions", "overlap", "read_region"]

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
