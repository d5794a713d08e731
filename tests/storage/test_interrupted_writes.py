"""A writer SIGKILLed at many points never leaves a store that passes for complete (issue 6).

Each operation runs in a real subprocess through a KillSwitchStore that kills the process just before
its n-th store change. For points spread from the first change (the lock) to the last (removing the
lock), on local disk and on the S3 test server, a reader must find a legal state, never a mix:

- ``write``/``convert`` to a new store, ``overwrite`` of an existing one: an IncompleteStoreError that says
  how to resume or remove the store, or the old file (killed before the old content was touched), or
  the new file complete;
- ``append`` (a new series) and ``append_frames`` (mode 'a'): the last complete state, or the new one.

``verify`` agrees with the reader, and the operation run again afterwards finishes and verifies.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nwbzarr import NWBHDF5IO, NWBZarrIO, verify
from nwbzarr.backends.zarr_v3.manifest import read_manifest
from nwbzarr.errors import IncompleteStoreError, StoreNotFoundError
from nwbzarr.model import NWBFile, TwoPhotonSeries
from nwbzarr.operations.convert import convert
from nwbzarr.storage import make_store
from nwbzarr.testing.s3server import S3TestServer
from nwbzarr.testing.tutorial import build_tutorial_file

sys.path.insert(0, str(Path(__file__).parent))
from interrupted_writer import extra_series, new_frames, same_ids, written_file

_DRIVER = Path(__file__).with_name("interrupted_writer.py")
_names = itertools.count()
OPERATIONS = ["write", "overwrite", "convert", "append", "append_frames"]


def old_file() -> NWBFile:
    nwbfile = build_tutorial_file(frames=12, size=16, seed=1)
    assert isinstance(nwbfile, NWBFile)
    same_ids(nwbfile, 1)
    return nwbfile


@dataclass
class Place:
    """Where the stores of one storage kind go."""

    kind: str
    options: dict[str, Any] | None
    make_target: Callable[[str], str]


@pytest.fixture(params=["local", "s3"])
def place(request: pytest.FixtureRequest, tmp_path: Path) -> Place:
    if request.param == "local":
        return Place("local", None, lambda name: str(tmp_path / f"{name}.nwb.zarr"))
    server: S3TestServer = request.getfixturevalue("s3_server")
    return Place("s3", server.storage_options(), lambda name: f"s3://lab/killed-{next(_names)}-{name}.nwb.zarr")


def _run(op: str, target: str, at: int | str, place: Place, source: Path | None) -> subprocess.CompletedProcess[str]:
    driver_op = "write" if op == "overwrite" else op  # the same write, over an existing store
    argv = [sys.executable, str(_DRIVER), driver_op, target, str(at), json.dumps(place.options)]
    if source is not None:
        argv.append(str(source))
    # a crash of the writer (not the kill it is told to die by) shows its Python stacks in stderr
    env = {**os.environ, "PYTHONFAULTHANDLER": "1"}
    return subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False, env=env)


def _prepare(op: str, target: str, place: Place, template: str | None = None) -> None:
    """The state before the operation: nothing, or a complete store holding old_file() (a copy of
    ``template`` if given: copying the objects is much faster than writing the file again)."""
    if op in ("write", "convert"):
        return
    if template is None:
        with NWBZarrIO(target, "w", storage_options=place.options) as io:
            io.write(old_file())
    elif place.kind == "local":
        shutil.copytree(template, target)
    else:
        import fsspec

        fs = fsspec.filesystem("s3", **(place.options or {}))
        fs.copy(template.removeprefix("s3://"), target.removeprefix("s3://"), recursive=True)


def _kind(step: list[str]) -> tuple[str, str]:
    """What a store change is: the lock, the manifest, the root metadata, the journal, or data (set or delete)."""
    op, key = step
    if key in ("nwbzarr.lock", "nwbzarr.json", "zarr.json"):
        return op, key
    return op, "journal" if key.startswith("nwbzarr.journal") else "data"


def _points(steps: list[list[str]]) -> list[int]:
    """One kill point before every distinct step: the first change of each run of changes of one kind
    (the lock, each manifest state, the first deletion of the old content, the first chunk, the root, the
    journal, the unlock), the middle of each longer run, and the last change. Points inside a run of
    chunk writes differ only by how many chunks are there, so one in the middle stands for them all."""
    points: set[int] = {len(steps)}
    start = 0
    for i in range(1, len(steps) + 1):
        if i == len(steps) or _kind(steps[i]) != _kind(steps[start]):
            points.add(start + 1)
            if i - start >= 3:
                points.add(start + 1 + (i - start) // 2)
            start = i
    return sorted(points)


def _few_points(changes: int) -> list[int]:
    """On S3 (slower to set up): the lock, the middle, and the commit's last steps."""
    return sorted({2, changes // 2, changes - 3, changes - 1})


def _movie(nwbfile: NWBFile) -> np.ndarray:
    series = nwbfile.acquisition["TwoPhotonSeries1"]
    assert isinstance(series, TwoPhotonSeries)
    return np.asarray(series.data[:])


def _state(op: str, target: str, place: Place) -> str:
    """Name the state a reader finds; fail on anything that is not a legal state."""
    try:
        with NWBZarrIO(target, "r", storage_options=place.options) as io:
            found = io.read()
            if op in ("write", "convert") or (op == "overwrite" and found != old_file()):
                assert found == written_file(), "reads as complete but differs from what was written"
                return "new"
            if op == "append" and "extra" in found.acquisition:
                assert found.acquisition["extra"] == extra_series()
                old = old_file()
                assert set(found.acquisition) == {*old.acquisition, "extra"}
                assert all(found.acquisition[name] == old.acquisition[name] for name in old.acquisition)
                assert found.processing == old.processing, "the append changed what was there"
                return "new"
            if op == "append_frames" and len(_movie(found)) != len(_movie(old_file())):
                assert np.array_equal(_movie(found), np.concatenate([_movie(old_file()), new_frames()]))
                return "new"
            assert found == old_file(), "neither the old state nor the new one"
            return "old"
    except IncompleteStoreError as exc:
        assert op in ("write", "convert", "overwrite"), f"an interrupted {op} must leave the last complete state"
        assert "mode 'w'" in str(exc) and "delete the store" in str(exc), exc
        return "incomplete"
    except StoreNotFoundError:
        assert op in ("write", "convert"), "a killed writer removed an existing store"
        return "absent"


def _check_verify(state: str, target: str, place: Place) -> None:
    if state == "absent":
        return
    report = verify(target, storage_options=place.options)
    if state == "incomplete":
        assert not report.ok and "never finished" in report.problems[0]
    elif not report.ok:  # a legal state whose writer died before it recorded the end (or an interrupted append)
        assert any("never finished" in p for p in report.problems), report.problems


def _resume(op: str, target: str, place: Place, source: Path) -> None:
    """Running the operation again after the kill finishes and verifies."""
    if op == "convert":
        convert(source, target, overwrite=True, dst_storage_options=place.options)
    elif op in ("write", "overwrite"):
        with NWBZarrIO(target, "w", storage_options=place.options) as io:
            io.write(written_file())
    elif op == "append":
        with NWBZarrIO(target, "a", storage_options=place.options) as io:
            nwbfile = io.read()
            if "extra" not in nwbfile.acquisition:
                nwbfile.add_acquisition(extra_series())
                io.write(nwbfile)
    else:
        with NWBZarrIO(target, "a", storage_options=place.options) as io:
            series = io.read().acquisition["TwoPhotonSeries1"]
            if len(series.data) == len(_movie(old_file())):
                io.append_frames(series, new_frames())  # type: ignore[arg-type]
    assert _state(op, target, place) == "new"
    assert verify(target, storage_options=place.options).ok


@pytest.mark.parametrize("op", OPERATIONS)
def test_a_writer_killed_at_any_point_leaves_a_legal_state(op: str, place: Place, tmp_path: Path) -> None:
    if place.kind == "s3" and op == "write":
        pytest.skip("covered by overwrite and convert on S3 (a new S3 store differs only by its absent root)")
    source = tmp_path / "source.nwb"
    with NWBHDF5IO(source, "w") as io:
        io.write(written_file())
    counting = place.make_target(f"{op}-count")
    template = place.make_target(f"{op}-template")
    _prepare(op, template, place)
    _prepare(op, counting, place, template)
    done = _run(op, counting, 0, place, source if op == "convert" else None)
    assert done.returncode == 0, done.stderr
    changes = int(done.stdout.split()[-1])
    steps = json.loads(done.stdout.partition("steps ")[2].partition("\n")[0])
    assert len(steps) == changes
    assert _state(op, counting, place) == "new"

    points = _points(steps) if place.kind == "local" else _few_points(changes)
    targets = {at: place.make_target(f"{op}-{at}") for at in points}
    for target in targets.values():
        _prepare(op, target, place, template)
    with ThreadPoolExecutor(2) as pool:  # two killed writers at a time: one per core
        runs = dict(
            zip(
                points,
                pool.map(lambda at: _run(op, targets[at], at, place, source if op == "convert" else None), points),
                strict=True,
            )
        )
    seen: dict[int, str] = {}
    for at, run in runs.items():
        assert run.returncode == -9, f"kill point {at}/{changes}: exited {run.returncode}: {run.stderr[-2000:]}"
        seen[at] = _state(op, targets[at], place)
        _check_verify(seen[at], targets[at], place)
    for target in list(targets.values())[1 :: max(1, len(targets) // 2)]:  # resume some of them
        _resume(op, target, place, source)
    # the walk crossed the interesting states, not only one of them
    expected = {"write": {"incomplete"}, "convert": {"incomplete"}, "overwrite": {"old", "incomplete"}}
    assert expected.get(op, {"old"}) <= set(seen.values()), seen
    print(f"{place.kind} {op}: {changes} changes; states after kills: {seen}")


def test_a_killed_append_never_surfaces_through_a_later_different_append(place: Place) -> None:
    """Frames half-appended by a killed writer stay invisible when the next append adds something else."""
    target = place.make_target("mixed")
    _prepare("append_frames", target, place)
    run = _run("append_frames", target, "nwbzarr.json:2", place, None)  # after the new frames, before the commit
    assert run.returncode == -9, run.stderr
    manifest = read_manifest(make_store(target, read_only=True, storage_options=place.options))
    assert manifest is not None and manifest["state"] == "appending"  # the point is still before the commit
    with NWBZarrIO(target, "a", storage_options=place.options) as io:
        nwbfile = io.read()
        nwbfile.add_acquisition(extra_series())
        io.write(nwbfile)
    with NWBZarrIO(target, "r", storage_options=place.options) as io:
        found = io.read()
        assert np.array_equal(_movie(found), _movie(old_file()))
        assert found.acquisition["extra"] == extra_series()
    report = verify(target, storage_options=place.options)
    assert report.ok, report.problems
