"""The conversion that tests/storage/test_multipart.py kills during a multipart upload, in a process of its own.

    python multipart_writer.py SOURCE TARGET KEY AT OPTIONS_JSON [resume] [plain]

Converts SOURCE to TARGET (on the S3 test server) through a kill switch that also counts every part
of a multipart upload as a change of its key, and SIGKILLs the process just before the AT-th change of
KEY (0: never). Shards are stored one at a time, their parts one at a time, so that the parts sent
before the kill are exactly the ones before it. ``plain``: no kill switch (the store as it is: over obstore
a fresh write leaves its shards' multipart uploads to obstore). Prints ``told`` (what the resume said).
"""

from __future__ import annotations

import json
import sys
from typing import Any

from nwbzarr.backends.zarr_v3 import shards
from nwbzarr.operations.convert import convert
from nwbzarr.storage import make_store, multipart
from nwbzarr.testing.killswitch import KillSwitchStore
from nwbzarr.writing import policy

#: the test movie: (FRAMES, SIZE, SIZE) uint16 noise, shards of SHARD_FRAMES frames (about 6 MiB: 2 parts)
FRAMES, SIZE, SHARD_FRAMES = 576, 128, 192


class PartKillSwitchStore(KillSwitchStore):
    """A kill switch that passes the multipart uploads of the store underneath on, each part a change."""

    def multipart_target(self, build: bool) -> Any:
        target = multipart.target_of(self._store, build=build)
        return None if target is None else target.observed(self.count.before_change)


def small_shards() -> None:
    """Shards of SHARD_FRAMES frames of the test movie (this process and the test's own conversions)."""
    policy.SHARD_BYTES = SHARD_FRAMES * SIZE * SIZE * 2


def main() -> None:
    source, target, key, at, options = sys.argv[1:6]
    small_shards()
    shards.INFLIGHT = 1
    multipart.PARTS_INFLIGHT = 1
    flags = sys.argv[6:]
    store: Any = make_store(target, read_only=False, storage_options=json.loads(options))
    if "plain" not in flags:
        store = PartKillSwitchStore(store, at=int(at), key=key)
    told: list[str] = []
    convert(source, store, dst_format="zarr", resume="resume" in flags, explain=told.append)
    print("told", json.dumps(told), flush=True)


if __name__ == "__main__":
    main()
    from places import exit_after_work

    exit_after_work()
