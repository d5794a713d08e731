"""``append_frames(..., resume=True)`` (issue 18): an append killed at any point continues where it stopped.

Each append runs in a process of its own (tests/storage/append_resume_writer.py) that SIGKILLs itself just
before a chosen store change, on local disk and on the S3 test server. Killed, the store reads as its
last complete state; resumed, it holds every old and new frame and timestamp, verifies, and the shards
stored before the kill are not sent again. Other frames are refused, and the refusal changes nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from zarr.abc.store import Store
from zarr.core.buffer import Buffer
from zarr.core.sync import sync
from zarr.storage import WrapperStore

from nwbzarr import NWBZarrIO, verify
from nwbzarr.backends.zarr_v3.manifest import JOURNAL_PREFIX, RESUME_PREFIX, read_manifest
from nwbzarr.model import TimeSeries
from nwbzarr.storage import make_store
from nwbzarr.testing.s3server import S3TestServer

sys.path.insert(0, str(Path(__file__).parent))
from append_resume_writer import OLD, new_frames, new_stamps, old_frames
from places import Place, local_place, s3_place, stored_objects

_DRIVER = Path(__file__).with_name("append_resume_writer.py")


@pytest.fixture(params=["local", "s3"])
def place(request: pytest.FixtureRequest, tmp_path: Path) -> Place:
    if request.param == "local":
        return local_place(tmp_path, "frames")
    server: S3TestServer = request.getfixturevalue("s3_server")
    return s3_place(server.storage_options(), "frames")


def _run(op: str, target: str, at: int | str, place: Place, *flags: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, str(_DRIVER), op, target, str(at), json.dumps(place.options), *flags]
    return subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)


def _printed(done: subprocess.CompletedProcess[str], what: str) -> int:
    assert done.returncode == 0, done.stderr[-3000:]
    return int(next(line for line in done.stdout.splitlines() if line.startswith(what)).split()[1])


def _prepared(place: Place) -> str:
    target = place.make_target()
    done = _run("prepare", target, 0, place)
    assert done.returncode == 0, done.stderr[-3000:]
    return target


def _movie(target: str, place: Place) -> tuple[np.ndarray, np.ndarray]:
    with NWBZarrIO(target, "r", storage_options=place.options) as io:
        series = io.read().acquisition["movie"]
        assert isinstance(series, TimeSeries)
        return np.asarray(series.data[:]), np.asarray(series.timestamps[:])


def _objects(target: str, place: Place) -> dict[str, bytes]:
    return stored_objects(target, place.options)


def _assert_new(target: str, place: Place) -> None:
    data, stamps = _movie(target, place)
    np.testing.assert_array_equal(data, np.concatenate([old_frames(), new_frames()]))
    np.testing.assert_array_equal(stamps, np.concatenate([np.arange(OLD) / 10.0, new_stamps()]))
    assert verify(target, storage_options=place.options).ok
    manifest = read_manifest(make_store(target, read_only=True, storage_options=place.options))
    assert manifest is not None and manifest["state"] == "complete"
    assert not [key for key in _objects(target, place) if key.startswith((RESUME_PREFIX, JOURNAL_PREFIX))]


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, int]:
    """(store changes, shards stored) of a whole append that nothing interrupts (local; S3 makes the same)."""
    place = local_place(tmp_path_factory.mktemp("fresh"), "fresh")
    done = _run("append", _prepared(place), 0, place)
    return _printed(done, "changes"), _printed(done, "shards")


@pytest.mark.parametrize("point", [0.15, 0.5, 0.85, "nwbzarr.json:2", "nwbzarr.json:3"])
def test_a_killed_append_resumes_with_every_value(point: float | str, place: Place, fresh: tuple[int, int]) -> None:
    if place.kind == "s3" and point in (0.15, 0.85, "nwbzarr.json:3"):
        pytest.skip("on S3 the middle and the end of the writing stand for the rest (local disk covers every point)")
    changes, shards = fresh
    target = _prepared(place)
    at = point if isinstance(point, str) else max(2, int(changes * point))
    killed = _run("append", target, at, place)
    assert killed.returncode == -9, killed.stderr[-3000:]
    data, _ = _movie(target, place)  # the last complete state (or the new one, killed after the root was written)
    assert np.array_equal(data, old_frames()) or np.array_equal(data, np.concatenate([old_frames(), new_frames()]))
    resumed = _run("append", target, 0, place, "resume")
    sent = _printed(resumed, "shards")
    if point == "nwbzarr.json:2":  # every shard was stored and recorded before the kill
        assert sent == 0, sent
    elif point == "nwbzarr.json:3":  # killed during the commit: finished, nothing appended twice
        assert sent == 0 and _printed(resumed, "changes") < changes // 2
    elif point >= 0.5:  # type: ignore[operator]
        assert sent < shards, (sent, shards)
    _assert_new(target, place)


def test_other_frames_are_refused_and_nothing_is_lost(place: Place) -> None:
    target = _prepared(place)
    assert _run("append", target, "nwbzarr.json:2", place).returncode == -9  # every shard stored, no commit
    before = _objects(target, place)
    refused = _run("append", target, 0, place, "resume", "changed")
    assert refused.returncode != 0 and "ResumeRefusedError" in refused.stderr, refused.stderr[-2000:]
    assert "frames_crc32" in refused.stderr and "cannot resume" in refused.stderr
    assert _objects(target, place) == before
    _printed(_run("append", target, 0, place, "resume"), "shards")  # the right frames still resume
    _assert_new(target, place)


def test_resume_without_an_interrupted_append_appends_once(tmp_path: Path) -> None:
    """resume=True on a complete store appends; run again after that append committed, it appends nothing."""
    place = local_place(tmp_path, "once")
    target = _prepared(place)
    assert _printed(_run("append", target, 0, place, "resume"), "shards") > 0
    assert _printed(_run("append", target, 0, place, "resume"), "shards") == 0
    _assert_new(target, place)


def test_a_plain_append_after_an_interrupted_one_rolls_it_back(tmp_path: Path, fresh: tuple[int, int]) -> None:
    """Without resume=True the interrupted append is rolled back first and the frames appended anew."""
    place = local_place(tmp_path, "plain")
    target = _prepared(place)
    assert _run("append", target, fresh[0] // 2, place).returncode == -9  # before the commit (deterministic)
    assert _printed(_run("append", target, 0, place), "shards") == fresh[1]
    _assert_new(target, place)


def test_shards_stored_but_never_noted_are_read_back_not_sent(place: Place) -> None:
    """Killed with every shard stored but its notes lost: the resume reads them back and keeps them.

    Only the old last shard (rewritten in place, journaled) is written again.
    """
    target = _prepared(place)
    assert _run("append", target, "nwbzarr.json:2", place).returncode == -9
    store = make_store(target, read_only=False, storage_options=place.options)

    async def forget() -> None:
        for key in [key async for key in store.list_prefix(RESUME_PREFIX)]:
            await store.delete(key)

    sync(forget())
    assert _printed(_run("append", target, 0, place, "resume"), "shards") <= 1
    _assert_new(target, place)


class _Dropping(WrapperStore[Store]):
    """Fails the third shard it is asked to store, as a dropped connection would (copies share the count)."""

    def __init__(self, store: Store, box: list[int] | None = None) -> None:
        super().__init__(store)
        self.box = box if box is not None else [0]

    def _with_store(self, store: Store) -> _Dropping:
        return type(self)(store, self.box)

    async def set(self, key: str, value: Buffer) -> None:
        if key.startswith("acquisition/movie/data/c/"):
            self.box[0] += 1
            if self.box[0] == 3:
                raise ConnectionResetError(f"{key}: connection reset by peer")
        await self._store.set(key, value)


def test_a_dropped_connection_keeps_the_append_for_its_resume(tmp_path: Path) -> None:
    """In the same process: the failed append is not rolled back but kept, and resume=True finishes it."""
    place = local_place(tmp_path, "dropped")
    target = _prepared(place)
    dropping = _Dropping(make_store(target, read_only=False))
    with pytest.raises(OSError, match="connection reset"), NWBZarrIO(dropping, "a") as io:
        series = io.read().acquisition["movie"]
        assert isinstance(series, TimeSeries)
        io.append_frames(series, new_frames(), timestamps=new_stamps())
    manifest = read_manifest(make_store(target, read_only=True))
    assert manifest is not None and manifest["state"] == "appending" and manifest["resume"]["kind"] == "append"
    np.testing.assert_array_equal(_movie(target, place)[0], old_frames())  # readers see the last complete state
    with NWBZarrIO(target, "a") as io:
        series = io.read().acquisition["movie"]
        assert isinstance(series, TimeSeries)
        io.append_frames(series, new_frames(), timestamps=new_stamps(), resume=True)
    _assert_new(target, place)
