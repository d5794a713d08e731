"""Optical physiology: imaging planes, two-photon series, motion correction, segmentation, traces."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from nwbzarr.model.base import Children, NWBContainer, NWBDataInterface, neurodata_type
from nwbzarr.model.checks import array_problem, as_array
from nwbzarr.model.device import Device
from nwbzarr.model.image import ImageSeries
from nwbzarr.model.spec import attribute, child, children, dataset, link
from nwbzarr.model.table import DynamicTable, DynamicTableRegion
from nwbzarr.model.timeseries import TimeSeries

__all__ = [
    "CorrectedImageStack",
    "DfOverF",
    "Fluorescence",
    "ImageSegmentation",
    "ImagingPlane",
    "MotionCorrection",
    "OnePhotonSeries",
    "OpticalChannel",
    "PIXEL_MASK",
    "PlaneSegmentation",
    "RoiResponseSeries",
    "TwoPhotonSeries",
    "VOXEL_MASK",
]

PIXEL_MASK = np.dtype([("x", "<u4"), ("y", "<u4"), ("weight", "<f4")])
VOXEL_MASK = np.dtype([("x", "<u4"), ("y", "<u4"), ("z", "<u4"), ("weight", "<f4")])
_XY = (("x, y",), ("x, y, z",))


@neurodata_type("core")
class OpticalChannel(NWBContainer):
    """One channel of an imaging plane."""

    description: str = dataset(dtype="text")
    emission_lambda: float = dataset(dtype="float32", doc="emission wavelength, nm")


@neurodata_type("core")
class ImagingPlane(NWBContainer):
    """Where and how images were taken: indicator, location, excitation, geometry, device."""

    optical_channel: Children[OpticalChannel] = children(default_factory=Children)
    description: str | None = dataset(dtype="text", default=None)
    device: Device = link()
    excitation_lambda: float = dataset(dtype="float32", doc="nm")
    imaging_rate: float | None = dataset(dtype="float32", default=None, doc="Hz")
    indicator: str = dataset(dtype="text")
    location: str = dataset(dtype="text")
    manifold: Any = dataset(
        dtype="float32",
        dims=(("height", "width", "x, y, z"), ("height", "width", "depth", "x, y, z")),
        default=None,
    )
    conversion: float = attribute(on="manifold", dtype="float32", default=1.0)
    unit: str = attribute(on="manifold", default="meters")
    reference_frame: str | None = dataset(dtype="text", default=None)
    origin_coords: Any = dataset(dtype="float32", dims=_XY, default=None)
    origin_coords_unit: str = attribute(on="origin_coords", name="unit", default="meters")
    grid_spacing: Any = dataset(dtype="float32", dims=_XY, default=None)
    grid_spacing_unit: str = attribute(on="grid_spacing", name="unit", default="meters")

    def _validate(self) -> None:
        super()._validate()
        if not self.optical_channel:
            raise self._fail("optical_channel", "needs at least one OpticalChannel")
        for name in ("origin_coords", "grid_spacing"):
            value = getattr(self, name)
            if value is not None and np.shape(value)[0] not in (2, 3):
                raise self._fail(name, f"must have 2 or 3 entries, got {np.shape(value)[0]}")


_IMAGING_DIMS = (("time", "width", "height"), ("time", "width", "height", "depth"))


@neurodata_type("core")
class TwoPhotonSeries(ImageSeries):
    """Raw two-photon frames (time, width, height[, depth]) from one imaging plane."""

    data: Any = dataset(dims=_IMAGING_DIMS, dtype="numeric", lazy=True, default=None)
    imaging_plane: ImagingPlane = link()
    field_of_view: Any = dataset(dtype="float32", dims=(("width|height",), ("width|height|depth",)), default=None)
    pmt_gain: float | None = attribute(dtype="float32", default=None)
    scan_line_rate: float | None = attribute(dtype="float32", default=None, doc="lines per second")


@neurodata_type("core")
class OnePhotonSeries(ImageSeries):
    """Raw one-photon (widefield, miniscope) frames from one imaging plane."""

    data: Any = dataset(dims=_IMAGING_DIMS, dtype="numeric", lazy=True, default=None)
    imaging_plane: ImagingPlane = link()
    pmt_gain: float | None = attribute(dtype="float32", default=None)
    scan_line_rate: float | None = attribute(dtype="float32", default=None)
    exposure_time: float | None = attribute(dtype="float32", default=None)
    binning: int | None = attribute(dtype="uint8", default=None)
    power: float | None = attribute(dtype="float32", default=None)
    intensity: float | None = attribute(dtype="float32", default=None)


@neurodata_type("core")
class CorrectedImageStack(NWBDataInterface):
    """A motion-corrected movie with the x/y shifts applied and a link to the original."""

    name: str = "CorrectedImageStack"
    corrected: ImageSeries = child()
    original: ImageSeries = link()
    xy_translation: TimeSeries = child()


@neurodata_type("core")
class MotionCorrection(NWBDataInterface):
    """One or more corrected image stacks."""

    name: str = "MotionCorrection"
    corrected_image_stacks: Children[CorrectedImageStack] = children(default_factory=Children)

    def add_corrected_image_stack(self, stack: CorrectedImageStack) -> CorrectedImageStack:
        """Add a CorrectedImageStack."""
        return self._add_child("corrected_image_stacks", stack)

    def __getitem__(self, name: str) -> CorrectedImageStack:
        return self.corrected_image_stacks[name]


@neurodata_type("core")
class PlaneSegmentation(DynamicTable):
    """ROIs of one imaging plane, each as an image mask, a pixel mask or a voxel mask."""

    imaging_plane: ImagingPlane = link()
    reference_images: Children[ImageSeries] = children(path="reference_images", default_factory=Children, required=True)

    _MASKS = ("image_mask", "pixel_mask", "voxel_mask")

    def add_roi(
        self,
        *,
        image_mask: Any = None,
        pixel_mask: Sequence[Sequence[float]] | None = None,
        voxel_mask: Sequence[Sequence[float]] | None = None,
        id: int | None = None,
        **columns: Any,
    ) -> None:
        """Add one ROI. Use the same mask kind(s) for every ROI of the table."""
        given = {
            k: v
            for k, v in (("image_mask", image_mask), ("pixel_mask", pixel_mask), ("voxel_mask", voxel_mask))
            if v is not None
        }
        if not given:
            raise self._fail("add_roi", "give an image_mask, a pixel_mask or a voxel_mask")
        present = [m for m in self._MASKS if m in self.columns]
        if present and sorted(present) != sorted(given):
            raise self._fail(
                "add_roi",
                f"this table stores {', '.join(present)}; got {', '.join(given)} (one mask kind per table)",
            )
        cells = {name: self._mask_cell(name, value) for name, value in given.items()}
        if not present:
            if len(self):
                raise self._fail("add_roi", "the table has rows without masks")
            for name in cells:
                self._add_mask_column(name)
        self.add_row(id=id, **cells, **columns)

    def _mask_cell(self, name: str, value: Any) -> Any:
        if name == "image_mask":
            mask, problem = as_array(value)
            problem = problem or array_problem(mask, numeric=True)
            if problem is not None:
                raise self._fail("image_mask", problem)
            mask = np.asarray(mask)
            if mask.ndim not in (2, 3):
                raise self._fail("image_mask", f"must be 2-D or 3-D, got shape {mask.shape}")
            column = self.columns.get("image_mask")
            if column is not None and len(column.data):
                shape = np.shape(column.data[0])
                if mask.shape != shape:
                    raise self._fail("image_mask", f"shape {mask.shape} differs from the table's {shape}")
            return mask
        width = 3 if name == "pixel_mask" else 4
        what = "(x, y, weight)" if width == 3 else "(x, y, z, weight)"
        try:
            rows = [tuple(p) for p in value]
        except TypeError:
            raise self._fail(name, f"must be a list of {what} entries, got {type(value).__name__}") from None
        bad = next((p for p in rows if len(p) != width), None)
        if bad is not None:
            raise self._fail(name, f"each entry must be {what}, got {bad!r}")
        self._check_mask_entries(name, rows)
        return rows

    def _check_mask_entries(self, name: str, rows: list[tuple[Any, ...]]) -> None:
        """Pixel/voxel coordinates are uint32 indices inside the image, weights are numbers."""
        limits = self._image_size()
        for row in rows:
            *coords, weight = row
            for axis, (c, limit) in enumerate(zip(coords, (*limits, None, None, None), strict=False)):
                if isinstance(c, (bool, np.bool_)) or not isinstance(c, (int, float, np.integer, np.floating)):
                    raise self._fail(name, f"coordinate {'xyz'[axis]} of {row!r} must be an integer")
                if not float(c).is_integer() or not 0 <= c < 2**32:
                    raise self._fail(name, f"coordinate {'xyz'[axis]} of {row!r} must be an integer in [0, 2**32)")
                if limit is not None and c >= limit:
                    raise self._fail(name, f"{row!r} lies outside the {'x'.join(map(str, limits))} image")
            if isinstance(weight, (bool, np.bool_)) or not isinstance(weight, (int, float, np.integer, np.floating)):
                raise self._fail(name, f"the weight of {row!r} must be a number")

    def _image_size(self) -> tuple[int, ...]:
        """(x, y[, z]) of the reference images (their data dims are frame, x, y[, z]); () if unknown."""
        for image in self.reference_images.values():
            shape = tuple(getattr(image.__dict__.get("data"), "shape", ()) or ())
            if len(shape) >= 3 and all(shape[1:]):
                return tuple(int(n) for n in shape[1:])
        return ()

    def _add_mask_column(self, name: str) -> None:
        descriptions = {
            "image_mask": "Image masks for each ROI",
            "pixel_mask": "Pixel masks for each ROI",
            "voxel_mask": "Voxel masks for each ROI",
        }
        dtype = {"pixel_mask": PIXEL_MASK, "voxel_mask": VOXEL_MASK}.get(name)
        self.add_column(name, descriptions[name], index=name != "image_mask", dtype=dtype)

    def create_roi_table_region(
        self, description: str, region: Iterable[int] | slice = slice(None), name: str = "rois"
    ) -> DynamicTableRegion:
        """A region of ROIs (row positions) for a RoiResponseSeries."""
        return self.create_region(name=name, region=region, description=description)

    def add_reference_image(self, image: ImageSeries) -> ImageSeries:
        """Add an image series the ROIs were found on (a link when it lives elsewhere)."""
        return self._add_child("reference_images", image)


@neurodata_type("core")
class ImageSegmentation(NWBDataInterface):
    """Plane segmentations (one per plane or algorithm)."""

    name: str = "ImageSegmentation"
    plane_segmentations: Children[PlaneSegmentation] = children(default_factory=Children)

    def create_plane_segmentation(
        self,
        *,
        description: str,
        imaging_plane: ImagingPlane,
        name: str = "PlaneSegmentation",
        reference_images: ImageSeries | Iterable[ImageSeries] | None = None,
    ) -> PlaneSegmentation:
        """Create and add a PlaneSegmentation of ``imaging_plane`` (PyNWB's builder)."""
        images: list[ImageSeries] = (
            []
            if reference_images is None
            else [reference_images]
            if isinstance(reference_images, ImageSeries)
            else list(reference_images)
        )
        table = PlaneSegmentation(
            name=name,
            description=description,
            imaging_plane=imaging_plane,
            reference_images=images,  # type: ignore[arg-type]
        )
        return self.add_plane_segmentation(table)

    def add_plane_segmentation(self, table: PlaneSegmentation) -> PlaneSegmentation:
        """Add an existing PlaneSegmentation."""
        return self._add_child("plane_segmentations", table)

    def __getitem__(self, name: str) -> PlaneSegmentation:
        return self.plane_segmentations[name]


@neurodata_type("core")
class RoiResponseSeries(TimeSeries):
    """Traces of ROIs: data (time[, roi]) with ``rois`` naming the table rows."""

    data: Any = dataset(dims=(("num_times",), ("num_times", "num_ROIs")), dtype="numeric", lazy=True)
    rois: DynamicTableRegion = child()

    def _validate(self) -> None:
        super()._validate()
        shape = getattr(self.data, "shape", None)
        n_rois = len(self.rois)
        if shape is not None and len(shape) == 2 and shape[1] != n_rois:
            raise self._fail("data", f"has {shape[1]} columns but rois selects {n_rois} ROIs")
        if shape is not None and len(shape) == 1 and n_rois != 1:
            raise self._fail("data", f"is 1-D (one ROI) but rois selects {n_rois} ROIs")


@dataclasses.dataclass(kw_only=True, eq=False, repr=False)
class _RoiResponses(NWBDataInterface):
    """What Fluorescence and DfOverF share: named RoiResponseSeries."""

    roi_response_series: Children[RoiResponseSeries] = children(default_factory=Children)

    def add_roi_response_series(self, series: RoiResponseSeries) -> RoiResponseSeries:
        return self._add_child("roi_response_series", series)

    def create_roi_response_series(self, **kwargs: Any) -> RoiResponseSeries:
        return self.add_roi_response_series(RoiResponseSeries(**kwargs))

    def __getitem__(self, name: str) -> RoiResponseSeries:
        return self.roi_response_series[name]


@neurodata_type("core")
class Fluorescence(_RoiResponses):
    """Fluorescence traces (RoiResponseSeries)."""

    name: str = "Fluorescence"


@neurodata_type("core")
class DfOverF(_RoiResponses):
    """dF/F traces (RoiResponseSeries)."""

    name: str = "DfOverF"
