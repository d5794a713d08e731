"""Where every chunk of an HDF5 dataset is stored: offsets, sizes and filter masks.

Built from the chunk B-tree as :mod:`.remote_btree` reads it (each level's nodes in one round trip), or
from h5py's ``chunk_iter`` for the chunk indexes it does not parse (a request per node, one after
another); afterwards a read knows the byte range of every chunk it needs without asking HDF5, and can
fetch them all at once. A contiguous dataset is one "chunk" of its whole shape at its data offset.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from nwbzarr.errors import InvalidStoreError

__all__ = ["NOT_STORED", "ChunkIndex"]

#: the offset of a chunk never written (it reads as the fill value)
NOT_STORED = -1


@dataclass(frozen=True)
class ChunkIndex:
    """``offsets``/``sizes``/``masks`` are arrays over the chunk grid; ``chunks is None`` for contiguous data."""

    shape: tuple[int, ...]
    chunks: tuple[int, ...] | None
    offsets: np.ndarray  # int64, NOT_STORED where absent
    sizes: np.ndarray  # int64
    masks: np.ndarray  # uint32

    @property
    def grid(self) -> tuple[int, ...]:
        return tuple(self.offsets.shape)

    @classmethod
    def of(cls, dataset: Any) -> ChunkIndex:
        """The index of an h5py dataset (chunked or contiguous)."""
        shape = tuple(int(n) for n in dataset.shape)
        if dataset.chunks is None:
            offset = dataset.id.get_offset()
            size = dataset.id.get_storage_size()
            return cls(
                shape,
                None,
                np.array([NOT_STORED if offset is None else int(offset)], dtype=np.int64),
                np.array([int(size)], dtype=np.int64),
                np.zeros(1, dtype=np.uint32),
            )
        chunks = tuple(int(c) for c in dataset.chunks)
        grid = tuple(math.ceil(n / c) for n, c in zip(shape, chunks, strict=True))
        offsets = np.full(grid, NOT_STORED, dtype=np.int64)
        sizes = np.zeros(grid, dtype=np.int64)
        masks = np.zeros(grid, dtype=np.uint32)

        def visit(info: Any) -> None:
            at = tuple(o // c for o, c in zip(info.chunk_offset, chunks, strict=True))
            offsets[at], sizes[at], masks[at] = info.byte_offset, info.size, info.filter_mask

        try:
            dataset.id.chunk_iter(visit)
        except (OSError, ValueError, IndexError) as exc:
            raise InvalidStoreError(f"{dataset.name}: cannot read its chunk index: {exc}") from exc
        return cls(shape, chunks, offsets, sizes, masks)

    @classmethod
    def from_entries(
        cls, shape: tuple[int, ...], chunks: tuple[int, ...], entries: Iterable[tuple[tuple[int, ...], int, int, int]]
    ) -> ChunkIndex:
        """The index of ``(element offset, byte offset, size, filter mask)`` per stored chunk (read from the
        chunk B-tree by :mod:`.remote_btree`)."""
        grid = tuple(math.ceil(n / c) for n, c in zip(shape, chunks, strict=True))
        offsets = np.full(grid, NOT_STORED, dtype=np.int64)
        sizes = np.zeros(grid, dtype=np.int64)
        masks = np.zeros(grid, dtype=np.uint32)
        for origin, byte_offset, size, mask in entries:
            at = tuple(o // c for o, c in zip(origin, chunks, strict=True))
            if all(a < g for a, g in zip(at, grid, strict=True)):
                offsets[at], sizes[at], masks[at] = byte_offset, size, mask
        return cls(shape, chunks, offsets, sizes, masks)

    def to_arrays(self) -> dict[str, np.ndarray]:
        """For the disk cache (:mod:`.index_cache`)."""
        return {
            "shape": np.array(self.shape, dtype=np.int64),
            "chunks": np.array(self.chunks or (), dtype=np.int64),
            "contiguous": np.array(self.chunks is None),
            "offsets": self.offsets,
            "sizes": self.sizes,
            "masks": self.masks,
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> ChunkIndex:
        contiguous = bool(arrays["contiguous"])
        return cls(
            tuple(int(n) for n in arrays["shape"]),
            None if contiguous else tuple(int(c) for c in arrays["chunks"]),
            arrays["offsets"].astype(np.int64),
            arrays["sizes"].astype(np.int64),
            arrays["masks"].astype(np.uint32),
        )
