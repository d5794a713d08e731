"""Stores written by hdmf-zarr 0.14 (the Zarr v3 convention) open in nwbzarr, value for value."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from nwbzarr import NWBZarrIO
from nwbzarr.testing.tutorial import build_tutorial_file

from .compare import assert_same_as_pynwb

hdmf_zarr = pytest.importorskip("hdmf_zarr")
pytestmark = pytest.mark.interop


@pytest.fixture
def hdmf_store(tmp_path: Path) -> Path:
    path = tmp_path / "hdmf.nwb.zarr"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with hdmf_zarr.NWBZarrIO(str(path), "w") as io:
            io.write(build_tutorial_file("pynwb", frames=30, size=16))
    return path


def test_value_for_value(hdmf_store: Path) -> None:
    with NWBZarrIO(hdmf_store) as ours, hdmf_zarr.NWBZarrIO(str(hdmf_store), "r") as theirs:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            their_file = theirs.read()
        assert assert_same_as_pynwb(ours.read(), their_file) > 150


def test_rewriting_keeps_everything(hdmf_store: Path, tmp_path: Path) -> None:
    with NWBZarrIO(hdmf_store) as io:
        nwbfile = io.read()
    copy = tmp_path / "copy.nwb.zarr"
    with NWBZarrIO(copy, "w") as io:
        io.write(nwbfile)
    with NWBZarrIO(copy) as io:
        again = io.read()
    assert again == nwbfile
    movie = again.acquisition["TwoPhotonSeries1"].data  # type: ignore[attr-defined]
    assert np.array_equal(movie[:], nwbfile.acquisition["TwoPhotonSeries1"].data[:])  # type: ignore[attr-defined]
