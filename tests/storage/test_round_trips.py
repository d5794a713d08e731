"""The serial round trips around a conversion's shards (issue 18, upload speed): asked together, or not at all.

Before the first shard: the destination's markers, its listing and the probe of conditional writes go in
one round; the store is not checked a second time before the lock; the manifest's version is read with
the check under the lock. After the last: the notes of a new write are removed without listing them, and
the lock is released with one request where a delete can name the version (s3fs), a HEAD and a delete
(obstore); versions are asked with HEADs, never by downloading the lock or the manifest.
Every guarantee stays: a new write still refuses a store that appeared, under its lock.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from zarr.abc.store import Store

from nwbzarr import NWBHDF5IO, verify
from nwbzarr.backends.zarr_v3 import lock
from nwbzarr.backends.zarr_v3.backend import ZarrBackend
from nwbzarr.core.progress import NO_PROGRESS
from nwbzarr.errors import DestinationError, StoreExistsError
from nwbzarr.model import TimeSeries
from nwbzarr.operations.convert import convert
from nwbzarr.storage import conditional, make_store
from nwbzarr.storage.destination import check_destination
from nwbzarr.testing.http_proxy import CountingProxy
from nwbzarr.testing.s3server import S3TestServer
from nwbzarr.testing.tutorial import build_tutorial_file
from nwbzarr.tree.nodes import Dataset, Group

_MARKERS = ("zarr.json", ".zgroup", "nwbzarr.json", "nwbzarr.lock")


def _source(tmp_path: Path) -> Path:
    nwbfile = build_tutorial_file(frames=8, size=8, seed=3)
    nwbfile.add_acquisition(TimeSeries(name="movie", data=np.arange(20 * 4 * 4).reshape(20, 4, 4), unit="n", rate=2.0))
    source = tmp_path / "session.nwb"
    with NWBHDF5IO(source, "w") as io:
        io.write(nwbfile)
    return source


def _key(path: str, prefix: str) -> str:
    """The store key of a request path (``/lab/<prefix>/<key>?query``), or "" for a request on the bucket."""
    plain = path.split("?", 1)[0]
    marker = f"/{prefix}/"
    return plain.split(marker, 1)[1] if marker in plain else ""


def test_a_fresh_conversion_asks_each_marker_once_before_the_lock_and_lists_no_notes(
    tmp_path: Path, s3_server: S3TestServer, counting_proxy: CountingProxy, s3_transport: str
) -> None:
    source = _source(tmp_path)
    options = s3_server.storage_options(counting_proxy.url)
    counting_proxy.reset()
    convert(source, "s3://lab/round-trips.nwb.zarr", dst_storage_options=options, verify=False)
    asked = [(method, _key(path, "round-trips.nwb.zarr"), path) for method, path in counting_proxy.paths]
    for marker in _MARKERS:
        # once by the destination check, at most once more under the lock (the roots and the manifest's version)
        hits = [method for method, key, _ in asked if key == marker and method in ("HEAD", "GET")]
        assert len(hits) <= 2, (marker, hits)  # the lock: checked once, and (obstore) its version at the release
    listings = [path for method, _, path in asked if method == "GET" and "list-type=2" in path]
    assert not [path for path in listings if "nwbzarr.resume" in path or "nwbzarr.journal" in path], listings
    lock_reads = [method for method, key, _ in asked if key == lock.LOCK_KEY and method in ("GET", "HEAD")]
    assert len(lock_reads) == (1 if s3_transport == "fsspec" else 2), asked  # the release: If-Match, or a HEAD
    assert not [key for method, key, _ in asked if method == "GET" and key in (lock.LOCK_KEY, "nwbzarr.json")]
    assert verify("s3://lab/round-trips.nwb.zarr", storage_options=s3_server.storage_options()).ok
    store = make_store("s3://lab/round-trips.nwb.zarr", read_only=True, storage_options=s3_server.storage_options())
    assert not conditional.read_versioned(store, lock.LOCK_KEY)  # released
    assert not [key for key in _keys(store) if key.startswith(("nwbzarr.resume/", "nwbzarr.lock"))]


def _keys(store: Store) -> list[str]:
    from zarr.core.sync import sync

    async def listed() -> list[str]:
        return [key async for key in store.list()]

    return sync(listed())


def test_the_destination_check_and_the_probe_go_in_one_round(
    s3_server: S3TestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(conditional, "_probed", {})  # this bucket was never probed in this process
    with CountingProxy(s3_server.host, s3_server.port, latency=0.05) as proxy:
        options = s3_server.storage_options(proxy.url)
        assert check_destination("s3://lab/one-round.nwb.zarr", format="zarr", overwrite=False, storage_options=options)
        assert proxy.max_in_flight >= 5, proxy.paths  # 3 markers, the root, the listing and the probe's first put
        assert sorted(m for m, p in proxy.paths if "probe" in p) == ["DELETE", "PUT", "PUT"]  # probed, cleaned up
    assert conditional.is_atomic(make_store("s3://lab/one-round.nwb.zarr", read_only=False, storage_options=options))


def test_a_probe_object_is_no_content_but_anything_else_is(s3_server: S3TestServer) -> None:
    options = s3_server.storage_options()
    store = make_store("s3://lab/probed.nwb.zarr", read_only=False, storage_options=options)
    from zarr.core.buffer import default_buffer_prototype
    from zarr.core.sync import sync

    def put(key: str) -> None:
        sync(store.set(key, default_buffer_prototype().buffer.from_bytes(b"x")))

    put(f"{conditional.PROBE_PREFIX}left-by-a-killed-writer")
    assert check_destination("s3://lab/probed.nwb.zarr", format="zarr", overwrite=False, storage_options=options) == (
        "nothing"
    )
    put("notes.txt")
    with pytest.raises(DestinationError, match="holds objects but no Zarr store"):
        check_destination("s3://lab/probed.nwb.zarr", format="zarr", overwrite=False, storage_options=options)


def test_a_new_write_refuses_a_store_that_appeared_under_its_lock(tmp_path: Path) -> None:
    target = tmp_path / "appeared.nwb.zarr"
    convert(_source(tmp_path), target)  # another writer's complete store, made after our check
    backend = ZarrBackend(make_store(str(target), read_only=False), where=str(target))
    backend.refuse_existing = True
    tree = Group(attrs={}, members={"x": Dataset(dtype=np.dtype("int64"), data=np.arange(5))})
    with pytest.raises(StoreExistsError, match="already exists"):
        backend.write_tree(tree, append=False, progress=NO_PROGRESS)
    assert verify(target).ok  # untouched
    assert not (target / lock.LOCK_KEY).exists()


def test_the_release_keeps_a_lock_that_is_not_ours_any_more(s3_server: S3TestServer, s3_url: str) -> None:
    store = make_store(s3_url, read_only=False, storage_options=s3_server.storage_options())
    held = lock.acquire(store, "here")
    current = conditional.read_versioned(store, lock.LOCK_KEY)
    assert current is not None and current.version == held.version  # the version is the create's answer
    theirs = b'{"id": "another writer"}'
    assert conditional.replace_if_version(store, lock.LOCK_KEY, theirs, current.version)  # taken over
    assert not lock.release(store, held)
    after = conditional.read_versioned(store, lock.LOCK_KEY)
    assert after is not None and after.data == theirs
