"""Small valid objects for tests, like ``pynwb.testing.mock``: every argument can be overridden, and
each factory builds the objects it needs (a file, a device, a plane...) when they are not given."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import numpy as np

from nwbzarr.model import (
    Device,
    DfOverF,
    Fluorescence,
    ImageSegmentation,
    ImagingPlane,
    NWBFile,
    OpticalChannel,
    PlaneSegmentation,
    RoiResponseSeries,
    Subject,
    TwoPhotonSeries,
)

__all__ = [
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


def mock_NWBFile(**kwargs: Any) -> NWBFile:
    """A minimal valid NWBFile."""
    args: dict[str, Any] = {
        "session_description": "a mock session",
        "identifier": "mock-0",
        "session_start_time": datetime.fromisoformat("2024-01-02T03:04:05+00:00"),
    }
    args.update(kwargs)
    return NWBFile(args.pop("session_description"), args.pop("identifier"), args.pop("session_start_time"), **args)


def mock_Subject(**kwargs: Any) -> Subject:
    """A Subject (a mouse)."""
    return Subject(**{"subject_id": "mouse-1", "species": "Mus musculus", "age": "P90D", "sex": "F", **kwargs})


def mock_Device(nwbfile: NWBFile | None = None, **kwargs: Any) -> Device:
    """A Device (added to ``nwbfile`` if given)."""
    device = Device(**{"name": "Microscope", "description": "a mock two-photon microscope", **kwargs})
    if nwbfile is not None:
        nwbfile.add_device(device)
    return device


def mock_OpticalChannel(**kwargs: Any) -> OpticalChannel:
    """An OpticalChannel."""
    return OpticalChannel(**{"name": "OpticalChannel", "description": "green", "emission_lambda": 510.0, **kwargs})


def mock_ImagingPlane(nwbfile: NWBFile | None = None, **kwargs: Any) -> ImagingPlane:
    """An ImagingPlane added to ``nwbfile`` (made if not given), with its device."""
    nwbfile = nwbfile if nwbfile is not None else mock_NWBFile()
    if "device" not in kwargs:
        kwargs["device"] = nwbfile.devices.get("Microscope") or mock_Device(nwbfile)
    args: dict[str, Any] = {
        "name": "ImagingPlane",
        "optical_channel": mock_OpticalChannel(),
        "excitation_lambda": 920.0,
        "indicator": "GCaMP6f",
        "location": "VISp",
        "imaging_rate": 30.0,
        **kwargs,
    }
    return nwbfile.add_imaging_plane(ImagingPlane(**args))


def mock_TwoPhotonSeries(nwbfile: NWBFile | None = None, **kwargs: Any) -> TwoPhotonSeries:
    """A small uint16 TwoPhotonSeries added to the acquisition of ``nwbfile``."""
    nwbfile = nwbfile if nwbfile is not None else mock_NWBFile()
    if "imaging_plane" not in kwargs:
        kwargs["imaging_plane"] = nwbfile.imaging_planes.get("ImagingPlane") or mock_ImagingPlane(nwbfile)
    data = np.random.default_rng(0).poisson(40, size=(20, 16, 16)).astype(np.uint16)
    args: dict[str, Any] = {"name": "TwoPhotonSeries", "data": data, "rate": 30.0, "unit": "photons", **kwargs}
    return nwbfile.add_acquisition(TwoPhotonSeries(**args))


def mock_PlaneSegmentation(
    nwbfile: NWBFile | None = None,
    *,
    kind: Literal["image", "pixel", "voxel"] = "pixel",
    n_rois: int = 5,
    **kwargs: Any,
) -> PlaneSegmentation:
    """A PlaneSegmentation of ``n_rois`` ROIs with image, pixel or voxel masks."""
    nwbfile = nwbfile if nwbfile is not None else mock_NWBFile()
    if "imaging_plane" not in kwargs:
        kwargs["imaging_plane"] = nwbfile.imaging_planes.get("ImagingPlane") or mock_ImagingPlane(nwbfile)
    module = nwbfile.processing.get("ophys") or nwbfile.create_processing_module("ophys", "mock processing")
    segmentation = module.data_interfaces.get("ImageSegmentation")
    if not isinstance(segmentation, ImageSegmentation):
        segmentation = module.add(ImageSegmentation())
    table = segmentation.create_plane_segmentation(
        **{"name": "PlaneSegmentation", "description": "mock ROIs", **kwargs}
    )
    for i in range(n_rois):
        if kind == "image":
            mask = np.zeros((16, 16))
            mask[i : i + 3, i : i + 3] = 1.0
            table.add_roi(image_mask=mask)
        elif kind == "pixel":
            table.add_roi(pixel_mask=[(i + dx, i + dy, 1.0) for dx in range(3) for dy in range(3)])
        else:
            table.add_roi(
                voxel_mask=[(i + dx, i + dy, dz, 0.5) for dx in range(3) for dy in range(3) for dz in range(2)]
            )
    return table


def mock_RoiResponseSeries(table: PlaneSegmentation | None = None, **kwargs: Any) -> RoiResponseSeries:
    """A RoiResponseSeries over every ROI of ``table``."""
    table = table if table is not None else mock_PlaneSegmentation()
    n_rois = len(table)
    if "rois" not in kwargs:
        kwargs["rois"] = table.create_roi_table_region("all ROIs", list(range(n_rois)))
    data = np.random.default_rng(1).random((50, n_rois)).astype(np.float32)
    return RoiResponseSeries(**{"name": "RoiResponseSeries", "data": data, "unit": "n.a.", "rate": 30.0, **kwargs})


def mock_Fluorescence(table: PlaneSegmentation | None = None, **kwargs: Any) -> Fluorescence:
    """A Fluorescence holding a mock RoiResponseSeries."""
    return Fluorescence(**{"roi_response_series": mock_RoiResponseSeries(table), **kwargs})


def mock_DfOverF(table: PlaneSegmentation | None = None, **kwargs: Any) -> DfOverF:
    """A DfOverF holding a mock RoiResponseSeries."""
    return DfOverF(**{"roi_response_series": mock_RoiResponseSeries(table), **kwargs})
