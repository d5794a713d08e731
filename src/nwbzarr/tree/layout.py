"""How a dataset is laid out in storage: chunks, shards and compression, in format-neutral terms.

Backends translate a :class:`Layout` to their own vocabulary (Zarr codecs, HDF5 filters); conversion
carries it across formats, and users pass it through :class:`nwbzarr.DataIO`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["Access", "Compression", "Layout"]

Shuffle = Literal["none", "byte", "bit"]
#: which reads the default layout of an imaging series favours (see :mod:`nwbzarr.writing.policy`)
Access = Literal["balanced", "frames", "traces"]


@dataclass(frozen=True, kw_only=True, slots=True)
class Compression:
    """A lossless codec: ``zstd``, ``lz4``, ``gzip`` (``blosc`` wraps zstd/lz4 with a shuffle in Zarr)."""

    codec: Literal["zstd", "lz4", "gzip", "none"] = "zstd"
    level: int = 3
    shuffle: Shuffle = "none"
    #: in Zarr, run zstd/lz4 inside Blosc (multi-threaded, with its own shuffle)
    blosc: bool = False

    def __post_init__(self) -> None:
        if self.codec not in ("zstd", "lz4", "gzip", "none"):
            raise ValueError(f"Compression: unknown codec {self.codec!r} (zstd, lz4, gzip or none)")
        if self.shuffle not in ("none", "byte", "bit"):
            raise ValueError(f"Compression: shuffle must be 'none', 'byte' or 'bit', got {self.shuffle!r}")


@dataclass(frozen=True, kw_only=True, slots=True)
class Layout:
    """Chunk shape, optional shard shape (a multiple of the chunk shape), and compression.

    ``None`` means "let the writer's policy decide"; ``access`` picks the policy's preset for
    imaging series when chunks are not given.
    """

    chunks: tuple[int, ...] | None = None
    shards: tuple[int, ...] | None = None
    compression: Compression | None = None
    access: Access = "balanced"

    def __post_init__(self) -> None:
        if self.access not in ("balanced", "frames", "traces"):
            raise ValueError(f"Layout: access must be 'balanced', 'frames' or 'traces', got {self.access!r}")
        for what, shape in (("chunks", self.chunks), ("shards", self.shards)):
            if shape is not None and any((not isinstance(n, int)) or n < 1 for n in shape):
                raise ValueError(f"Layout: {what} must be positive integers, got {shape}")
        if self.shards is not None:
            if self.chunks is None or len(self.chunks) != len(self.shards):
                raise ValueError("Layout: shards need chunks of the same rank")
            if any(s % c for s, c in zip(self.shards, self.chunks, strict=True)):
                raise ValueError(f"Layout: shards {self.shards} must be multiples of chunks {self.chunks}")
