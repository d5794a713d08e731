"""Frames from a folder of multi-page TIFF files, read lazily (needs ``tifffile``: ``nwbzarr[tiff]``).

Microscopes save a session as many multi-page TIFFs. :class:`TiffStack` presents them as one
(frames, height, width) array that reads only the pages a slice needs, so a session larger than
memory converts block by block: ``TwoPhotonSeries(data=TiffStack(sorted(folder.glob("*.tif"))), ...)``.
"""

from __future__ import annotations

import bisect
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nwbzarr.abc.array import normalize_key
from nwbzarr.core.optional import require
from nwbzarr.errors import ValidationError

__all__ = ["TiffStack"]


class TiffStack:
    """The pages of ``paths``, in order, as one lazily read (frames, height, width) array."""

    def __init__(self, paths: Sequence[str | os.PathLike[str]]) -> None:
        tifffile = require("tifffile", "reading TIFF files")
        self.paths = [Path(p) for p in paths]
        if not self.paths:
            raise ValidationError("TiffStack: no files given")
        self._starts: list[int] = []
        total = 0
        frame: tuple[int, ...] | None = None
        dtype: np.dtype | None = None
        for path in self.paths:
            with tifffile.TiffFile(path) as tif:
                pages = len(tif.pages)
                first = tif.pages[0]
                shape, page_dtype = tuple(first.shape), np.dtype(first.dtype)
            if frame is None:
                frame, dtype = shape, page_dtype
            elif shape != frame or page_dtype != dtype:
                raise ValidationError(
                    f"TiffStack: {path} has {shape} {page_dtype} pages, the first file {frame} {dtype}"
                )
            self._starts.append(total)
            total += pages
        assert frame is not None and dtype is not None
        self.shape: tuple[int, ...] = (total, *frame)
        self.dtype = dtype
        self.ndim = len(self.shape)
        self.starting_frames = list(self._starts)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key: Any) -> np.ndarray:
        idx = normalize_key(key, self.shape)
        t = idx[0]
        frames = [t] if isinstance(t, int) else list(range(t.start, t.stop, t.step))
        out = np.empty((len(frames), *self.shape[1:]), dtype=self.dtype)
        tifffile = require("tifffile", "reading TIFF files")
        by_file: dict[int, list[tuple[int, int]]] = {}
        for i, frame in enumerate(frames):
            f = bisect.bisect_right(self._starts, frame) - 1
            by_file.setdefault(f, []).append((i, frame - self._starts[f]))
        for f, wanted in by_file.items():
            with tifffile.TiffFile(self.paths[f]) as tif:
                for i, page in wanted:
                    out[i] = tif.pages[page].asarray()
        result = out[(slice(None), *idx[1:])]
        return result[0] if isinstance(t, int) else result

    def __repr__(self) -> str:
        return f"TiffStack({len(self.paths)} files, shape={self.shape}, dtype={self.dtype})"
