"""The write lock on S3 (moto) and local disk: create-only puts, leases, takeover, unlock, fallback."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from zarr.abc.store import Store
from zarr.core.buffer import default_buffer_prototype
from zarr.core.sync import sync
from zarr.storage import LocalStore

from nwbzarr.backends.zarr_v3 import lock
from nwbzarr.cli import main
from nwbzarr.errors import LockLostError, StoreLockedError
from nwbzarr.storage import make_store
from nwbzarr.storage.conditional import ConditionalWritesWarning, is_atomic
from nwbzarr.testing.http_proxy import ConditionalStrippingProxy
from nwbzarr.testing.s3server import S3TestServer

TRIES = 50


def _race(stores: list[Store], where: str) -> tuple[list[lock.Held], list[StoreLockedError]]:
    """Two writers released by one barrier try to take the lock at the same instant."""
    barrier = threading.Barrier(len(stores))
    won: list[lock.Held] = []
    refused: list[StoreLockedError] = []

    def writer(store: Store) -> None:
        barrier.wait()
        try:
            won.append(lock.acquire(store, where))
        except StoreLockedError as exc:
            refused.append(exc)

    threads = [threading.Thread(target=writer, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return won, refused


def _check_race(stores: list[Store], where: str) -> None:
    won, refused = _race(stores, where)
    assert len(won) == 1 and len(refused) == 1, (won, refused)
    winner = json.loads(won[0].data)
    assert winner["id"] in str(refused[0]) and socket.gethostname() in str(refused[0])
    assert lock.release(stores[0], won[0])


def test_two_writers_at_once_on_s3_exactly_one_wins(s3_server: S3TestServer, s3_url: str) -> None:
    options = s3_server.storage_options()
    for attempt in range(TRIES):
        url = f"{s3_url}/try-{attempt}"
        stores = [make_store(url, read_only=False, storage_options=options) for _ in range(2)]
        assert is_atomic(stores[0])
        _check_race(stores, url)


def test_two_writers_at_once_on_local_disk_exactly_one_wins(tmp_path: Path) -> None:
    for attempt in range(TRIES):
        target = tmp_path / f"try-{attempt}.nwb.zarr"
        _check_race([make_store(str(target), read_only=False) for _ in range(2)], str(target))


def _plant(store: Store, *, host: str, expires: float) -> bytes:
    record = json.dumps({"id": "other", "pid": 12345, "host": host, "since": "then", "lease": 1.0, "expires": expires})
    sync(store.set(lock.LOCK_KEY, default_buffer_prototype().buffer.from_bytes(record.encode())))
    if isinstance(store, LocalStore):  # a local lock's lease runs from the file's last touch
        touched = min(expires, time.time())
        os.utime(Path(store.root) / lock.LOCK_KEY, (touched, touched))
    return record.encode()


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    if request.param == "local":
        return make_store(str(tmp_path / "s.nwb.zarr"), read_only=False)
    server: S3TestServer = request.getfixturevalue("s3_server")
    return make_store(request.getfixturevalue("s3_url"), read_only=False, storage_options=server.storage_options())


def test_a_lock_of_another_machine_is_taken_over_once_its_lease_expired(store: Store) -> None:
    _plant(store, host="elsewhere", expires=time.time() + 3600)
    with pytest.raises(StoreLockedError, match=r"process 12345 on elsewhere \(writer other\)") as refused:
        lock.acquire(store, "the store")
    assert "nwbzarr unlock the store" in str(refused.value)
    _plant(store, host="elsewhere", expires=time.time() - lock.LEASE.skew - 5)
    held = lock.acquire(store, "the store")
    assert json.loads(held.data)["host"] == socket.gethostname()
    assert lock.release(store, held)


@pytest.fixture
def short_lease() -> Iterator[lock.Lease]:
    saved = (lock.LEASE.seconds, lock.LEASE.renew_every, lock.LEASE.skew)
    lock.LEASE.seconds, lock.LEASE.renew_every, lock.LEASE.skew = 1.0, 0.05, 0.0
    yield lock.LEASE
    lock.LEASE.seconds, lock.LEASE.renew_every, lock.LEASE.skew = saved


def _wait(condition: Any, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_the_writer_renews_its_lease_and_knows_when_it_lost_the_lock(store: Store, short_lease: lock.Lease) -> None:
    with lock.write_lock(store, "the store") as held:
        first = held.data, held.version
        path = Path(getattr(store, "root", "/nonexistent")) / lock.LOCK_KEY
        mtime = path.stat().st_mtime if path.exists() else None
        _wait(lambda: (held.data, held.version) != first or (mtime is not None and path.stat().st_mtime > mtime))
        time.sleep(1.2)  # longer than the lease: renewals keep it alive, nobody may take it
        with pytest.raises(StoreLockedError):
            lock.acquire(store, "the store")
        assert lock.force_unlock(store) is not None  # `nwbzarr unlock` by someone impatient
        other = lock.acquire(store, "the store")
        _wait(held.lost.is_set)
        with pytest.raises(LockLostError, match="lost its write lock"):
            held.check("the store")
    current = sync(store.get(lock.LOCK_KEY, prototype=default_buffer_prototype()))
    assert current is not None and current.to_bytes() == other.data  # the loser did not remove the new lock
    assert lock.release(store, other)


def test_unlock_command_removes_the_lock_with_a_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "s.nwb.zarr"
    store = make_store(str(target), read_only=False)
    _plant(store, host="elsewhere", expires=time.time() + 3600)
    assert main(["unlock", str(target)]) == 0
    err = capsys.readouterr().err
    assert "warning: removed the write lock" in err and "process 12345 on elsewhere" in err
    assert not (target / lock.LOCK_KEY).exists()
    assert main(["unlock", str(target)]) == 0
    assert "no write lock" in capsys.readouterr().out


def test_a_server_ignoring_conditional_writes_falls_back_with_one_warning(s3_server: S3TestServer) -> None:
    with ConditionalStrippingProxy(s3_server.host, s3_server.port) as proxy:
        options = s3_server.storage_options(endpoint_url=proxy.url)
        first = make_store("s3://lab/stripped-a.nwb.zarr", read_only=False, storage_options=options)
        with pytest.warns(ConditionalWritesWarning, match="ignores conditional writes"):
            assert not is_atomic(first)
        held = lock.acquire(first, "a")  # check-then-put still refuses a writer that comes later
        second = make_store("s3://lab/stripped-a.nwb.zarr", read_only=False, storage_options=options)
        with pytest.raises(StoreLockedError):
            lock.acquire(second, "a")
        assert lock.release(first, held)
        assert sorted(h for h, _ in proxy.paths if "probe" in _) == ["DELETE", "PUT", "PUT"]  # probed once
