"""A folder of multi-page TIFFs becomes a TwoPhotonSeries, read lazily page by page."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nwbzarr import NWBZarrIO
from nwbzarr.model import TwoPhotonSeries
from nwbzarr.testing import SyntheticSession, mock_ImagingPlane, mock_NWBFile
from nwbzarr.writing.tiff import TiffStack

tifffile = pytest.importorskip("tifffile")


def test_tiff_folder_to_series(tmp_path: Path) -> None:
    movie = SyntheticSession(n_frames=70, height=40, width=48, n_cells=5).frames(0, 70)
    for i, start in enumerate(range(0, 70, 25)):  # three files: 25, 25 and 20 pages
        tifffile.imwrite(tmp_path / f"scan_{i:03d}.tif", movie[start : start + 25])
    stack = TiffStack(sorted(tmp_path.glob("*.tif")))
    assert stack.shape == (70, 40, 48) and stack.starting_frames == [0, 25, 50]
    assert np.array_equal(stack[24:27, 5:9], movie[24:27, 5:9]) and np.array_equal(stack[69], movie[69])
    nwbfile = mock_NWBFile()
    nwbfile.add_acquisition(
        TwoPhotonSeries(name="scan", data=stack, imaging_plane=mock_ImagingPlane(nwbfile), rate=30.0)
    )
    with NWBZarrIO(tmp_path / "scan.nwb.zarr", "w") as io:
        io.write(nwbfile)
    with NWBZarrIO(tmp_path / "scan.nwb.zarr") as io:
        assert np.array_equal(io.read().acquisition["scan"].data[:], movie)  # type: ignore[attr-defined]


def test_mismatched_pages_are_refused(tmp_path: Path) -> None:
    tifffile.imwrite(tmp_path / "a.tif", np.zeros((2, 8, 8), np.uint16))
    tifffile.imwrite(tmp_path / "b.tif", np.zeros((2, 8, 9), np.uint16))
    with pytest.raises(ValueError, match="pages"):
        TiffStack([tmp_path / "a.tif", tmp_path / "b.tif"])
