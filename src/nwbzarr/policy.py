"""The default storage layout: how nwbzarr chunks, shards and compresses when the user does not say.

Imaging movies are read two ways: one frame (or a few) for viewing and registration, and a small
patch across all of time for ROI traces. A chunk that is long in time makes frame reads fetch many
frames; a chunk that is a whole frame makes a trace read fetch whole frames. We take small inner
chunks, a few frames deep and a tile wide, so both reads fetch little more than they need, and
group them into shards (Zarr v3 ``sharding_indexed``) a whole frame wide and many frames deep, so
a store holds hundreds of objects, not millions. Everything else is small or 1-2-D and gets plain
chunks of a few MiB along the first axis.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np

from nwbzarr.tree.layout import Compression, Layout

__all__ = ["IMAGING_CHUNK", "SHARD_BYTES", "default_compression", "default_layout"]

#: inner chunk of an imaging series (frames, rows, columns)
IMAGING_CHUNK = (8, 64, 64)
#: target uncompressed bytes of one shard (one object in the store)
SHARD_BYTES = 64 * 1024 * 1024
#: arrays up to this size are one chunk
SINGLE_CHUNK_BYTES = 8 * 1024 * 1024
#: chunk size for other large arrays
CHUNK_BYTES = 4 * 1024 * 1024
#: below this, an imaging-shaped array is not worth sharding
SHARD_MIN_BYTES = 16 * 1024 * 1024


def default_compression(dtype: np.dtype) -> Compression:
    """Blosc-zstd with bit-shuffle for integers (photon counts compress 2-3x), byte-shuffle otherwise."""
    shuffle: Literal["bit", "byte"] = "bit" if dtype.kind in "iub" else "byte"
    return Compression(codec="zstd", level=3, shuffle=shuffle, blosc=True)


def default_layout(shape: tuple[int, ...], dtype: np.dtype) -> Layout:
    """The layout for a numeric array of this shape when the user gave none."""
    nbytes = math.prod(shape) * dtype.itemsize
    compression = default_compression(dtype)
    if not shape or nbytes <= SINGLE_CHUNK_BYTES or 0 in shape:
        return Layout(chunks=tuple(max(1, n) for n in shape), compression=compression)
    if len(shape) >= 3 and nbytes >= SHARD_MIN_BYTES:
        inner = tuple(min(c, n) for c, n in zip(IMAGING_CHUNK + (1,) * (len(shape) - 3), shape, strict=False))
        inner = inner[:3] + tuple(shape[3:])  # depth (z) stays whole inside a chunk
        frame_bytes = math.prod(shape[1:]) * dtype.itemsize
        depth = max(inner[0], (SHARD_BYTES // max(1, frame_bytes)) // inner[0] * inner[0])
        spatial = tuple(math.ceil(n / c) * c for n, c in zip(shape[1:], inner[1:], strict=True))
        return Layout(
            chunks=inner,
            shards=(min(depth, math.ceil(shape[0] / inner[0]) * inner[0]), *spatial),
            compression=compression,
        )
    row_bytes = max(1, math.prod(shape[1:]) * dtype.itemsize)
    rows = max(1, CHUNK_BYTES // row_bytes)
    return Layout(chunks=(min(rows, shape[0]), *shape[1:]), compression=compression)
