"""PyNWB's ``pynwb.image`` import path: ``from nwbzarr.image import ImageSeries``."""

from nwbzarr.model.image import ImageSeries

__all__ = ["ImageSeries"]
