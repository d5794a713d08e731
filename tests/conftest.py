"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nwbzarr.model import NWBFile
from nwbzarr.testing.tutorial import build_tutorial_file


@pytest.fixture(scope="session", autouse=True)
def hdf5_cache_in_tmp(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Remote HDF5 reads cache metadata on disk (~/.cache by default): keep the suite's inside pytest's tmp."""
    from nwbzarr.backends.hdf5 import index_cache

    location = tmp_path_factory.mktemp("nwbzarr-hdf5-cache")
    index_cache.configure(location=location)
    os.environ["NWBZARR_HDF5_CACHE_DIR"] = str(location)  # worker processes (Dask) too


@pytest.fixture
def tutorial_file() -> NWBFile:
    """The seed tutorial's file, small (60 frames of 32 x 32)."""
    nwbfile = build_tutorial_file(frames=60, size=32)
    assert isinstance(nwbfile, NWBFile)
    return nwbfile


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "session.nwb.zarr"
