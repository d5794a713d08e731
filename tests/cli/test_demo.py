"""`nwbzarr demo` (the README's main job) and the synthetic session behind it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from nwbzarr import NWBZarrIO
from nwbzarr.testing import SyntheticSession, make_session
from nwbzarr.testing.factories import mock_DfOverF, mock_PlaneSegmentation, mock_TwoPhotonSeries


def test_demo_runs(tmp_path: Path) -> None:
    out = tmp_path / "demo.nwb.zarr"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "nwbzarr",
            "demo",
            "-o",
            str(out),
            "--frames",
            "120",
            "--size",
            "96",
            "--cells",
            "30",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "reopened lazily: 2 read(s), no listing" in result.stdout
    assert "TwoPhotonSeries/  <TwoPhotonSeries>" in result.stdout and "frame 60: shape (96, 96)" in result.stdout
    assert "Warning" not in result.stderr


def test_synthetic_movie_is_deterministic_by_block() -> None:
    session = SyntheticSession(n_frames=200, height=48, width=40, n_cells=12, seed=3)
    whole = session.frames(0, 200)
    assert whole.shape == (200, 48, 40) and whole.dtype == np.uint16
    assert np.array_equal(session.frames(70, 133), whole[70:133])  # any block regenerates alike
    assert np.array_equal(SyntheticSession(n_frames=200, height=48, width=40, n_cells=12, seed=3).frames(0, 200), whole)
    assert not np.array_equal(
        SyntheticSession(n_frames=200, height=48, width=40, n_cells=12, seed=4).frames(0, 200), whole
    )
    assert np.array_equal(session.movie()[5:9, 3:7], whole[5:9, 3:7])


def test_cells_are_visible_in_the_movie() -> None:
    session = SyntheticSession(n_frames=600, height=64, width=64, n_cells=10, seed=1, firing_hz=1.0)
    movie = session.frames(0, 600).astype(np.float32)
    truth = session.fluorescence()
    correlations = []
    for i, (top, left, patch) in enumerate(session.patches):
        h, w = patch.shape
        observed = (movie[:, top : top + h, left : left + w] * patch).sum(axis=(1, 2)) / patch.sum()
        if truth[:, i].std() > 0:
            correlations.append(np.corrcoef(observed, truth[:, i])[0, 1])
    assert np.median(correlations) > 0.8


def test_session_round_trips(tmp_path: Path) -> None:
    nwbfile = make_session(SyntheticSession(n_frames=40, height=32, width=32, n_cells=6))
    with NWBZarrIO(tmp_path / "s.nwb.zarr", "w") as io:
        io.write(nwbfile)
    with NWBZarrIO(tmp_path / "s.nwb.zarr") as io:
        assert io.read() == nwbfile


def test_factories_build_valid_objects() -> None:
    for kind in ("image", "pixel", "voxel"):
        table = mock_PlaneSegmentation(kind=kind)
        assert len(table) == 5
    series = mock_TwoPhotonSeries()
    assert series.data.shape == (20, 16, 16)
    assert len(mock_DfOverF().roi_response_series["RoiResponseSeries"].rois) == 5
