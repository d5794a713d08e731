"""PyNWB's ``pynwb.base`` import path: TimeSeries, Images, Image, ImageReferences, ProcessingModule..."""

from nwbzarr.model.file import ProcessingModule
from nwbzarr.model.images import Image, ImageReferences, Images
from nwbzarr.model.intervals import TimeSeriesReference, TimeSeriesReferenceVectorData
from nwbzarr.model.timeseries import TimeSeries

__all__ = [
    "Image",
    "ImageReferences",
    "Images",
    "ProcessingModule",
    "TimeSeries",
    "TimeSeriesReference",
    "TimeSeriesReferenceVectorData",
]
