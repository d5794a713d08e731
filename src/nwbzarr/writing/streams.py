"""Data that arrives as a stream: frames (or blocks of frames) from an iterator, written as they come.

Wrap an acquisition loop, a generator or a reader of many files in :class:`FrameStream` and pass it
as a series' ``data``: the writer pulls blocks, holds at most one shard (or chunk) depth of frames,
and grows the array when the number of frames was not known in advance.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from nwbzarr.errors import ValidationError

__all__ = ["FrameStream"]


class FrameStream:
    """A one-pass source of frames: ``FrameStream(frames)``, or ``FrameStream(blocks, blocks=True)``.

    Each item is one frame, or with ``blocks=True`` a block of frames ``(k, *frame_shape)``. The first
    item is read at construction to learn the frame shape and dtype. ``n_frames`` (if known) lets the
    writer size the array up front; otherwise it grows as frames arrive. A stream is consumed by the
    write that stores it.
    """

    def __init__(self, frames: Iterable[Any], *, blocks: bool = False, n_frames: int | None = None) -> None:
        self._items: Iterator[Any] = iter(frames)
        try:
            first = np.asarray(next(self._items))
        except StopIteration:
            raise ValidationError("FrameStream: the iterator yielded no frames") from None
        if not blocks:
            first = first[np.newaxis]
        elif first.ndim < 2:
            raise ValidationError(f"FrameStream: a block must be (frames, ...), got shape {first.shape}")
        self._first: np.ndarray | None = first
        self._blocks = blocks
        self.frame_shape: tuple[int, ...] = tuple(first.shape[1:])
        self.dtype = first.dtype
        self.n_frames = n_frames
        self.consumed = False

    @property
    def shape(self) -> tuple[int, ...]:
        """``(n_frames, *frame_shape)``; the time length is 0 while unknown."""
        return (self.n_frames or 0, *self.frame_shape)

    @property
    def ndim(self) -> int:
        """Dimensions of the stored array (time plus the frame)."""
        return 1 + len(self.frame_shape)

    def __len__(self) -> int:
        return self.n_frames or 0

    def blocks(self) -> Iterator[np.ndarray]:
        """Every block in order, each ``(k, *frame_shape)``; checks shapes, dtype and the frame count."""
        if self.consumed or self._first is None:
            raise ValidationError("FrameStream: this stream was already written (streams are one pass)")
        self.consumed = True
        block, self._first = self._first, None
        seen = 0
        while True:
            if tuple(block.shape[1:]) != self.frame_shape:
                raise ValidationError(
                    f"FrameStream: frame {seen} has shape {block.shape[1:]}, expected {self.frame_shape}"
                )
            seen += len(block)
            if self.n_frames is not None and seen > self.n_frames:
                raise ValidationError(f"FrameStream: more than the announced {self.n_frames} frames")
            yield block
            item = next(self._items, None)
            if item is None:
                break
            block = np.asarray(item, dtype=self.dtype)
            if not self._blocks:
                block = block[np.newaxis]
        if self.n_frames is not None and seen != self.n_frames:
            raise ValidationError(f"FrameStream: {seen} frames arrived, {self.n_frames} were announced")
        self.n_frames = seen

    def __getitem__(self, key: Any) -> np.ndarray:
        raise TypeError("a FrameStream is written in one pass; read the stored series instead")

    def __repr__(self) -> str:
        n = self.n_frames if self.n_frames is not None else "?"
        return f"FrameStream({n} x {self.frame_shape} {self.dtype})"
