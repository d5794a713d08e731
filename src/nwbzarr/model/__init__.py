"""The container model: plain typed Python and numpy, no storage format.

Every type is a keyword-only dataclass whose fields carry their NWB storage description
(:mod:`nwbzarr.model.spec`); the codec in :mod:`nwbzarr.codec` maps them to the format-neutral tree.
"""

from nwbzarr.model.base import (
    REGISTRY,
    Children,
    Container,
    Data,
    NWBContainer,
    NWBDataInterface,
    neurodata_type,
)
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
from nwbzarr.model.device import Device, Subject
from nwbzarr.model.file import NWB_VERSION, LabMetaData, NWBFile, ProcessingModule
from nwbzarr.model.image import ImageSeries
from nwbzarr.model.images import (
    GrayscaleImage,
    Image,
    ImageMaskSeries,
    ImageReferences,
    Images,
    IndexSeries,
    OpticalSeries,
    RGBAImage,
    RGBImage,
)
from nwbzarr.model.intervals import TimeIntervals, TimeSeriesReference, TimeSeriesReferenceVectorData
from nwbzarr.model.misc import AnnotationSeries, IntervalSeries
from nwbzarr.model.ophys import (
    PIXEL_MASK,
    VOXEL_MASK,
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
from nwbzarr.model.table import DynamicTable, DynamicTableRegion, ElementIdentifiers, VectorData, VectorIndex
from nwbzarr.model.timeseries import TimeSeries
from nwbzarr.model.units import Units

__all__ = [
    "NWB_VERSION",
    "PIXEL_MASK",
    "REGISTRY",
    "VOXEL_MASK",
    "AnnotationSeries",
    "BehavioralEpochs",
    "BehavioralEvents",
    "BehavioralTimeSeries",
    "Children",
    "CompassDirection",
    "Container",
    "CorrectedImageStack",
    "Data",
    "Device",
    "DfOverF",
    "DynamicTable",
    "DynamicTableRegion",
    "ElementIdentifiers",
    "EyeTracking",
    "Fluorescence",
    "GrayscaleImage",
    "Image",
    "ImageMaskSeries",
    "ImageReferences",
    "ImageSegmentation",
    "ImageSeries",
    "Images",
    "ImagingPlane",
    "IndexSeries",
    "IntervalSeries",
    "LabMetaData",
    "MotionCorrection",
    "NWBContainer",
    "NWBDataInterface",
    "NWBFile",
    "OnePhotonSeries",
    "OpticalChannel",
    "OpticalSeries",
    "PlaneSegmentation",
    "Position",
    "ProcessingModule",
    "PupilTracking",
    "RGBAImage",
    "RGBImage",
    "RoiResponseSeries",
    "SpatialSeries",
    "Subject",
    "TimeIntervals",
    "TimeSeries",
    "TimeSeriesReference",
    "TimeSeriesReferenceVectorData",
    "TwoPhotonSeries",
    "Units",
    "VectorData",
    "VectorIndex",
    "neurodata_type",
]
