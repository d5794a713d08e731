"""nwbzarr.convert and `nwbzarr convert` between Zarr stores (HDF5 directions: tests/backends/hdf5)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nwbzarr import NWBZarrIO
from nwbzarr.errors import StoreExistsError
from nwbzarr.model import NWBFile
from nwbzarr.operations.convert import convert


@pytest.fixture
def source(tutorial_file: NWBFile, tmp_path: Path) -> Path:
    path = tmp_path / "src.nwb.zarr"
    with NWBZarrIO(path, "w") as io:
        io.write(tutorial_file)
    return path


def test_zarr_to_zarr_rechunks_and_recompresses_losslessly(source: Path, tmp_path: Path) -> None:
    dst = tmp_path / "dst.nwb.zarr"
    convert(source, dst, chunks=(5, 8, 8), compression="gzip")
    meta = json.loads((dst / "acquisition/TwoPhotonSeries1/data/zarr.json").read_text())
    assert meta["chunk_grid"]["configuration"]["chunk_shape"] == [5, 8, 8]
    assert [c["name"] for c in meta["codecs"]][-2:] == ["gzip", "crc32c"]  # then a checksum per chunk
    with NWBZarrIO(source) as a, NWBZarrIO(dst) as b:
        assert a.read() == b.read()


def test_unknown_content_survives(source: Path, tmp_path: Path) -> None:
    import zarr

    extra = zarr.open_group(source, mode="r+")
    extra["general"].create_group("lab_notebook", attributes={"entry": "day 3"})
    extra["acquisition/TwoPhotonSeries1"].attrs["custom_note"] = "kept"
    zarr.consolidate_metadata(source)
    # edited by another tool, the store no longer matches nwbzarr's manifest (which would now report damage)
    (source / "nwbzarr.json").unlink()
    dst = tmp_path / "dst.nwb.zarr"
    convert(source, dst)
    copied = zarr.open_group(dst, mode="r")
    assert copied["general/lab_notebook"].attrs["entry"] == "day 3"
    assert copied["acquisition/TwoPhotonSeries1"].attrs["custom_note"] == "kept"
    # and through the model too: read, write elsewhere, the unknown parts are still there
    with NWBZarrIO(dst) as io:
        nwbfile = io.read()
    with NWBZarrIO(tmp_path / "again.nwb.zarr", "w") as io:
        io.write(nwbfile)
    again = zarr.open_group(tmp_path / "again.nwb.zarr", mode="r")
    assert again["general/lab_notebook"].attrs["entry"] == "day 3"
    assert again["acquisition/TwoPhotonSeries1"].attrs["custom_note"] == "kept"


def test_refuses_to_overwrite_unless_asked(source: Path, tmp_path: Path) -> None:
    dst = tmp_path / "dst.nwb.zarr"
    convert(source, dst)
    with pytest.raises(StoreExistsError):
        convert(source, dst)
    convert(source, dst, overwrite=True)


def test_cli_convert(source: Path, tmp_path: Path) -> None:
    dst = tmp_path / "cli.nwb.zarr"
    result = subprocess.run(
        [sys.executable, "-m", "nwbzarr", "convert", str(source), str(dst), "--quiet", "--compression", "lz4"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "verified:" in result.stdout and "every CRC-32 right" in result.stdout
    with NWBZarrIO(dst) as io:
        movie = io.read().acquisition["TwoPhotonSeries1"].data  # type: ignore[attr-defined]
        assert movie.shape == (60, 32, 32) and np.isfinite(movie[3]).all()


def test_conversion_streams_with_bounded_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """HDF5 -> Zarr copies a dataset 16x larger than the per-array budget without holding it."""
    import tracemalloc

    import nwbzarr.writing.blocks
    from nwbzarr import NWBHDF5IO
    from nwbzarr.model import TwoPhotonSeries

    budget = 4 * 1024 * 1024
    monkeypatch.setattr(nwbzarr.writing.blocks, "DEFAULT_BUDGET", budget)
    nwbfile = NWBFile("big", "big", __import__("datetime").datetime.fromisoformat("2024-01-01T00:00:00+00:00"))
    from nwbzarr.testing.factories import mock_ImagingPlane

    plane = mock_ImagingPlane(nwbfile)
    movie = np.random.default_rng(0).integers(0, 4000, size=(256, 256, 256), dtype=np.uint16)  # 32 MiB
    nwbfile.add_acquisition(TwoPhotonSeries(name="movie", data=movie, imaging_plane=plane, rate=30.0))
    with NWBHDF5IO(tmp_path / "big.nwb", "w") as io:
        io.write(nwbfile)
    del movie, nwbfile
    tracemalloc.start()
    convert(tmp_path / "big.nwb", tmp_path / "big.nwb.zarr", layout="keep")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 4 * budget, f"peak {peak / 2**20:.1f} MiB"
    with NWBHDF5IO(tmp_path / "big.nwb") as a, NWBZarrIO(tmp_path / "big.nwb.zarr") as b:
        x, y = a.read().acquisition["movie"].data, b.read().acquisition["movie"].data  # type: ignore[attr-defined]
        assert np.array_equal(x[100:140], y[100:140])
