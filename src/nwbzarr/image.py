"""PyNWB's ``pynwb.image`` import path: ``from nwbzarr.image import ImageSeries, GrayscaleImage, ...``."""

from nwbzarr.model.image import ImageSeries
from nwbzarr.model.images import (
    GrayscaleImage,
    ImageMaskSeries,
    IndexSeries,
    OpticalSeries,
    RGBAImage,
    RGBImage,
)

__all__ = [
    "GrayscaleImage",
    "ImageMaskSeries",
    "ImageSeries",
    "IndexSeries",
    "OpticalSeries",
    "RGBAImage",
    "RGBImage",
]
