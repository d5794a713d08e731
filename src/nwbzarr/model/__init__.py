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
from nwbzarr.model.device import Device, Subject
from nwbzarr.model.file import NWB_VERSION, NWBFile, ProcessingModule
from nwbzarr.model.image import ImageSeries
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

__all__ = [
    "NWB_VERSION",
    "PIXEL_MASK",
    "REGISTRY",
    "VOXEL_MASK",
    "Children",
    "Container",
    "CorrectedImageStack",
    "Data",
    "Device",
    "DfOverF",
    "DynamicTable",
    "DynamicTableRegion",
    "ElementIdentifiers",
    "Fluorescence",
    "ImageSegmentation",
    "ImageSeries",
    "ImagingPlane",
    "MotionCorrection",
    "NWBContainer",
    "NWBDataInterface",
    "NWBFile",
    "OnePhotonSeries",
    "OpticalChannel",
    "PlaneSegmentation",
    "ProcessingModule",
    "RoiResponseSeries",
    "Subject",
    "TimeSeries",
    "TwoPhotonSeries",
    "VectorData",
    "VectorIndex",
    "neurodata_type",
]
