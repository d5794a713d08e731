"""``convert --resume`` (issue 18): a conversion killed at any point continues where it stopped.

Each conversion runs in a process of its own (tests/storage/resume_writer.py) that SIGKILLs itself just
before a chosen store change, on local disk and on the S3 test server. The resumed run must finish,
verify, hold every value of the source, and make fewer store changes than a fresh conversion (what
was recorded is kept). A changed source or changed options are refused, and the refusal leaves the
partial copy exactly as it was.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from zarr.abc.store import Store
from zarr.core.buffer import Buffer
from zarr.storage import WrapperStore

from nwbzarr import NWBHDF5IO, verify
from nwbzarr.abc.array import LazyArray
from nwbzarr.backends.open import open_backend
from nwbzarr.backends.zarr_v3.lock import write_lock
from nwbzarr.backends.zarr_v3.manifest import RESUME_PREFIX, read_manifest
from nwbzarr.errors import IncompleteStoreError, ResumeRefusedError, StoreLockedError
from nwbzarr.model import TimeSeries
from nwbzarr.operations.convert import convert
from nwbzarr.storage import make_store
from nwbzarr.testing.killswitch import KillSwitchStore
from nwbzarr.testing.s3server import S3TestServer
from nwbzarr.testing.tutorial import build_tutorial_file
from nwbzarr.tree.nodes import Dataset, walk

sys.path.insert(0, str(Path(__file__).parent))
from interrupted_writer import same_ids
from places import Place, local_place, s3_place, stored_objects
from resume_writer import shrink_policy

_DRIVER = Path(__file__).with_name("resume_writer.py")


@pytest.fixture(params=["local", "s3"])
def place(request: pytest.FixtureRequest, tmp_path: Path) -> Place:
    if request.param == "local":
        return local_place(tmp_path, "copy")
    server: S3TestServer = request.getfixturevalue("s3_server")
    return s3_place(server.storage_options(), "resume")


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An NWB HDF5 file with a movie that the shrunk policy writes in 7 shards (and smaller arrays)."""
    nwbfile = build_tutorial_file(frames=24, size=16, seed=5)
    movie = (np.arange(105 * 32 * 32, dtype=np.uint32) * 2654435761 % 65521).astype(np.uint16).reshape(105, 32, 32)
    nwbfile.add_acquisition(TimeSeries(name="movie", data=movie, unit="n", rate=10.0))
    same_ids(nwbfile, 5)
    path = tmp_path_factory.mktemp("resume") / "session.nwb"
    with NWBHDF5IO(path, "w") as io:
        io.write(nwbfile)
    return path


@pytest.fixture
def policy_shrunk() -> Iterator[None]:
    """The driver's shrunk layout policy in this process too (for in-process conversions)."""
    from nwbzarr.backends.zarr_v3 import resume
    from nwbzarr.writing import policy

    saved = policy.SINGLE_CHUNK_BYTES, policy.SHARD_MIN_BYTES, policy.SHARD_BYTES, resume.EVERY
    shrink_policy()
    yield
    policy.SINGLE_CHUNK_BYTES, policy.SHARD_MIN_BYTES, policy.SHARD_BYTES, resume.EVERY = saved


def _run(source: Path, target: str, at: int | str, place: Place, *flags: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, str(_DRIVER), str(source), target, str(at), json.dumps(place.options), *flags]
    return subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)


def _changes(done: subprocess.CompletedProcess[str]) -> int:
    assert done.returncode == 0, done.stderr[-3000:]
    return int(next(line for line in done.stdout.splitlines() if line.startswith("changes")).split()[1])


def _told(done: subprocess.CompletedProcess[str]) -> list[str]:
    told: list[str] = json.loads(next(line for line in done.stdout.splitlines() if line.startswith("told"))[5:])
    return told


def _values(target: str | Path, options: dict[str, Any] | None) -> dict[str, Any]:
    """Every dataset's values by path (numbers as arrays, the rest as lists)."""
    backend = open_backend(target, mode="r", storage_options=options)
    try:
        found: dict[str, Any] = {}
        for path, node in walk(backend.read_tree()):
            if isinstance(node, Dataset) and not path.startswith("/specifications"):
                data = node.data.read() if isinstance(node.data, LazyArray) else node.data
                found[path] = np.asarray(data)
        return found
    finally:
        backend.close()


def _assert_same(ours: dict[str, Any], theirs: dict[str, Any]) -> None:
    assert ours.keys() == theirs.keys()
    for path, value in theirs.items():
        if value.dtype.kind in "biufc":
            np.testing.assert_array_equal(ours[path], value, err_msg=path)
        else:
            assert ours[path].tolist() == value.tolist(), path


def _objects(target: str, options: dict[str, Any] | None) -> dict[str, bytes]:
    """Every object of the store and its bytes (what a refused resume must leave as it was)."""
    return stored_objects(target, options)


@pytest.fixture(scope="module")
def fresh_changes(source: Path, tmp_path_factory: pytest.TempPathFactory) -> int:
    """Store changes of a whole fresh conversion (local; S3 makes the same changes)."""
    target = tmp_path_factory.mktemp("fresh") / "fresh.nwb.zarr"
    return _changes(_run(source, str(target), 0, Place("local", None, str)))


@pytest.mark.parametrize("fraction", [0.15, 0.5, 0.85, "commit"])
def test_a_killed_conversion_resumes_verifies_and_reads_equal(
    fraction: float | str, source: Path, place: Place, fresh_changes: int
) -> None:
    if place.kind == "s3" and fraction in (0.15, 0.85):
        pytest.skip("on S3 the middle and the commit stand for the rest (local disk covers every point)")
    target = place.make_target()
    at: int | str = "nwbzarr.json:3" if fraction == "commit" else max(2, int(fresh_changes * float(fraction)))
    killed = _run(source, target, at, place)
    assert killed.returncode == -9, killed.stderr[-3000:]
    with pytest.raises(IncompleteStoreError, match="--resume") if fraction != "commit" else _no_error():
        open_backend(target, mode="r", storage_options=place.options).read_tree()
    resumed = _run(source, target, 0, place, "resume")
    changes = _changes(resumed)
    if fraction == "commit":  # killed before the manifest said "complete": the commit is finished, nothing written
        assert changes < 10, changes
        assert "complete already" in " ".join(_told(resumed))
    else:
        assert "resumed: kept" in " ".join(_told(resumed))
        if float(fraction) >= 0.5:  # what was recorded is not written again
            assert changes < fresh_changes, (changes, fresh_changes)
    assert verify(target, storage_options=place.options).ok
    manifest = read_manifest(make_store(target, read_only=True, storage_options=place.options))
    assert manifest is not None and manifest["state"] == "complete"
    assert not [key for key in _objects(target, place.options) if key.startswith(RESUME_PREFIX)]
    _assert_same(_values(target, place.options), _values(source, None))


class _no_error:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def test_a_resume_keeps_most_of_a_half_done_copy(source: Path, tmp_path: Path, fresh_changes: int) -> None:
    """Killed at half, the resumed run makes well under the fresh run's changes (kept shards are not re-sent)."""
    target = str(tmp_path / "half.nwb.zarr")
    assert _run(source, target, fresh_changes // 2, Place("local", None, str)).returncode == -9
    changes = _changes(_run(source, target, 0, Place("local", None, str), "resume"))
    assert changes <= 0.85 * fresh_changes, (changes, fresh_changes)


def test_a_changed_source_is_refused_and_nothing_is_lost(
    source: Path, place: Place, fresh_changes: int, tmp_path: Path
) -> None:
    copy = tmp_path / "changing.nwb"
    copy.write_bytes(source.read_bytes())
    target = place.make_target()
    assert _run(copy, target, fresh_changes // 2, place).returncode == -9
    before = _objects(target, place.options)
    stat = copy.stat()
    os.utime(copy, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    refused = _run(copy, target, 0, place, "resume")
    assert refused.returncode != 0 and "ResumeRefusedError" in refused.stderr, refused.stderr[-2000:]
    assert "the source changed since the first attempt" in refused.stderr and "mtime_ns" in refused.stderr
    assert _objects(target, place.options) == before
    os.utime(copy, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # the same file again: the resume goes through
    _changes(_run(copy, target, 0, place, "resume"))
    assert verify(target, storage_options=place.options).ok


@pytest.mark.parametrize("flag", ["chunks=5,16,16", "compression=lz4"])
def test_changed_options_are_refused_and_nothing_is_lost(
    flag: str, source: Path, place: Place, fresh_changes: int
) -> None:
    target = place.make_target()
    assert _run(source, target, fresh_changes // 2, place).returncode == -9
    before = _objects(target, place.options)
    refused = _run(source, target, 0, place, "resume", flag)
    assert refused.returncode != 0 and "ResumeRefusedError" in refused.stderr, refused.stderr[-2000:]
    assert "the options differ" in refused.stderr and flag.split("=", maxsplit=1)[0] in refused.stderr
    assert _objects(target, place.options) == before


def test_resume_on_nothing_converts(source: Path, tmp_path: Path, policy_shrunk: None) -> None:
    target = tmp_path / "new.nwb.zarr"
    report = convert(source, target, resume=True)
    assert report is not None and report.ok
    _assert_same(_values(target, None), _values(source, None))


def test_resume_of_a_complete_copy_writes_nothing(source: Path, tmp_path: Path, policy_shrunk: None) -> None:
    target = tmp_path / "done.nwb.zarr"
    convert(source, target)
    told: list[str] = []
    counted = KillSwitchStore(make_store(target, read_only=False))
    report = convert(source, counted, dst_format="zarr", resume=True, explain=told.append)
    assert report is not None and report.ok
    assert counted.changes == 0
    assert any("complete already" in line for line in told)
    os.utime(source, ns=(source.stat().st_atime_ns, source.stat().st_mtime_ns))  # unchanged: still the same
    with pytest.raises(ResumeRefusedError, match="options differ"):
        convert(source, target, compression="lz4", resume=True)


def test_resume_and_overwrite_exclude_each_other(source: Path, tmp_path: Path) -> None:
    with pytest.raises(Exception, match="not both"):
        convert(source, tmp_path / "x.nwb.zarr", resume=True, overwrite=True)


def test_a_resume_takes_the_writer_lock(source: Path, tmp_path: Path, fresh_changes: int) -> None:
    """A resumed run never writes while another writer holds the store."""
    target = str(tmp_path / "locked.nwb.zarr")
    assert _run(source, target, fresh_changes // 2, Place("local", None, str)).returncode == -9
    store = make_store(target, read_only=False)
    before = _objects(target, None)
    with write_lock(store, target), pytest.raises(StoreLockedError):  # a live writer (this process) holds it
        convert(source, target, resume=True)
    assert _objects(target, None) == before


class _DroppingStore(WrapperStore[Store]):
    """Raises ConnectionError (a dropped connection) at its n-th set, as a flaky network would."""

    def __init__(self, store: Store, at: int, seen: list[int] | None = None) -> None:
        super().__init__(store)
        self.at, self.seen = at, seen if seen is not None else [0]

    def _with_store(self, store: Store) -> _DroppingStore:
        return type(self)(store, self.at, self.seen)

    async def set(self, key: str, value: Buffer) -> None:
        self.seen[0] += 1
        if self.seen[0] == self.at:
            raise ConnectionError(f"connection dropped while storing {key}")
        await self._store.set(key, value)


def test_a_dropped_connection_keeps_the_partial_copy_for_resume(
    source: Path, tmp_path: Path, policy_shrunk: None
) -> None:
    target = tmp_path / "dropped.nwb.zarr"
    with pytest.raises(ConnectionError):
        convert(source, _DroppingStore(make_store(target, read_only=False), at=120), dst_format="zarr")
    kept = _objects(str(target), None)
    assert any(key.startswith(RESUME_PREFIX) for key in kept) and len(kept) > 50  # not undone: resumable
    told: list[str] = []
    report = convert(source, target, resume=True, explain=told.append)
    assert report is not None and report.ok and any("resumed: kept" in line for line in told)
    _assert_same(_values(target, None), _values(source, None))


def test_the_cli_resumes_and_says_a_copy_is_complete(
    source: Path, tmp_path: Path, policy_shrunk: None, capsys: pytest.CaptureFixture[str]
) -> None:
    from nwbzarr.cli import main

    target = str(tmp_path / "cli.nwb.zarr")
    assert main(["convert", str(source), target, "--resume", "--quiet"]) == 0  # nothing there: converts
    assert main(["convert", str(source), target, "--resume", "--quiet"]) == 0
    assert "complete already" in capsys.readouterr().err
