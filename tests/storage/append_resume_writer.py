"""The ``append_frames`` that tests/storage/test_append_resume.py kills and resumes, in a process of its own.

    python append_resume_writer.py OP TARGET AT OPTIONS_JSON [resume] [changed]

OP ``prepare`` writes the starting file (a timestamped movie of :data:`OLD` frames, in shards of 16
frames: the layout policy is shrunk); OP ``append`` opens TARGET in mode 'a' through a KillSwitchStore
that SIGKILLs the process just before its AT-th store change (0: never; ``KEY:N``: the N-th change of
one key) and appends :func:`new_frames` with their timestamps (``changed``: other frames; ``resume``:
``resume=True``). Prints ``changes N`` (store changes) and ``shards N`` (shards of the movie stored) when done.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime

import numpy as np
from zarr.core.buffer import Buffer

from nwbzarr import NWBZarrIO
from nwbzarr.backends.zarr_v3 import manifest, resume
from nwbzarr.model import NWBFile, TimeSeries
from nwbzarr.storage import make_store
from nwbzarr.testing.killswitch import KillSwitchStore
from nwbzarr.writing import policy

OLD = 40
NEW = 100


def shrink_policy() -> None:
    """Shards of 32 KiB (16 frames of 32 x 32 uint16) for arrays from 32 KiB on; notes saved by count only."""
    policy.SINGLE_CHUNK_BYTES = 16 * 1024
    policy.SHARD_MIN_BYTES = 32 * 1024
    policy.SHARD_BYTES = 32 * 1024
    resume.SECONDS = manifest.FLUSH_SECONDS = 1e9  # no saves by the clock: the same changes at every run


def _frames(start: int, count: int, salt: int = 0) -> np.ndarray:
    """Frames that compress to different sizes (so a swapped shard cannot pass for another)."""
    n = np.arange(start * 1024, (start + count) * 1024, dtype=np.uint64) + salt
    return ((n * 2654435761) % 4099).astype(np.uint16).reshape(count, 32, 32)


def old_frames() -> np.ndarray:
    return _frames(0, OLD)


def new_frames(changed: bool = False) -> np.ndarray:
    return _frames(OLD, NEW, salt=7 if changed else 0)


def new_stamps() -> np.ndarray:
    return np.arange(OLD, OLD + NEW) / 10.0


def old_file() -> NWBFile:
    nwbfile = NWBFile(
        session_description="append resume",
        identifier="append-resume",
        session_start_time=datetime(2024, 1, 1, tzinfo=UTC),
    )
    nwbfile.add_acquisition(TimeSeries(name="movie", data=old_frames(), unit="n", timestamps=np.arange(OLD) / 10.0))
    return nwbfile


class _Counting(KillSwitchStore):
    """Counts the movie's shards stored (zarr's copies of the store share the count)."""

    shards = 0

    async def set(self, key: str, value: Buffer) -> None:
        await super().set(key, value)
        if key.startswith("acquisition/movie/data/c/"):
            _Counting.shards += 1


def main() -> None:
    op, target, options = sys.argv[1], sys.argv[2], json.loads(sys.argv[4]) or None
    flags = sys.argv[5:]
    shrink_policy()
    if op == "prepare":
        with NWBZarrIO(target, "w", storage_options=options) as io:
            io.write(old_file())
        return
    key, _, at = sys.argv[3].rpartition(":")
    store = _Counting(make_store(target, read_only=False, storage_options=options), at=int(at), key=key or None)
    with NWBZarrIO(store, "a") as io:
        series = io.read().acquisition["movie"]
        assert isinstance(series, TimeSeries)
        io.append_frames(series, new_frames("changed" in flags), timestamps=new_stamps(), resume="resume" in flags)
    print("changes", store.changes, flush=True)
    print("shards", _Counting.shards, flush=True)


if __name__ == "__main__":
    main()
    from places import exit_after_work

    exit_after_work()
