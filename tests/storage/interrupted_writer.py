"""The writer that tests/storage/test_interrupted_writes.py kills: one operation through a KillSwitchStore.

    python interrupted_writer.py OP TARGET AT OPTIONS_JSON [SOURCE]

OP is ``write`` (the small tutorial file plus a multi-chunk movie, mode 'w'), ``append`` (a new series in
mode 'a'), ``append_frames`` (frames added to TwoPhotonSeries1 in mode 'a') or ``convert`` (SOURCE, an
HDF5 file, to TARGET). AT is the store change before which the process SIGKILLs itself (0: never), or
``KEY:N``, the N-th change of one key.
Prints ``steps [[op, key], ...]`` (every store change in order) and ``changes N`` when the operation finished.
"""

from __future__ import annotations

import json
import random
import sys
import uuid

import numpy as np
from zarr.core.buffer import Buffer

from nwbzarr import NWBZarrIO
from nwbzarr.model import Container, NWBFile, TimeSeries
from nwbzarr.operations.convert import convert
from nwbzarr.storage import make_store
from nwbzarr.testing.killswitch import KillSwitchStore
from nwbzarr.testing.tutorial import build_tutorial_file


def same_ids(container: Container, seed: int) -> None:
    """Give every object of ``container`` an object_id drawn from ``seed``: equal files across processes."""
    rng = random.Random(seed)
    stack = [container]
    while stack:
        item = stack.pop()
        object.__setattr__(item, "object_id", str(uuid.UUID(int=rng.getrandbits(128), version=4)))
        stack.extend(item.children())


def written_file() -> NWBFile:
    """What ``write`` writes; the test builds the same file to compare."""
    nwbfile = build_tutorial_file(frames=24, size=16, seed=3)
    assert isinstance(nwbfile, NWBFile)
    movie = np.arange(48 * 32 * 32, dtype=np.uint16).reshape(48, 32, 32)
    nwbfile.add_acquisition(TimeSeries(name="movie", data=movie, unit="n", rate=10.0))
    same_ids(nwbfile, 3)
    return nwbfile


def extra_series() -> TimeSeries:
    series = TimeSeries(name="extra", data=np.linspace(0, 1, 500).reshape(100, 5), unit="V", rate=5.0)
    same_ids(series, 4)
    return series


def new_frames() -> np.ndarray:
    return np.full((7, 16, 16), 9, dtype=np.uint16)


#: every store change of this process in order, as (operation, key): the test picks its kill points from it
STEPS: list[tuple[str, str]] = []


class _Recording(KillSwitchStore):
    """A KillSwitchStore that also notes each change (zarr's copies of it share the one list)."""

    async def set(self, key: str, value: Buffer) -> None:
        STEPS.append(("set", key))
        await super().set(key, value)

    async def set_if_not_exists(self, key: str, value: Buffer) -> None:
        STEPS.append(("set", key))
        await super().set_if_not_exists(key, value)

    async def delete(self, key: str) -> None:
        STEPS.append(("delete", key))
        await super().delete(key)


def main() -> None:
    op, target, options = sys.argv[1], sys.argv[2], json.loads(sys.argv[4]) or None
    key, _, at = sys.argv[3].rpartition(":")
    mode = "a" if op.startswith("append") else "w"
    store = _Recording(make_store(target, read_only=False, storage_options=options), at=int(at), key=key or None)
    if op == "convert":
        convert(sys.argv[5], store, dst_format="zarr", overwrite=True)
    else:
        with NWBZarrIO(store, mode) as io:
            if op == "write":
                io.write(written_file())
            elif op == "append":
                nwbfile = io.read()
                nwbfile.add_acquisition(extra_series())
                io.write(nwbfile)
            elif op == "append_frames":
                io.append_frames(io.read().acquisition["TwoPhotonSeries1"], new_frames())  # type: ignore[arg-type]
            else:
                raise SystemExit(f"unknown operation {op!r}")
    print("steps", json.dumps(STEPS), flush=True)
    print("changes", store.changes, flush=True)


if __name__ == "__main__":
    main()
    from places import exit_after_work

    exit_after_work()
