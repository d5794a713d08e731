"""PyNWB's ``pynwb.ophys`` import path: ``from nwbzarr.ophys import TwoPhotonSeries, ...``."""

from nwbzarr.model.ophys import (
    CorrectedImageStack,
    DfOverF,
    Fluorescence,
    ImageSegmentation,
    ImagingPlane,
    MotionCorrection,
    OnePhotonSeries,
    OpticalChannel,
    PlaneSegmentation,
    RoiResponseSeries,
    TwoPhotonSeries,
)

__all__ = [
    "CorrectedImageStack",
    "DfOverF",
    "Fluorescence",
    "ImageSegmentation",
    "ImagingPlane",
    "MotionCorrection",
    "OnePhotonSeries",
    "OpticalChannel",
    "PlaneSegmentation",
    "RoiResponseSeries",
    "TwoPhotonSeries",
]
