"""Still images (Image and its colour kinds), collections of them, and series that index or mask images."""

from __future__ import annotations

from typing import Any, ClassVar

from nwbzarr.model.base import Children, Data, NWBDataInterface, neurodata_type
from nwbzarr.model.image import ImageSeries
from nwbzarr.model.spec import attribute, child, children, dataset, link
from nwbzarr.model.timeseries import TimeSeries

__all__ = [
    "GrayscaleImage",
    "Image",
    "ImageMaskSeries",
    "ImageReferences",
    "Images",
    "IndexSeries",
    "OpticalSeries",
    "RGBAImage",
    "RGBImage",
]

_IMAGE_DIMS = (("x", "y"), ("x", "y", "r, g, b"), ("x", "y", "r, g, b, a"))


@neurodata_type("core")
class Image(Data):
    """One image stored in the file: (x, y) grey, (x, y, 3) RGB or (x, y, 4) RGBA."""

    data: Any = dataset(dtype="numeric", dims=_IMAGE_DIMS, lazy=True)
    resolution: float | None = attribute(dtype="float32", default=None, doc="pixels per centimeter")
    description: str | None = attribute(default=None)

    #: rank -> the sizes its last axis may have (empty = any)
    CHANNELS: ClassVar[dict[int, tuple[int, ...]]] = {2: (), 3: (3, 4)}

    def _validate(self) -> None:
        super()._validate()
        shape = tuple(getattr(self.data, "shape", ()))
        if shape and len(shape) not in self.CHANNELS:
            ranks = " or ".join(f"{r}-D" for r in self.CHANNELS)
            raise self._fail("data", f"must be {ranks}, got shape {shape}")
        allowed = self.CHANNELS.get(len(shape), ())
        if shape and allowed and shape[-1] not in allowed:
            sizes = " or ".join(map(str, allowed))
            raise self._fail("data", f"needs {sizes} channels on its last axis, got shape {shape}")


@neurodata_type("core")
class GrayscaleImage(Image):
    """A (x, y) grey-level image."""

    data: Any = dataset(dtype="numeric", dims=(("x", "y"),), lazy=True)
    CHANNELS: ClassVar[dict[int, tuple[int, ...]]] = {2: ()}


@neurodata_type("core")
class RGBImage(Image):
    """A (x, y, 3) colour image."""

    data: Any = dataset(dtype="numeric", dims=(("x", "y", "r, g, b"),), lazy=True)
    CHANNELS: ClassVar[dict[int, tuple[int, ...]]] = {3: (3,)}


@neurodata_type("core")
class RGBAImage(Image):
    """A (x, y, 4) colour image with transparency."""

    data: Any = dataset(dtype="numeric", dims=(("x", "y", "r, g, b, a"),), lazy=True)
    CHANNELS: ClassVar[dict[int, tuple[int, ...]]] = {3: (4,)}


@neurodata_type("core")
class ImageReferences(Data):
    """An ordered list of the images of an Images container (``order_of_images``)."""

    name: str = "order_of_images"
    data: Any = dataset(dtype="ref", dims=(("num_images",),), default_factory=list)

    #: the decoder resolves stored references to the images themselves
    RESOLVES_REFERENCES: ClassVar[bool] = True

    def _validate(self) -> None:
        super()._validate()
        self.data = list(self.data) if not hasattr(self.data, "read") else self.data
        bad = next((v for v in self.data if not isinstance(v, Image)), None) if isinstance(self.data, list) else None
        if bad is not None:
            raise self._fail("data", f"expected Image objects, got {type(bad).__name__}")


@neurodata_type("core")
class Images(NWBDataInterface):
    """A collection of images (mean and max projections, stimuli...) with an optional order."""

    name: str = "Images"
    description: str = attribute(default="no description")
    images: Children[Image] = children(default_factory=Children)
    order_of_images: ImageReferences | None = child(default=None)

    def add_image(self, image: Image) -> Image:
        """Add an image (PyNWB's ``add_image``)."""
        return self._add_child("images", image)

    def __getitem__(self, name: str) -> Image:
        return self.images[name]

    def _validate(self) -> None:
        super()._validate()
        if self.order_of_images is not None and isinstance(self.order_of_images.data, list):
            missing = [i.name for i in self.order_of_images.data if self.images.get(i.name) is not i]
            if missing:
                raise self._fail("order_of_images", f"lists images that are not in this container: {missing}")


@neurodata_type("core")
class IndexSeries(TimeSeries):
    """Which image (of ``indexed_images``) was shown at each time."""

    data: Any = dataset(dtype="uint32", dims=(("num_times",),), lazy=True)
    unit: str = attribute(on="data", default="N/A")
    indexed_timeseries: ImageSeries | None = link(default=None)
    indexed_images: Images | None = link(default=None)

    def _validate(self) -> None:
        super()._validate()
        if self.unit != "N/A":
            raise self._fail("unit", f"is fixed to 'N/A' by the schema, got {self.unit!r}")


@neurodata_type("core")
class OpticalSeries(ImageSeries):
    """Images presented to the subject (a monitor, a projector): distance, field of view, orientation."""

    data: Any = dataset(
        dtype="numeric", dims=(("frame", "x", "y"), ("frame", "x", "y", "r, g, b")), lazy=True, default=None
    )
    distance: float | None = dataset(dtype="float32", default=None, doc="meters")
    field_of_view: Any = dataset(dtype="float32", dims=(("width, height",), ("width, height, depth",)), default=None)
    orientation: str | None = dataset(dtype="text", default=None)


@neurodata_type("core")
class ImageMaskSeries(ImageSeries):
    """Masks over the frames of another ImageSeries."""

    masked_imageseries: ImageSeries = link()
