"""ROI masks of every kind become the same footprint and outline (x is the column, y the row)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nwbzarr import NWBZarrIO
from nwbzarr.display.budget import ReadBudget
from nwbzarr.display.masks import Footprint, outline, read_masks
from nwbzarr.model import ImageSegmentation, NWBFile, PlaneSegmentation

ROWS, COLS = range(5, 8), range(10, 14)  # a 3 x 4 block: rows 5-7, columns 10-13


def _segmentation(nwbfile: NWBFile) -> ImageSegmentation:
    seg = nwbfile.processing["ophys"]["ImageSegmentation"]
    assert isinstance(seg, ImageSegmentation)
    return seg


def _tables(nwbfile: NWBFile) -> dict[str, PlaneSegmentation]:
    seg = _segmentation(nwbfile)
    plane = nwbfile.imaging_planes["ImagingPlane"]
    tables = {}
    for kind in ("image", "pixel", "voxel"):
        table = seg.create_plane_segmentation(name=f"{kind}_rois", description=kind, imaging_plane=plane)
        if kind == "image":
            mask = np.zeros((20, 20))
            mask[5:8, 10:14] = 1.0
            table.add_roi(image_mask=mask)
        elif kind == "pixel":
            table.add_roi(pixel_mask=[(x, y, 1.0) for y in ROWS for x in COLS])
        else:
            table.add_roi(voxel_mask=[(x, y, z, 1.0) for y in ROWS for x in COLS for z in (0, 3)])
        tables[kind] = table
    return tables


def test_every_kind_gives_the_same_footprint(tutorial_file: NWBFile, store_path: Path) -> None:
    _tables(tutorial_file)
    with NWBZarrIO(store_path, "w") as io:
        io.write(tutorial_file)
    stored = NWBZarrIO(store_path, "r").read()
    for source in (tutorial_file, stored):
        seg = _segmentation(source)
        for kind in ("image", "pixel", "voxel"):
            masks = read_masks(seg[f"{kind}_rois"], ReadBudget(limit=1 << 20))
            assert masks is not None and masks.kind == f"{kind}_mask" and masks.total == 1
            (footprint,) = masks.footprints
            assert (footprint.row, footprint.top, footprint.left) == (0, 5, 10)
            assert footprint.weights.shape == (3, 4) and footprint.weights.min() == 1.0


def test_the_budget_limits_how_many_rois_are_read(tutorial_file: NWBFile, store_path: Path) -> None:
    pixel = _segmentation(tutorial_file)["PlaneSegmentation2"]
    index = pixel["pixel_mask"].index
    assert index is not None
    index_bytes = index.as_array().nbytes
    budget = ReadBudget(limit=index_bytes + 10 * 12 * 12)  # the index, and the 12 pixels of 10 of its 30 ROIs
    masks = read_masks(pixel, budget)
    assert masks is not None and len(masks.footprints) == 10 and masks.total == 30
    assert budget.decoded == budget.limit
    # stored, the 360 pixels are one chunk: a read of any of them costs all of them
    with NWBZarrIO(store_path, "w") as io:
        io.write(tutorial_file)
    stored = _segmentation(NWBZarrIO(store_path, "r").read())["PlaneSegmentation2"]
    masks = read_masks(stored, ReadBudget(limit=budget.limit))
    assert masks is not None and masks.footprints == ()
    masks = read_masks(stored, ReadBudget(limit=budget.limit + 360 * 12))
    assert masks is not None and len(masks.footprints) == 30


def test_outline_surrounds_the_footprint() -> None:
    footprint = Footprint(row=0, top=5, left=10, weights=np.ones((3, 4)))
    (line,) = outline(footprint)
    assert np.allclose(line[0], line[-1])  # closed
    cols, rows = line[:, 0], line[:, 1]
    assert cols.min() >= 9 and cols.max() <= 14 and rows.min() >= 4 and rows.max() <= 8
    assert cols.min() < 10 and cols.max() > 13 and rows.min() < 5 and rows.max() > 7  # around every pixel
    soft = np.exp(-((np.arange(9)[:, None] - 4) ** 2 + (np.arange(9)[None, :] - 4) ** 2) / 8.0)
    (ring,) = outline(Footprint(row=0, top=0, left=0, weights=soft), fraction=0.5)
    radius = np.hypot(ring[:, 0] - 4, ring[:, 1] - 4)
    assert np.allclose(radius, np.sqrt(8 * np.log(2)), atol=0.2)  # the half-maximum circle
