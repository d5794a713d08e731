"""The conversion that tests/storage/test_resume.py kills and resumes, in a process of its own.

    python resume_writer.py SOURCE TARGET AT OPTIONS_JSON [resume] [chunks=A,B,C] [compression=CODEC]

Converts SOURCE (an NWB HDF5 file) to TARGET through a KillSwitchStore that SIGKILLs the process just
before its AT-th store change (0: never; ``KEY:N``: the N-th change of one key); ``resume`` passes
``resume=True``. nwbzarr's layout policy is shrunk so that the small test movie is written in several
shards (the whole-shard reuse of a resume is then exercised). Prints ``changes N`` and, for a resume,
what ``explain`` said.
"""

from __future__ import annotations

import json
import sys

from nwbzarr.backends.zarr_v3 import resume
from nwbzarr.operations.convert import convert
from nwbzarr.storage import make_store
from nwbzarr.testing.killswitch import KillSwitchStore
from nwbzarr.writing import policy


def shrink_policy() -> None:
    """Shards of 32 KiB for arrays from 32 KiB on, the resume record saved often (the test process too)."""
    policy.SINGLE_CHUNK_BYTES = 16 * 1024
    policy.SHARD_MIN_BYTES = 32 * 1024
    policy.SHARD_BYTES = 32 * 1024
    resume.EVERY = 8  # the record is saved every 8 objects (small objects: a kill loses little)


def main() -> None:
    source, target, at, options = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4]) or None
    flags = sys.argv[5:]
    chunks = next((tuple(int(n) for n in f.split("=")[1].split(",")) for f in flags if f.startswith("chunks=")), None)
    compression = next((f.split("=")[1] for f in flags if f.startswith("compression=")), None)
    shrink_policy()
    key, _, count = at.rpartition(":")
    store = KillSwitchStore(
        make_store(target, read_only=False, storage_options=options), at=int(count), key=key or None
    )
    told: list[str] = []
    convert(
        source,
        store,
        dst_format="zarr",
        chunks=chunks,
        compression=compression,
        resume="resume" in flags,
        explain=told.append,
    )
    print("changes", store.changes, flush=True)
    print("told", json.dumps(told), flush=True)


if __name__ == "__main__":
    main()
    from places import exit_after_work

    exit_after_work()
