"""Failure paths never delete, zero or hide data (issue 21): refused writers, failed writes, lost objects.

Every test works on a real store written by nwbzarr and damages or contends for it the way the issue's
campaign did; what must hold is in each test's name.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nwbzarr import NWBZarrIO, verify
from nwbzarr.backends.zarr_v3.lock import LOCK_KEY, TAKEOVER_KEY, create_exclusive, delete_if_same, write_lock
from nwbzarr.errors import IncompleteStoreError, InvalidStoreError, StoreLockedError, UnsafeDataError
from nwbzarr.model import NWBFile, TimeSeries
from nwbzarr.storage import make_store
from nwbzarr.testing.tutorial import build_tutorial_file
from nwbzarr.writing.dataio import DataIO

MOVIE = np.arange(28 * 8 * 8, dtype=np.uint16).reshape(28, 8, 8) * 7


def small_file() -> NWBFile:
    nwbfile = build_tutorial_file(frames=12, size=8, seed=2)
    assert isinstance(nwbfile, NWBFile)
    # shards of 8 frames in 2-frame chunks, the last one half full (an append updates it); every shard's
    # chunks compress to other sizes, so every shard's index differs
    nwbfile.add_acquisition(
        TimeSeries(name="movie", data=DataIO(MOVIE, chunks=(2, 8, 8), shards=(8, 8, 8)), unit="n", rate=10.0)
    )
    # one chunk each, longer than the series: an append reads and updates it
    data, stamps = DataIO(np.arange(40.0).reshape(20, 2), chunks=(32, 2)), DataIO(np.arange(20.0), chunks=(32,))
    nwbfile.add_acquisition(TimeSeries(name="stamped", data=data, unit="V", timestamps=stamps))
    return nwbfile


@pytest.fixture
def stored(tmp_path: Path) -> Path:
    path = tmp_path / "s.nwb.zarr"
    with NWBZarrIO(path, "w") as io:
        io.write(small_file())
    return path


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def foreign_lock(root: Path, pid: int) -> bytes:
    """A lock record of another writer (process ``pid`` on this machine)."""
    record = {"id": uuid.uuid4().hex, "pid": pid, "host": socket.gethostname(), "since": "2026-01-01T00:00:00"}
    data = json.dumps(record).encode()
    (root / LOCK_KEY).write_bytes(data)
    return data


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def manifest(root: Path) -> dict[str, Any]:
    value: dict[str, Any] = json.loads((root / "nwbzarr.json").read_text())
    return value


# --- refused writers change nothing -------------------------------------------------------------


@pytest.mark.parametrize("mode", ["w", "a"])
def test_a_refused_writer_changes_nothing(stored: Path, mode: str) -> None:
    lock = foreign_lock(stored, os.getppid())  # a live process holds the store
    before = snapshot(stored)
    with NWBZarrIO(stored, mode) as io, pytest.raises(StoreLockedError, match="being written by process"):
        io.write(small_file() if mode == "w" else io.read())
    assert snapshot(stored) == before
    assert (stored / LOCK_KEY).read_bytes() == lock


def test_a_refused_append_frames_changes_nothing(stored: Path) -> None:
    with NWBZarrIO(stored, "a") as io:
        series = io.read().acquisition["movie"]
        foreign_lock(stored, os.getppid())
        before = snapshot(stored)
        with pytest.raises(StoreLockedError):
            io.append_frames(series, MOVIE[:3])  # type: ignore[arg-type]
    assert snapshot(stored) == before


def test_mode_a_on_nothing_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="no NWB Zarr store"):
        NWBZarrIO(tmp_path / "absent.nwb.zarr", "a")
    assert not (tmp_path / "absent.nwb.zarr").exists()


# --- failed writes undo only their own attempt ----------------------------------------------------


class Exploding:
    """Frames that fail after the writer has started storing (a camera that disconnects)."""

    shape = (16, 8, 8)
    dtype = np.dtype("uint16")
    ndim = 3

    def __len__(self) -> int:
        return 16

    def __getitem__(self, key: object) -> np.ndarray:
        raise OSError("camera disconnected")


def exploding_file() -> NWBFile:
    nwbfile = small_file()
    nwbfile.add_acquisition(TimeSeries(name="live", data=Exploding(), unit="n", rate=1.0))
    return nwbfile


def test_a_failed_overwrite_leaves_an_incomplete_store_not_a_mix(stored: Path) -> None:
    with pytest.raises(Exception, match="camera disconnected"), NWBZarrIO(stored, "w") as io:
        io.write(exploding_file())
    assert sorted(p.name for p in stored.iterdir()) == ["nwbzarr.json"]  # no lock, no half-written objects
    assert manifest(stored)["state"] == "writing"
    with pytest.raises(IncompleteStoreError, match="never finished"), NWBZarrIO(stored, "r") as io:
        io.read()
    with NWBZarrIO(stored, "w") as io:  # and it can be written again
        io.write(small_file())
    assert verify(stored).ok


def test_a_failed_append_is_rolled_back_at_once(stored: Path) -> None:
    before = snapshot(stored)
    with NWBZarrIO(stored, "a") as io, pytest.raises(Exception, match="camera disconnected"):
        nwbfile = io.read()
        nwbfile.add_acquisition(TimeSeries(name="live", data=Exploding(), unit="n", rate=1.0))
        io.write(nwbfile)
    after = snapshot(stored)
    assert {k: v for k, v in after.items() if k != "nwbzarr.json"} == {
        k: v for k, v in before.items() if k != "nwbzarr.json"
    }
    assert manifest(stored)["state"] == "complete"
    assert verify(stored).ok


# --- the lock: exclusive takeover, removed only by its holder -------------------------------------


def test_a_stale_lock_is_taken_over_and_removed(stored: Path) -> None:
    foreign_lock(stored, dead_pid())
    with NWBZarrIO(stored, "a") as io:
        nwbfile = io.read()
        nwbfile.add_acquisition(TimeSeries(name="more", data=np.ones(5), unit="V", rate=1.0))
        io.write(nwbfile)
    assert not (stored / LOCK_KEY).exists() and not (stored / TAKEOVER_KEY).exists()
    assert verify(stored).ok


def test_a_writer_never_removes_a_lock_it_does_not_hold(stored: Path) -> None:
    store = make_store(stored, read_only=False)
    with write_lock(store, "s"):
        other = foreign_lock(stored, os.getppid())  # (what a wrong takeover elsewhere would do)
    assert (stored / LOCK_KEY).read_bytes() == other


def test_lock_primitives_are_compare_and_swap(tmp_path: Path) -> None:
    store = make_store(tmp_path / "s", read_only=False)
    assert create_exclusive(store, "k", b"one") and not create_exclusive(store, "k", b"two")
    assert not delete_if_same(store, "k", b"two") and (tmp_path / "s" / "k").read_bytes() == b"one"
    assert delete_if_same(store, "k", b"one") and not (tmp_path / "s" / "k").exists()
    assert not delete_if_same(store, "k", b"one")
    assert sorted(p.name for p in (tmp_path / "s").iterdir()) == []  # no temporary files left


def test_a_takeover_claimed_by_a_live_taker_is_respected(stored: Path) -> None:
    foreign_lock(stored, dead_pid())
    (stored / TAKEOVER_KEY).write_text(json.dumps({"id": "x", "pid": os.getppid(), "host": socket.gethostname()}))
    before = snapshot(stored)
    with NWBZarrIO(stored, "a") as io, pytest.raises(StoreLockedError):
        io.write(io.read())
    assert snapshot(stored) == before


# --- lost objects are errors in every mode, never zeros, never rewritten -------------------------

LOST = {
    "shard": "acquisition/movie/data/c/0/0/0",
    "chunk": "acquisition/stamped/data/c/0/0",
    "timestamps": "acquisition/stamped/timestamps/c/0",
}


@pytest.mark.parametrize("what", sorted(LOST))
@pytest.mark.parametrize("mode", ["r", "a"])
def test_a_lost_object_reads_as_an_error_in_every_mode(stored: Path, what: str, mode: str) -> None:
    (stored / LOST[what]).unlink()
    name, field = ("movie", "data") if what == "shard" else ("stamped", "data" if what == "chunk" else "timestamps")
    with NWBZarrIO(stored, mode) as io:
        series = io.read().acquisition[name]
        with pytest.raises(IncompleteStoreError, match=LOST[what]):
            np.asarray(getattr(series, field)[0:2])


def test_a_lost_object_reads_as_an_error_after_an_interrupted_append(stored: Path) -> None:
    record = manifest(stored)
    (stored / "nwbzarr.json").write_text(json.dumps({**record, "state": "appending"}))  # killed mid-append
    (stored / LOST["chunk"]).unlink()
    with NWBZarrIO(stored, "r") as io, pytest.raises(IncompleteStoreError, match=LOST["chunk"]):
        np.asarray(io.read().acquisition["stamped"].data[:])


@pytest.mark.parametrize("what", sorted(LOST))
def test_append_frames_refuses_to_rewrite_a_lost_object_from_fill_values(stored: Path, what: str) -> None:
    lost = LOST[what].replace("c/0/0/0", "c/3/0/0")  # the last, half-full shard: the one an append updates
    with NWBZarrIO(stored, "a") as io:
        series = io.read().acquisition["movie" if what == "shard" else "stamped"]
        (stored / lost).unlink()
        before, objects = snapshot(stored), manifest(stored)["objects"]
        frames, stamps = (MOVIE[:3], None) if what == "shard" else (np.zeros((3, 2)), np.arange(20.0, 23.0))
        with pytest.raises(IncompleteStoreError, match=f"{lost}: written by nwbzarr but missing now"):
            io.append_frames(series, frames, timestamps=stamps)  # type: ignore[arg-type]
    # rolled back: nothing rewritten, no new checksums committed (the manifest only got new times)
    assert {k: v for k, v in snapshot(stored).items() if k != "nwbzarr.json"} == {
        k: v for k, v in before.items() if k != "nwbzarr.json"
    }
    assert manifest(stored)["objects"] == objects and manifest(stored)["state"] == "complete"
    assert not verify(stored).ok  # and the loss is still reported


# --- damage that would read as plausible values -----------------------------------------------------


@pytest.mark.parametrize("content", [b"{}", b""])
def test_an_emptied_root_is_an_error_naming_it(stored: Path, content: bytes) -> None:
    (stored / "zarr.json").write_bytes(content)
    with pytest.raises(InvalidStoreError, match=r"zarr\.json"), NWBZarrIO(stored, "r") as io:
        io.read()


def test_an_edited_root_is_an_error_in_mode_a_too(stored: Path) -> None:
    root = (stored / "zarr.json").read_text()
    (stored / "zarr.json").write_text(root.replace('"rate": 10.0', '"rate": 20.0', 1))
    with pytest.raises(InvalidStoreError, match=r"zarr\.json: its checksum"), NWBZarrIO(stored, "a") as io:
        io.read()


def swap_shards(stored: Path) -> None:
    one, two = stored / "acquisition/movie/data/c/1/0/0", stored / "acquisition/movie/data/c/2/0/0"
    a, b = one.read_bytes(), two.read_bytes()
    one.write_bytes(b)
    two.write_bytes(a)


def test_a_swapped_shard_is_caught_on_a_whole_shard_read(stored: Path) -> None:
    swap_shards(stored)
    with NWBZarrIO(stored, "r") as io:
        data = io.read().acquisition["movie"].data
        assert np.array_equal(data[0:8], MOVIE[0:8])  # the shards in place still read
        with pytest.raises(InvalidStoreError, match=r"movie/data/c/1/0/0: (its checksum|\d+ bytes)"):
            data[8:16]


def test_a_swapped_shard_is_caught_on_a_ranged_read(stored: Path) -> None:
    swap_shards(stored)
    with NWBZarrIO(stored, "r") as io:
        data = io.read().acquisition["movie"].data
        with pytest.raises(InvalidStoreError, match=r"movie/data/c/2/0/0: the checksum of its index"):
            data[17]


def test_a_link_to_the_wrong_type_is_an_error_naming_it(stored: Path) -> None:
    from nwbzarr.backends.zarr_v3.manifest import checksum

    meta = json.loads((stored / "zarr.json").read_text())
    nodes = meta["consolidated_metadata"]["metadata"]
    group = next(k for k in nodes if k.endswith("reference_images"))
    links = nodes[group]["attributes"]["_LINKS"]
    links[0]["path"] = "/acquisition/stamped"  # a TimeSeries, not an ImageSeries
    data = json.dumps(meta).encode()
    (stored / "zarr.json").write_bytes(data)
    record = manifest(stored)
    record["objects"]["zarr.json"] = checksum(data)  # forged consistently: the decoder must catch it
    (stored / "nwbzarr.json").write_text(json.dumps(record))
    with NWBZarrIO(stored, "r") as io, pytest.raises(InvalidStoreError, match=r"reference_images.*ImageSeries"):
        io.read()


# --- clear errors instead of raw ones ---------------------------------------------------------------


def test_verify_of_a_manifest_whose_objects_is_a_list(stored: Path) -> None:
    record = manifest(stored)
    (stored / "nwbzarr.json").write_text(json.dumps({**record, "objects": list(record["objects"])}))
    with pytest.raises(InvalidStoreError, match="'objects' is a list"):
        verify(stored)


@pytest.mark.parametrize("slot", ["filters", "compressor", "object_codec"])
def test_the_v2_pickle_guard_covers_every_codec_slot(
    tmp_path: Path, slot: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nwbzarr.backends.zarr_v2.reader import V2LazyArray

    monkeypatch.setenv("NUMCODECS_ALLOW_UNSAFE", "1")  # whatever the environment says
    meta: dict[str, Any] = {"shape": [2], "chunks": [2], "dtype": "|O", "compressor": None, "filters": None}
    meta[slot] = [{"id": "pickle"}] if slot == "filters" else {"id": "pickle"}
    store = make_store(tmp_path / "v2", read_only=True)
    array = V2LazyArray(store, "/x", meta, np.dtype("O"), scalar=False, allow_pickle=False)
    assert array.pickled
    with pytest.raises(UnsafeDataError, match="pickle"):
        array[0:2]


# --- readers never wait: legitimate rewrites by an append are accepted ---------------------------------


def test_a_reader_opened_before_an_append_still_reads_what_it_saw(stored: Path) -> None:
    with NWBZarrIO(stored, "r") as reader:
        movie = reader.read().acquisition["movie"].data
        stamped = reader.read().acquisition["stamped"].data
        with NWBZarrIO(stored, "a") as writer:  # rewrites the last shard and the stamped chunk
            nwbfile = writer.read()
            writer.append_frames(nwbfile.acquisition["movie"], MOVIE[:3])  # type: ignore[arg-type]
            stamped_series = nwbfile.acquisition["stamped"]
            assert isinstance(stamped_series, TimeSeries)
            writer.append_frames(stamped_series, np.zeros((3, 2)), timestamps=np.arange(20.0, 23.0))
        assert np.array_equal(movie[:], MOVIE)
        assert np.array_equal(stamped[:], np.arange(40.0).reshape(20, 2))
    assert verify(stored).ok


def test_convert_of_an_edited_store_fails(stored: Path, tmp_path: Path) -> None:
    from nwbzarr.operations.convert import convert

    root = (stored / "zarr.json").read_text()
    (stored / "zarr.json").write_text(root.replace('"rate": 10.0', '"rate": 20.0', 1))
    with pytest.raises(InvalidStoreError, match=r"zarr\.json"):
        convert(stored, tmp_path / "copy.nwb.zarr")
    assert not (tmp_path / "copy.nwb.zarr").exists()


def test_a_shard_that_is_a_fifo_is_an_error_not_a_hang(stored: Path) -> None:
    shard = stored / LOST["shard"]
    shard.unlink()
    os.mkfifo(shard)
    script = (
        "import sys, numpy as np; from nwbzarr import NWBZarrIO\n"
        "with NWBZarrIO(sys.argv[1], 'r') as io:\n"
        "    try: np.asarray(io.read().acquisition['movie'].data[0:8])\n"
        "    except Exception as exc: print(type(exc).__name__, exc)\n"
    )
    # in a child process: a reader that opened the FIFO would block forever, and the timeout would say so
    done = subprocess.run([sys.executable, "-c", script, str(stored)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Error" in done.stdout and "c/0/0/0" in done.stdout, done.stdout
