"""The byte spans of a box in a C-order contiguous dataset, one span per ranged request, placed by one copy each.

A box that does not cover whole rows is many short runs (a 512-frame 32 x 32 time course: 16,384 runs of 64
bytes). Planning them one by one cost more client CPU than the 512 requests they make; here the runs that a
ranged request would merge anyway (gaps up to :data:`nwbzarr.storage.ranges.COALESCE_GAP`) are one span from
the start, and each span's values are a strided view of its bytes (one ``out[target] = view`` copy).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from nwbzarr.storage.ranges import COALESCE_GAP, MAX_RANGE_BYTES

__all__ = ["Span", "spans"]

Region = tuple[slice, ...]


@dataclass(frozen=True)
class Span:
    """Where one span's values go: ``out[target]`` is ``np.frombuffer(bytes)`` seen with ``shape`` / ``strides``."""

    target: Region
    shape: tuple[int, ...]
    strides: tuple[int, ...]

    def values(self, data: bytes | memoryview, dtype: np.dtype) -> np.ndarray:
        """The span's values: a read-only strided view of ``data`` (exactly the span's bytes, whole items)."""
        items = np.frombuffer(data, dtype=dtype)
        return np.lib.stride_tricks.as_strided(items, shape=self.shape, strides=self.strides, writeable=False)


def spans(
    box: Region,
    shape: tuple[int, ...],
    itemsize: int,
    base: int,
    *,
    gap: int = COALESCE_GAP,
    max_bytes: int = MAX_RANGE_BYTES,
) -> Iterator[tuple[int, int, Span]]:
    """``(offset, nbytes, span)`` covering ``box`` of a contiguous dataset whose first byte is at ``base``.

    The innermost axes are folded into one span while the holes between their runs are at most ``gap``
    bytes and one step of the next axis out fits in ``max_bytes``; the folded axis is then cut into steps of
    at most ``max_bytes`` (several requests go in flight at once).
    """
    ndim = len(shape)
    strides = [math.prod(shape[i + 1 :]) * itemsize for i in range(ndim)]
    counts = [s.stop - s.start for s in box]
    hull = [0] * (ndim + 1)  # hull[j]: bytes from the box's first to its last byte over axes j.. (one index before)
    hull[ndim] = itemsize
    for j in range(ndim - 1, -1, -1):
        hull[j] = (counts[j] - 1) * strides[j] + hull[j + 1]
    axis = ndim - 1
    while axis > 0 and strides[axis - 1] - hull[axis] <= gap and hull[axis] <= max_bytes:
        axis -= 1
    step = counts[axis] if hull[axis] <= max_bytes else max(1, (max_bytes - hull[axis + 1]) // strides[axis] + 1)
    inner_start = sum(s.start * strides[i] for i, s in enumerate(box) if i > axis)
    inner_target = tuple(slice(0, c) for c in counts[axis + 1 :])
    for corner in itertools.product(*(range(box[i].start, box[i].stop) for i in range(axis))):
        flat = sum(c * strides[i] for i, c in enumerate(corner)) + inner_start
        before = tuple(slice(c - box[i].start, c - box[i].start + 1) for i, c in enumerate(corner))
        for lo in range(box[axis].start, box[axis].stop, step):
            hi = min(lo + step, box[axis].stop)
            target = (*before, slice(lo - box[axis].start, hi - box[axis].start), *inner_target)
            span_shape = (1,) * axis + (hi - lo, *counts[axis + 1 :])
            span = Span(target, span_shape, (0,) * axis + tuple(strides[axis:]))
            yield base + flat + lo * strides[axis], (hi - lo - 1) * strides[axis] + hull[axis + 1], span
