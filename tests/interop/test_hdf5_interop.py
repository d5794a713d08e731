"""NWB HDF5: PyNWB reads our exports value for value, we read PyNWB's files, conversion is lossless."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from nwbzarr import NWBHDF5IO, NWBZarrIO, convert
from nwbzarr.model import NWBFile
from nwbzarr.testing.tutorial import build_tutorial_file

from .compare import assert_same_as_pynwb
from .pynwb_files import assert_pynwb_files_equal, write_ecephys_file

pynwb = pytest.importorskip("pynwb")
pytestmark = pytest.mark.interop


def _pynwb_read(path: Path) -> tuple[object, object]:
    io = pynwb.NWBHDF5IO(str(path), "r")
    return io, io.read()


def test_pynwb_reads_our_export(tutorial_file: NWBFile, tmp_path: Path) -> None:
    path = tmp_path / "ours.nwb"
    with NWBHDF5IO(path, "w") as io:
        io.write(tutorial_file)
    io, theirs = _pynwb_read(path)
    try:
        assert assert_same_as_pynwb(tutorial_file, theirs) > 150
        assert pynwb.validate(io=io) == []
    finally:
        io.close()  # type: ignore[attr-defined]


def test_we_read_pynwb_files_lazily(tmp_path: Path) -> None:
    path = tmp_path / "pynwb.nwb"
    with pynwb.NWBHDF5IO(str(path), "w") as io:
        io.write(build_tutorial_file("pynwb", frames=30, size=16))
    with NWBHDF5IO(path) as ours:
        nwbfile = ours.read()
        io, theirs = _pynwb_read(path)
        try:
            assert assert_same_as_pynwb(nwbfile, theirs) > 150
        finally:
            io.close()  # type: ignore[attr-defined]
        data = nwbfile.acquisition["TwoPhotonSeries1"].data  # type: ignore[attr-defined]
        assert type(data).__name__ == "H5LazyArray" and data[3, 2:5].shape == (3, 16)


@pytest.mark.parametrize("middle", ["zarr", "hdf5"])
def test_whole_file_conversion_is_lossless(tmp_path: Path, middle: str) -> None:
    source = tmp_path / "source.nwb"
    write_ecephys_file(source)
    zarr_path = tmp_path / "middle.nwb.zarr"
    result = tmp_path / "result.nwb"
    convert(source, zarr_path)
    if middle == "zarr":
        convert(zarr_path, result)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            io_a, a = _pynwb_read(source)
            io_b, b = _pynwb_read(result)
    else:
        import hdmf_zarr

        io_a, a = _pynwb_read(source)
        io_b = hdmf_zarr.NWBZarrIO(str(zarr_path), "r")
        b = io_b.read()
    try:
        assert assert_pynwb_files_equal(a, b) > 150
        electrodes = b.electrodes.to_dataframe()  # type: ignore[attr-defined]
        assert [g.name for g in electrodes["group"]] == ["shank0", "shank1"] * 3
        assert np.allclose(b.units["spike_times"][2], a.units["spike_times"][2])  # type: ignore[attr-defined]
        assert list(b.trials["stimulus"][:]) == [f"grating {i * 45}" for i in range(4)]  # type: ignore[attr-defined]
    finally:
        io_a.close()  # type: ignore[attr-defined]
        io_b.close()  # type: ignore[attr-defined]


def test_the_unmodified_tutorial_writes_hdf5(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, str(root / "examples" / "ophys_tutorial.py")],
        cwd=tmp_path,
        env={**os.environ, "MPLBACKEND": "Agg"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    io, theirs = _pynwb_read(tmp_path / "ophys_tutorial.nwb")
    try:
        assert theirs.processing["ophys"]["Fluorescence"]["RoiResponseSeries"].data.shape == (50, 2)  # type: ignore[attr-defined]
    finally:
        io.close()  # type: ignore[attr-defined]


def test_zarr_and_hdf5_exports_agree(tutorial_file: NWBFile, tmp_path: Path) -> None:
    with NWBZarrIO(tmp_path / "a.nwb.zarr", "w") as io:
        io.write(tutorial_file)
    convert(tmp_path / "a.nwb.zarr", tmp_path / "b.nwb")
    with NWBHDF5IO(tmp_path / "b.nwb") as io:
        assert io.read() == tutorial_file


def test_nwbinspector_finds_nothing_serious(tmp_path: Path) -> None:
    from nwbinspector import Importance, inspect_nwbfile

    from nwbzarr.testing import SyntheticSession, make_session

    files = {
        "tutorial": build_tutorial_file(frames=20, size=16),
        "demo": make_session(SyntheticSession(n_frames=90, height=48, width=48, n_cells=12)),
    }
    for name, nwbfile in files.items():
        path = tmp_path / f"{name}.nwb"
        with NWBHDF5IO(path, "w") as io:
            io.write(nwbfile)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            messages = list(inspect_nwbfile(nwbfile_path=str(path)))
        assert not [m for m in messages if m.importance is Importance.PYNWB_VALIDATION]
        critical = {m.check_function_name for m in messages if m.importance is Importance.CRITICAL}
        if name == "demo":  # the realistic session is clean
            assert messages == [], [m.message for m in messages]
        else:  # the tutorial's content itself: no Subject, and its external 'images.tiff' does not exist
            assert critical == {"check_subject_exists", "check_image_series_external_file_valid"}
