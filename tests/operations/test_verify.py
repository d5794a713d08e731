"""Interrupted writes never pass for complete files; verify finds damaged and incomplete stores."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from nwbzarr import NWBZarrIO
from nwbzarr.errors import IncompleteStoreError
from nwbzarr.model import NWBFile
from nwbzarr.operations.verify import verify

# a writer whose movie source is slow, so the test can kill it in the middle of the data
_SLOW_WRITER = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    from nwbzarr import DataIO, NWBZarrIO
    from nwbzarr.model import TimeSeries
    from nwbzarr.testing.tutorial import build_tutorial_file

    class Slow:
        shape, dtype, ndim = (400, 64, 64), np.dtype("uint16"), 3
        def __len__(self): return 400
        def __getitem__(self, key):
            time.sleep(0.05)
            return np.full(self.shape, 7, dtype=self.dtype)[key]

    path, mode = sys.argv[1], sys.argv[2]
    with NWBZarrIO(path, mode) as io:
        nwbfile = io.read() if mode == "a" else build_tutorial_file(frames=20, size=16)
        nwbfile.add_acquisition(TimeSeries(name="slow", data=DataIO(Slow(), chunks=(4, 64, 64)), unit="n", rate=1.0))
        print("writing", flush=True)
        io.write(nwbfile)
    """
)


def _start_and_kill(path: Path, mode: str) -> None:
    proc = subprocess.Popen([sys.executable, "-c", _SLOW_WRITER, str(path), mode], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "writing"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait until data chunks are being written, then kill
        if any((path / "acquisition" / "slow" / "data").rglob("c/*")):
            break
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


def test_a_killed_write_reads_as_incomplete(store_path: Path) -> None:
    _start_and_kill(store_path, "w")
    assert json.loads((store_path / "nwbzarr.json").read_text())["state"] == "writing"
    with pytest.raises(IncompleteStoreError, match="never finished") as info, NWBZarrIO(store_path, "r") as io:
        io.read()
    assert "mode 'w'" in str(info.value)
    report = verify(store_path)
    assert not report.ok and "never finished" in report.problems[0]


def test_a_killed_append_keeps_the_last_complete_state(tutorial_file: NWBFile, store_path: Path) -> None:
    with NWBZarrIO(store_path, "w") as io:
        io.write(tutorial_file)
    _start_and_kill(store_path, "a")
    with NWBZarrIO(store_path, "r") as io:
        after = io.read()
    assert after == tutorial_file  # the half-written series is not visible
    # a later append succeeds over the leftovers
    from nwbzarr.model import TimeSeries

    with NWBZarrIO(store_path, "a") as io:
        nwbfile = io.read()
        nwbfile.add_acquisition(TimeSeries(name="slow", data=np.ones(3), unit="n", rate=1.0))
        io.write(nwbfile)
    with NWBZarrIO(store_path, "r") as io:
        assert np.array_equal(io.read().acquisition["slow"].data[:], np.ones(3))  # type: ignore[attr-defined]
    assert verify(store_path).ok


def test_verify_detects_corruption_and_missing_objects(tutorial_file: NWBFile, store_path: Path) -> None:
    with NWBZarrIO(store_path, "w") as io:
        io.write(tutorial_file)
    report = verify(store_path)
    assert report.ok and report.objects_checked > 50 and report.arrays_checked > 20
    chunk = next((store_path / "acquisition/TwoPhotonSeries1/data").rglob("c/*/*/*"))
    data = bytearray(chunk.read_bytes())
    data[len(data) // 2] ^= 0xFF
    chunk.write_bytes(bytes(data))
    (store_path / "processing/ophys/Fluorescence/RoiResponseSeries/data/c/0/0").unlink()
    problems = verify(store_path).problems
    assert any("checksum mismatch" in p for p in problems)
    assert any(p.endswith("RoiResponseSeries/data/c/0/0: missing") for p in problems)


def test_verify_cli_json(tutorial_file: NWBFile, store_path: Path) -> None:
    with NWBZarrIO(store_path, "w") as io:
        io.write(tutorial_file)
    result = subprocess.run(
        [sys.executable, "-m", "nwbzarr", "verify", "--json", str(store_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["ok"] is True


def test_a_second_writer_is_refused_not_interleaved(tutorial_file: NWBFile, store_path: Path) -> None:
    from nwbzarr.errors import StoreLockedError

    with NWBZarrIO(store_path, "w") as io:
        io.write(tutorial_file)
    proc = subprocess.Popen(
        [sys.executable, "-c", _SLOW_WRITER, str(store_path), "a"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "writing"
        deadline = time.monotonic() + 60
        while not (store_path / "nwbzarr.lock").exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        from nwbzarr.model import TimeSeries

        with NWBZarrIO(store_path, "a") as io:
            nwbfile = io.read()  # readers are never blocked: they see the last complete state
            assert nwbfile == tutorial_file
            nwbfile.add_acquisition(TimeSeries(name="other", data=np.ones(2), unit="n", rate=1.0))
            with pytest.raises(StoreLockedError, match="is being written by process"):
                io.write(nwbfile)
    finally:
        proc.wait(timeout=120)
    assert not (store_path / "nwbzarr.lock").exists()
    with NWBZarrIO(store_path) as io:
        back = io.read()
    assert "slow" in back.acquisition and "other" not in back.acquisition
    assert verify(store_path).ok


def test_mode_r_never_writes(tutorial_file: NWBFile, store_path: Path) -> None:
    """Reading, slicing and listing through a store that refuses every write."""
    from zarr.storage import LocalStore, WrapperStore

    class Refusing(WrapperStore[LocalStore]):
        writes = 0

        async def set(self, key: str, value: object) -> None:  # type: ignore[override]
            type(self).writes += 1
            raise AssertionError(f"a write to {key} in mode 'r'")

        async def delete(self, key: str) -> None:
            type(self).writes += 1
            raise AssertionError(f"a delete of {key} in mode 'r'")

    with NWBZarrIO(store_path, "w") as io:
        io.write(tutorial_file)
    store = Refusing(LocalStore(store_path, read_only=True))
    with NWBZarrIO(store, "r") as io:
        nwbfile = io.read()
        assert nwbfile == tutorial_file
        nwbfile.acquisition["TwoPhotonSeries1"].data[3]  # type: ignore[attr-defined]
        nwbfile.processing["ophys"]["ImageSegmentation"]["PlaneSegmentation2"].to_dataframe()  # type: ignore[index]
    assert Refusing.writes == 0


def test_two_readers_while_a_writer_appends(tutorial_file: NWBFile, store_path: Path) -> None:
    with NWBZarrIO(store_path, "w") as io:
        io.write(tutorial_file)
    reader = textwrap.dedent(
        """
        import sys
        from nwbzarr import NWBZarrIO
        for _ in range(5):
            with NWBZarrIO(sys.argv[1]) as io:
                f = io.read()
                assert "slow" not in f.acquisition or f.acquisition["slow"].data.shape == (400, 64, 64)
                f.acquisition["TwoPhotonSeries1"].data[:]
        print("ok")
        """
    )
    writer = subprocess.Popen(
        [sys.executable, "-c", _SLOW_WRITER, str(store_path), "a"], stdout=subprocess.PIPE, text=True
    )
    assert writer.stdout is not None and writer.stdout.readline().strip() == "writing"
    readers = [
        subprocess.Popen([sys.executable, "-c", reader, str(store_path)], stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [r.communicate(timeout=120)[0] for r in readers]
    assert writer.wait(timeout=120) == 0
    assert all(r.returncode == 0 for r in readers) and all("ok" in out for out in outputs)
    with NWBZarrIO(store_path) as io:
        assert io.read().acquisition["slow"].data.shape == (400, 64, 64)  # type: ignore[attr-defined]
