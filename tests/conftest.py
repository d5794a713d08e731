"""Fixtures shared by the whole suite."""

from __future__ import annotations

from pathlib import Path

import pytest

from nwbzarr.model import NWBFile
from nwbzarr.testing.tutorial import build_tutorial_file


@pytest.fixture
def tutorial_file() -> NWBFile:
    """The seed tutorial's file, small (60 frames of 32 x 32)."""
    nwbfile = build_tutorial_file(frames=60, size=32)
    assert isinstance(nwbfile, NWBFile)
    return nwbfile


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "session.nwb.zarr"
