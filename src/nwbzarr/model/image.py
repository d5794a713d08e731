"""ImageSeries: a series of images, stored inside the file or in external files."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from nwbzarr.model.base import neurodata_type
from nwbzarr.model.device import Device
from nwbzarr.model.spec import attribute, dataset, link
from nwbzarr.model.timeseries import TimeSeries

__all__ = ["ImageSeries"]


@neurodata_type("core")
class ImageSeries(TimeSeries):
    """Frames over time, as ``data`` (frame, x, y[, z]) or as ``external_file`` paths."""

    data: Any = dataset(dims=(("frame", "x", "y"), ("frame", "x", "y", "z")), lazy=True, default=None)
    unit: str = attribute(on="data", default="unknown")
    format: str | None = dataset(dtype="text", default=None, doc="'raw', 'external', or an image codec name")
    external_file: tuple[str, ...] | None = dataset(dtype="text", dims=(("num_files",),), default=None)
    starting_frame: Any = attribute(
        on="external_file",
        dtype="int32",
        dims=(("num_files",),),
        default=None,
        doc="first frame of each file",
    )
    dimension: Any = dataset(dtype="int32", dims=(("rank",),), default=None, doc="frame size in pixels")
    num_samples: int | None = dataset(dtype="uint32", default=None, doc="frames in the external files")
    device: Device | None = link(default=None)

    #: what ``data`` holds when frames live in external files (PyNWB's placeholder: empty, 3-D)
    EXTERNAL_DATA: ClassVar[np.ndarray] = np.zeros((0, 0, 0), dtype=np.uint8)

    def _validate(self) -> None:
        # PyNWB's placeholder for external files is an empty (0, 0, 0) array: that is no data
        has_data = self.data is not None and tuple(getattr(self.data, "shape", ())) != (0, 0, 0)
        if self.external_file is not None:
            if has_data:
                raise self._fail("data", "give either data or external_file, not both")
            if self.data is None:
                self.data = self.EXTERNAL_DATA
            if self.format is None:
                self.format = "external"
            elif self.format != "external":
                raise self._fail("format", f"must be 'external' with external_file, got {self.format!r}")
            if self.starting_frame is None:
                if len(self.external_file) != 1:
                    raise self._fail("starting_frame", "is required with more than one external file")
                self.starting_frame = [0]
            if len(self.starting_frame) != len(self.external_file):
                raise self._fail("starting_frame", f"needs one entry per external file ({len(self.external_file)})")
            if self.rate is not None and self.num_samples is None:
                raise self._fail("num_samples", "is required for an external-file series timed by rate")
        elif not has_data:
            raise self._fail("data", "give data, or external_file (with format='external')")
        elif self.format == "external":
            raise self._fail("format", "'external' needs external_file")
        super()._validate()
