"""The commit is a compare-and-swap on the manifest: a writer that lost its lock cannot commit."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from zarr.abc.store import Store

from nwbzarr.backends.zarr_v3 import lock
from nwbzarr.backends.zarr_v3.backend import ZarrBackend
from nwbzarr.backends.zarr_v3.manifest import MANIFEST_KEY, commit_state, manifest_version, read_manifest, write_state
from nwbzarr.core.progress import NO_PROGRESS
from nwbzarr.errors import LockLostError
from nwbzarr.storage import make_store
from nwbzarr.storage.conditional import read_versioned
from nwbzarr.testing.s3server import S3TestServer
from nwbzarr.tree.nodes import Dataset, Group


@pytest.fixture(params=["memory", "local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    if request.param == "memory":
        return make_store(f"memory://cas-{id(tmp_path)}/s.nwb.zarr", read_only=False)
    if request.param == "local":
        return make_store(str(tmp_path / "s.nwb.zarr"), read_only=False)
    server: S3TestServer = request.getfixturevalue("s3_server")
    return make_store(request.getfixturevalue("s3_url"), read_only=False, storage_options=server.storage_options())


def test_a_stale_version_is_refused_and_changes_nothing(store: Store) -> None:
    first, version = commit_state(store, "writing", None, "the store")
    with pytest.raises(LockLostError):  # create-only: a manifest is there now
        commit_state(store, "writing", None, "the store")
    write_state(store, "writing")  # another writer replaced it
    theirs = read_versioned(store, MANIFEST_KEY)
    assert theirs is not None and theirs.version != version
    with pytest.raises(LockLostError, match=f"{MANIFEST_KEY} changed since this writer last wrote it"):
        commit_state(store, "complete", version, "the store", objects={}, previous=first)
    assert read_versioned(store, MANIFEST_KEY) == theirs
    done, _ = commit_state(store, "complete", theirs.version, "the store", objects={}, previous=first)
    assert read_manifest(store) == done and manifest_version(store) is not None


def _tree() -> Group:
    return Group(attrs={"note": "mine"}, members={"x": Dataset(dtype=np.dtype("float64"), data=np.arange(1000.0))})


class _TakenOverMidWrite:
    """A progress callback that, at the first block written, has another writer take the store over."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.other: lock.Held | None = None

    def set_total(self, total: int) -> None:
        pass

    def advance(self, amount: int) -> None:
        if self.other is None:
            lock.force_unlock(self.store)  # as `nwbzarr unlock` would, or an expired lease
            self.other = lock.acquire(self.store, "other")
            write_state(self.store, "writing")  # the other writer starts: its manifest replaces ours

    def close(self) -> None:
        pass


def test_a_writer_that_lost_its_lock_cannot_commit(store: Store) -> None:
    taker = _TakenOverMidWrite(store)
    with pytest.raises(LockLostError):
        ZarrBackend(store, where="the store").write_tree(_tree(), append=False, progress=taker)
    manifest = read_manifest(store)
    assert manifest is not None and manifest["state"] == "writing"  # the other writer's, untouched
    assert taker.other is not None
    current = read_versioned(store, lock.LOCK_KEY)
    assert current is not None and json.loads(current.data)["id"] == json.loads(taker.other.data)["id"]
    assert lock.release(store, taker.other)


def test_a_writer_that_keeps_its_lock_commits(store: Store) -> None:
    ZarrBackend(store, where="the store").write_tree(_tree(), append=False, progress=NO_PROGRESS)
    manifest = read_manifest(store)
    assert manifest is not None and manifest["state"] == "complete"
    assert ZarrBackend(store, where="the store").read_tree().attrs["note"] == "mine"
