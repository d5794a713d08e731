"""ROI masks of any kind (image, pixel, voxel) as small 2-D footprints and their outlines.

Footprints are kept cropped to each ROI's bounding box, so a thousand ROIs of a 512 x 512 plane cost
kilobytes, not gigabytes. Pixel and voxel masks follow PyNWB's ``pixel_to_image``: ``x`` is the column
and ``y`` the row of a frame; voxel masks are projected along ``z`` (the largest weight).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from nwbzarr.abc.array import LazyArray
from nwbzarr.core.optional import require
from nwbzarr.display.budget import OverBudgetError, ReadBudget, read_unit
from nwbzarr.model.ophys import PlaneSegmentation
from nwbzarr.model.table import VectorData, VectorIndex

__all__ = ["MASK_KINDS", "Footprint", "RoiMasks", "outline", "read_masks"]

MASK_KINDS = ("image_mask", "pixel_mask", "voxel_mask")


@dataclass(frozen=True, slots=True)
class Footprint:
    """One ROI: its table row, the top-left pixel of its box, and its 2-D weights in that box."""

    row: int
    top: int
    left: int
    weights: np.ndarray


@dataclass(frozen=True, slots=True)
class RoiMasks:
    """The footprints read from one table (maybe fewer than it has, when the budget ran out)."""

    table: str
    kind: str  # image_mask, pixel_mask or voxel_mask
    total: int
    footprints: tuple[Footprint, ...]

    def extent(self) -> tuple[int, int]:
        """Rows and columns the footprints reach (a canvas size when there is no movie)."""
        rows = max((f.top + f.weights.shape[0] for f in self.footprints), default=0)
        cols = max((f.left + f.weights.shape[1] for f in self.footprints), default=0)
        return rows, cols


def read_masks(table: PlaneSegmentation, budget: ReadBudget) -> RoiMasks | None:
    """The table's footprints, reading as many ROIs as ``budget`` allows (in table order)."""
    columns = table.columns
    kind = next((k for k in MASK_KINDS if k in columns), None)
    if kind is None:
        return None
    column = columns[kind]
    what = f"{table.name}.{kind}"
    footprints = (
        tuple(_image_footprints(column, what, budget))
        if kind == "image_mask"
        else tuple(_listed_footprints(column, what, budget))
    )
    total = len(table)
    return RoiMasks(table=table.name, kind=kind, total=total, footprints=footprints)


def _source(column: VectorData | VectorIndex) -> Any:
    data = column.data
    return data if isinstance(data, (LazyArray, np.ndarray)) else column.as_array()


def _image_footprints(column: VectorData, what: str, budget: ReadBudget) -> Iterator[Footprint]:
    data = _source(column)
    n = int(data.shape[0])
    step = read_unit(data)[0] if isinstance(data, LazyArray) else 1
    for start in range(0, n, step):
        stop = min(n, start + step)
        try:
            block = budget.read(what, data, slice(start, stop))
        except OverBudgetError:
            return
        for offset, mask in enumerate(block):
            flat = np.asarray(mask, dtype=np.float64)
            if flat.ndim == 3:
                flat = flat.max(axis=2)
            footprint = _cropped(start + offset, flat)
            if footprint is not None:
                yield footprint


def _cropped(row: int, image: np.ndarray) -> Footprint | None:
    rows = np.flatnonzero(image.any(axis=1))
    cols = np.flatnonzero(image.any(axis=0))
    if not rows.size:
        return None
    top, left = int(rows[0]), int(cols[0])
    return Footprint(row, top, left, image[top : rows[-1] + 1, left : cols[-1] + 1].copy())


def _listed_footprints(column: VectorData, what: str, budget: ReadBudget) -> Iterator[Footprint]:
    """Pixel or voxel masks: one ragged list of (x, y[, z], weight) per ROI."""
    index = column.index
    if index is None:
        return
    offsets_source = _source(index)
    try:
        offsets = budget.read(f"{what}_index", offsets_source, slice(None)).astype(np.int64)
    except OverBudgetError:
        return
    data = _source(column)
    # the most ROIs whose entries fit what is left of the budget (entries are read in one slice)
    low, high = 0, len(offsets)
    while low < high:  # binary search: cost grows with the number of ROIs
        middle = (low + high + 1) // 2
        if budget.fits(data, slice(0, int(offsets[middle - 1]))):
            low = middle
        else:
            high = middle - 1
    count = low
    if not count:
        return
    entries = budget.read(what, data, slice(0, int(offsets[count - 1])))
    starts = np.concatenate([[0], offsets[: count - 1]])
    for row, (start, stop) in enumerate(zip(starts, offsets[:count], strict=True)):
        part = entries[int(start) : int(stop)]
        if not len(part):
            continue
        x, y, w = part["x"].astype(np.int64), part["y"].astype(np.int64), part["weight"].astype(np.float64)
        top, left = int(y.min()), int(x.min())
        box = np.zeros((int(y.max()) - top + 1, int(x.max()) - left + 1))
        np.maximum.at(box, (y - top, x - left), w)  # voxel masks: the largest weight along z
        yield Footprint(row, top, left, box)


def outline(footprint: Footprint, fraction: float = 0.2) -> list[np.ndarray]:
    """Closed outlines (arrays of (column, row) points) where the weight crosses ``fraction`` of its peak."""
    contourpy = require("contourpy", "ROI outlines")
    peak = float(footprint.weights.max())
    if not peak > 0:
        return []
    padded = np.pad(footprint.weights, 1)
    generator = contourpy.contour_generator(z=padded)
    lines = generator.lines(peak * fraction)
    shift = np.array([footprint.left - 1, footprint.top - 1], dtype=np.float64)
    return [np.asarray(line, dtype=np.float64) + shift for line in lines if len(line) > 2]
