"""PyNWB's ``pynwb.epoch`` import path: ``from nwbzarr.epoch import TimeIntervals``."""

from nwbzarr.model.intervals import TimeIntervals

__all__ = ["TimeIntervals"]
