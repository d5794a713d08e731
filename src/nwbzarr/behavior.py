"""PyNWB's ``pynwb.behavior`` import path: ``from nwbzarr.behavior import Position, SpatialSeries, ...``."""

from nwbzarr.model.behavior import (
    BehavioralEpochs,
    BehavioralEvents,
    BehavioralTimeSeries,
    CompassDirection,
    EyeTracking,
    Position,
    PupilTracking,
    SpatialSeries,
)

__all__ = [
    "BehavioralEpochs",
    "BehavioralEvents",
    "BehavioralTimeSeries",
    "CompassDirection",
    "EyeTracking",
    "Position",
    "PupilTracking",
    "SpatialSeries",
]
