"""Reads with a byte budget: what a picture of a file may cost, priced before each read is made.

A read of a chunked array fetches and decodes every chunk the slice touches, so a read is priced at
the decoded size of those chunks, not of the slice. When a ``meter`` reports the bytes actually
fetched from storage, the budget also charges those: a store may fetch more than the chunks asked for
(zarr merges nearby byte ranges of a shard into one request, gaps included), and what a figure of a
cloud session costs is what crossed the network. Each read is refused unless its expected cost
(decoded size, times the worst fetched/decoded ratio seen on that array) fits what is left, so the
spending stays within the limit up to the over-fetch of the first read of an array.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nwbzarr.abc.array import LazyArray, normalize_key
from nwbzarr.errors import NWBZarrError

__all__ = ["OverBudgetError", "ReadBudget", "read_unit"]


class OverBudgetError(NWBZarrError, MemoryError):
    """A read would take the budget over its limit (callers catch it and read less)."""


def read_unit(array: Any) -> tuple[int, ...]:
    """The block one read fetches: the inner chunk of a sharded array, the chunk, or one element."""
    shape = tuple(int(n) for n in array.shape)
    zarr_array = getattr(array, "zarr_array", None)
    chunks = getattr(zarr_array, "chunks", None) if zarr_array is not None else None
    if not (isinstance(chunks, tuple) and len(chunks) == len(shape)):
        chunks = getattr(array, "chunks", None) if isinstance(array, LazyArray) else None
    if not (isinstance(chunks, tuple) and len(chunks) == len(shape)):
        return (1,) * len(shape)  # in memory, or contiguous: a read costs exactly its slice
    return tuple(max(1, int(c)) for c in chunks)


def _itemsize(array: Any) -> int:
    dtype = array.numpy_dtype if isinstance(array, LazyArray) else np.dtype(array.dtype)
    return int(dtype.itemsize)


@dataclass
class ReadBudget:
    """At most ``limit`` bytes, counting the larger of decoded chunk bytes and fetched bytes.

    ``meter`` returns the bytes fetched from storage so far (a counting store), when known.
    ``reads`` lists ``(what, decoded bytes, fetched bytes or None)`` for each read.
    """

    limit: int
    meter: Callable[[], int] | None = None
    decoded: int = 0
    reads: list[tuple[str, int, int | None]] = field(default_factory=list)
    _start: int = field(default=0, init=False, repr=False)
    _ratio: dict[int, float] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self._start = self.meter() if self.meter is not None else 0

    @property
    def fetched(self) -> int | None:
        """Bytes fetched from storage since the budget was made (``None`` without a meter)."""
        return self.meter() - self._start if self.meter is not None else None

    @property
    def spent(self) -> int:
        return max(self.decoded, self.fetched or 0)

    @property
    def left(self) -> int:
        return max(0, self.limit - self.spent)

    @contextmanager
    def capped(self, nbytes: int) -> Iterator[None]:
        """Within the block, spend at most ``nbytes`` more (a share of the budget for one part)."""
        saved = self.limit
        self.limit = min(saved, self.spent + max(0, nbytes))
        try:
            yield
        finally:
            self.limit = saved

    def cost(self, array: Any, key: Any) -> int:
        """Decoded bytes of the chunks that ``array[key]`` touches (integers and slices only)."""
        shape = tuple(int(n) for n in array.shape)
        index = normalize_key(key, shape)
        unit = read_unit(array)
        count = 1
        for k, c in zip(index, unit, strict=True):
            if isinstance(k, int):
                continue
            steps = range(int(k.start), int(k.stop), int(k.step))
            if not steps:
                return 0
            if c == 1:
                touched = len(steps)
            elif steps.step == 1:
                touched = (steps[-1] // c) - (steps[0] // c) + 1
            else:
                touched = len({i // c for i in steps})
            count *= touched
        return count * math.prod(unit) * _itemsize(array)

    def expected(self, array: Any, key: Any) -> int:
        """What ``array[key]`` should spend: its cost, scaled by the array's worst over-fetch so far."""
        return math.ceil(self.cost(array, key) * max(1.0, self._ratio.get(id(array), 1.0)))

    def fits(self, array: Any, key: Any) -> bool:
        return self.expected(array, key) <= self.left

    def read(self, what: str, array: Any, key: Any) -> np.ndarray:
        """``array[key]`` as numpy, if its expected cost fits what is left; else :class:`OverBudgetError`."""
        nbytes = self.cost(array, key)
        expected = self.expected(array, key)
        if expected > self.left:
            raise OverBudgetError(f"{what}: needs about {expected} bytes, {self.left} of {self.limit} left")
        before = self.meter() if self.meter is not None else None
        out = np.asarray(array[key])
        self.decoded += nbytes
        got = self.meter() - before if self.meter is not None and before is not None else None
        if got is not None and nbytes:
            self._ratio[id(array)] = max(self._ratio.get(id(array), 0.0), got / nbytes)
        self.reads.append((what, nbytes, got))
        return out
