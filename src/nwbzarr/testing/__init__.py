"""Helpers for tests, demos and benchmarks: synthetic sessions, the tutorial file, factories, counting.

Nothing here is imported by the rest of the package; import it explicitly.
"""

from nwbzarr.testing.counting import CountingStore
from nwbzarr.testing.factories import (
    mock_Device,
    mock_DfOverF,
    mock_Fluorescence,
    mock_ImagingPlane,
    mock_NWBFile,
    mock_OpticalChannel,
    mock_PlaneSegmentation,
    mock_RoiResponseSeries,
    mock_Subject,
    mock_TwoPhotonSeries,
)
from nwbzarr.testing.session import make_session
from nwbzarr.testing.synthetic import SyntheticMovie, SyntheticSession
from nwbzarr.testing.tutorial import build_tutorial_file

__all__ = [
    "CountingStore",
    "SyntheticMovie",
    "SyntheticSession",
    "build_tutorial_file",
    "make_session",
    "mock_DfOverF",
    "mock_Device",
    "mock_Fluorescence",
    "mock_ImagingPlane",
    "mock_NWBFile",
    "mock_OpticalChannel",
    "mock_PlaneSegmentation",
    "mock_RoiResponseSeries",
    "mock_Subject",
    "mock_TwoPhotonSeries",
]
