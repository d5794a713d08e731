"""Two real writer processes meet at one store (issue 21): the refused one changes nothing, the winner finishes.

A writer in a separate process (tests/storage/pair_writer.py) takes the lock and is held there by a
lock hook; the second writer (this process) is refused, and the store must be byte for byte what it
was, the holder's lock included. Released, the holder's write completes and verifies. Every pair of
modes, on local disk and on the S3 test server. Then the slow-takeover race: two appenders meet a lock
left by a dead process; one pauses between reading the stale lock and replacing it. Exactly one wins,
nothing is lost, and ``verify`` passes, 20 times over.
"""

from __future__ import annotations

import json
import select
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from zarr.core.buffer import default_buffer_prototype
from zarr.core.sync import sync

from nwbzarr import NWBZarrIO, verify
from nwbzarr.backends.zarr_v3.lock import LOCK_KEY, TAKEOVER_KEY
from nwbzarr.errors import StoreLockedError
from nwbzarr.storage import make_store
from nwbzarr.testing.s3server import S3TestServer

sys.path.insert(0, str(Path(__file__).parent))
from pair_writer import new_file, new_frames, new_series, old_file
from places import Place, local_place, s3_place

_DRIVER = Path(__file__).with_name("pair_writer.py")
_TIMEOUT = 120.0


class Worker:
    """One pair_writer.py process; commands go in one at a time, answers come back as JSON lines."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(_DRIVER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
        )

    def send(self, **command: Any) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()

    def answered(self, timeout: float = 0.0) -> bool:
        assert self.process.stdout is not None
        return bool(select.select([self.process.stdout], [], [], timeout)[0])

    def answer(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        if not self.answered(_TIMEOUT):
            raise TimeoutError("the writer process did not answer")
        line = self.process.stdout.readline()
        assert line, "the writer process died"
        value: dict[str, Any] = json.loads(line)
        return value

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=30)


@pytest.fixture(scope="module")
def workers() -> Iterator[tuple[Worker, Worker]]:
    pair = (Worker(), Worker())
    yield pair
    for worker in pair:
        worker.close()


@pytest.fixture(params=["local", "s3"])
def place(request: pytest.FixtureRequest, tmp_path: Path) -> Place:
    if request.param == "local":
        return local_place(tmp_path, "pair")
    server: S3TestServer = request.getfixturevalue("s3_server")
    return s3_place(server.storage_options(), "pair")


def contents(target: str, options: dict[str, Any] | None) -> dict[str, bytes]:
    """Every object of the store and its bytes."""
    store = make_store(target, read_only=True, storage_options=options)

    async def grab() -> dict[str, bytes]:
        out: dict[str, bytes] = {}
        async for key in store.list():
            buffer = await store.get(key, prototype=default_buffer_prototype())
            if buffer is not None:
                out[key] = buffer.to_bytes()
        return out

    return sync(grab())


def wait_for(path: Path, worker: Worker) -> None:
    deadline = time.monotonic() + _TIMEOUT
    while not path.exists():
        if worker.answered():
            raise AssertionError(f"the writer answered before reaching {path.name}: {worker.answer()}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path.name} never came")
        time.sleep(0.005)


def refused(op: str, target: str, options: dict[str, Any] | None) -> None:
    """Run ``op`` in this process; it must be refused."""
    with pytest.raises(StoreLockedError, match="being written by process"):
        if op == "write":
            with NWBZarrIO(target, "w", storage_options=options) as io:
                io.write(new_file())
        else:
            with NWBZarrIO(target, "a", storage_options=options) as io:
                nwbfile = io.read()
                if op == "append":
                    nwbfile.add_acquisition(new_series("refused"))
                    io.write(nwbfile)
                else:
                    io.append_frames(nwbfile.acquisition["movie"], new_frames())  # type: ignore[arg-type]


def check_outcome(op: str, target: str, options: dict[str, Any] | None, name: str = "held") -> None:
    """The holder's write is complete, the old content it kept intact, and verify passes."""
    with NWBZarrIO(target, "r", storage_options=options) as io:
        acquisition = io.read().acquisition
        if op == "write":
            assert "movie" not in acquisition
            assert np.array_equal(acquisition["written"].data[:], np.arange(30.0))
        else:
            movie = np.asarray(acquisition["movie"].data[:])
            assert np.array_equal(movie[:10], np.ones((10, 4, 4)))
            assert "refused" not in acquisition
            if op == "append":
                assert np.array_equal(acquisition[name].data[:], new_series(name).data)
            else:
                assert np.array_equal(movie[10:], new_frames())
    report = verify(target, storage_options=options)
    assert report.ok, report.problems


PAIRS = [
    ("write", "write"),
    ("write", "append"),
    ("append", "append"),
    ("append", "write"),
    ("append_frames", "write"),
    ("write", "append_frames"),
]


@pytest.mark.parametrize(("holder", "second"), PAIRS, ids=[f"{a}-then-{b}" for a, b in PAIRS])
def test_the_refused_writer_changes_nothing_and_the_holder_finishes(
    workers: tuple[Worker, Worker], place: Place, tmp_path: Path, holder: str, second: str
) -> None:
    target = place.make_target()
    with NWBZarrIO(target, "w", storage_options=place.options) as io:
        io.write(old_file())
    worker = workers[0]
    signals = tmp_path / f"signals-{uuid.uuid4().hex[:6]}"
    signals.mkdir()
    worker.send(
        op=holder, target=target, options=place.options, name="held", pause=["after_acquire"], signals=str(signals)
    )
    wait_for(signals / "held.after_acquire", worker)
    before = contents(target, place.options)
    assert LOCK_KEY in before
    refused(second, target, place.options)
    assert contents(target, place.options) == before  # nothing changed, the holder's lock included
    (signals / "held.after_acquire.go").touch()
    assert worker.answer() == {"ok": True}
    check_outcome(holder, target, place.options)
    assert LOCK_KEY not in contents(target, place.options)


def _stale_lock(root: Path) -> None:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    record = {"id": uuid.uuid4().hex, "pid": process.pid, "host": socket.gethostname(), "since": "2026-01-01"}
    (root / LOCK_KEY).write_text(json.dumps(record))


def _race(workers: tuple[Worker, Worker], target: Path, signals: Path, *, simultaneous: bool) -> None:
    """One race of two appenders, ``a`` and ``b``, over the stale lock of ``target``."""
    a, b = workers
    both = ["before_takeover", "after_acquire"]
    a.send(op="append", target=str(target), name="a", pause=both, signals=str(signals))
    wait_for(signals / "a.before_takeover", a)  # a has read the stale lock and pauses
    b.send(op="append", target=str(target), name="b", pause=both, signals=str(signals))
    wait_for(signals / "b.before_takeover", b)
    if simultaneous:  # both resume at once: a true race for the takeover
        (signals / "a.before_takeover.go").touch()
        (signals / "b.before_takeover.go").touch()
    else:  # b takes over first and holds the lock; then the slow a resumes with its stale view
        (signals / "b.before_takeover.go").touch()
        wait_for(signals / "b.after_acquire", b)
        (signals / "a.before_takeover.go").touch()
    deadline = time.monotonic() + _TIMEOUT
    held: dict[str, Worker] = {}
    answers: dict[str, dict[str, Any]] = {}
    while len(held) + len(answers) < 2:  # each ends up holding the lock (paused) or answered (refused)
        for name, worker in (("a", a), ("b", b)):
            if name in answers or name in held:
                continue
            if (signals / f"{name}.after_acquire").exists():
                held[name] = worker
            elif worker.answered():
                answers[name] = worker.answer()
        assert time.monotonic() < deadline, "the race never settled"
        time.sleep(0.005)
    assert len(held) == 1, f"both writers took the stale lock: {sorted(held)}"
    (winner, worker), loser = next(iter(held.items())), next(iter(answers))
    assert answers[loser]["error"] == "StoreLockedError", answers[loser]
    (signals / f"{winner}.after_acquire.go").touch()
    assert worker.answer() == {"ok": True}
    with NWBZarrIO(target, "r") as io:
        acquisition = io.read().acquisition
        assert loser not in acquisition
        assert np.array_equal(acquisition[winner].data[:], new_series(winner).data)
        assert np.array_equal(acquisition["movie"].data[:], np.ones((10, 4, 4)))
    assert verify(target).ok
    assert not (target / LOCK_KEY).exists() and not (target / TAKEOVER_KEY).exists()
    assert not [p for p in target.iterdir() if p.name.endswith(".tmp")]


def test_the_slow_takeover_race_has_exactly_one_winner(workers: tuple[Worker, Worker], tmp_path: Path) -> None:
    original = tmp_path / "original.nwb.zarr"
    with NWBZarrIO(original, "w") as io:
        io.write(old_file())
    for round_ in range(20):
        target = tmp_path / f"race-{round_}.nwb.zarr"
        shutil.copytree(original, target)
        _stale_lock(target)
        signals = tmp_path / f"signals-{round_}"
        signals.mkdir()
        _race(workers, target, signals, simultaneous=round_ % 2 == 1)
