"""What an ``append_frames`` is, for its resume: the series, where it starts, and what the frames are.

A resume must continue the same append: the same series from the same length, the same number of
frames of the same shape and type, the same timestamps. The frames themselves are fingerprinted by a
sample (the first, middle and last frame of an array; a stream's count, shape and type only, since
reading it would consume it); every shard the resume keeps is checked by its bytes anyway
(:mod:`nwbzarr.backends.zarr_v3.resume_append`).
"""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np

from nwbzarr.writing.blocks import read_region
from nwbzarr.writing.streams import FrameStream

__all__ = ["frames_plan"]


def frames_plan(path: str, rows: int, frames: Any, timestamps: np.ndarray | None) -> dict[str, Any]:
    """The plan of appending ``frames`` (and ``timestamps``) to the stored array ``path`` of ``rows`` rows."""
    if isinstance(frames, FrameStream):
        count, shape, dtype, sample = frames.n_frames, frames.frame_shape, frames.dtype, None
    else:
        frames = frames if hasattr(frames, "shape") and hasattr(frames, "dtype") else np.asarray(frames)
        count, shape, dtype = int(frames.shape[0]), tuple(frames.shape[1:]), np.dtype(frames.dtype)
        sample = 0
        for i in sorted({0, count // 2, count - 1} if count else set()):
            frame = np.ascontiguousarray(read_region(frames, (slice(i, i + 1),)))
            sample = zlib.crc32(frame.tobytes(), sample)
    source = {
        "series": path,
        "rows": int(rows),
        "frames": count,
        "frame_shape": [int(n) for n in shape],
        "dtype": np.dtype(dtype).str,
        "frames_crc32": sample,
    }
    stamps = None if timestamps is None else zlib.crc32(np.ascontiguousarray(timestamps, dtype="<f8").tobytes())
    return {"kind": "append", "source": source, "options": {"timestamps_crc32": stamps}}
