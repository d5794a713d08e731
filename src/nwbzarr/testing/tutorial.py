"""The seed calcium-imaging tutorial as a function, for tests and comparisons with PyNWB.

``build_tutorial_file(api)`` runs the tutorial's calls against either ``nwbzarr`` or ``pynwb``
(same calls, same random masks), so both libraries can build the same file side by side.
"""

from __future__ import annotations

from datetime import datetime
from types import ModuleType
from typing import Any

import numpy as np

__all__ = ["build_tutorial_file", "tutorial_api"]

SESSION_START = datetime.fromisoformat("2024-01-02T03:04:05+00:00")


def tutorial_api(library: str = "nwbzarr") -> dict[str, Any]:
    """The classes the tutorial imports, from ``nwbzarr`` or ``pynwb``."""
    import importlib

    top: ModuleType = importlib.import_module(library)
    image = importlib.import_module(f"{library}.image")
    ophys = importlib.import_module(f"{library}.ophys")
    names = [
        "TwoPhotonSeries",
        "OpticalChannel",
        "ImageSegmentation",
        "Fluorescence",
        "DfOverF",
        "CorrectedImageStack",
        "MotionCorrection",
        "RoiResponseSeries",
    ]
    api = {name: getattr(ophys, name) for name in names}
    api.update(NWBFile=top.NWBFile, TimeSeries=top.TimeSeries, ImageSeries=image.ImageSeries)
    return api


def build_tutorial_file(
    library: str = "nwbzarr", *, frames: int = 1000, size: int = 100, seed: int = 0, with_dff: bool = True
) -> Any:
    """The tutorial's NWBFile (``frames`` x ``size`` x ``size`` series; 30 ROIs of each mask kind)."""
    api = tutorial_api(library)
    rng = np.random.RandomState(seed)
    nwbfile = api["NWBFile"](
        "my first synthetic recording",
        "EXAMPLE_ID",
        SESSION_START,
        experimenter="Dr. Bilbo Baggins",
        lab="Bag End Laboratory",
        institution="University of Middle Earth at the Shire",
        experiment_description="I went on an adventure with thirteen dwarves to reclaim vast treasures.",
        session_id="LONELYMTN",
        file_create_date=[SESSION_START],
    )
    device = nwbfile.create_device(
        name="Microscope",
        description="My two-photon microscope",
        manufacturer="The best microscope manufacturer",
    )
    optical_channel = api["OpticalChannel"](
        name="OpticalChannel", description="an optical channel", emission_lambda=500.0
    )
    imaging_plane = nwbfile.create_imaging_plane(
        name="ImagingPlane",
        optical_channel=optical_channel,
        imaging_rate=30.0,
        description="a very interesting part of the brain",
        device=device,
        excitation_lambda=600.0,
        indicator="GFP",
        location="V1",
        grid_spacing=[0.01, 0.01],
        grid_spacing_unit="meters",
        origin_coords=[1.0, 2.0, 3.0],
        origin_coords_unit="meters",
    )
    movie = rng.rand(frames, size, size)
    image_series1 = api["TwoPhotonSeries"](
        name="TwoPhotonSeries1",
        data=movie,
        imaging_plane=imaging_plane,
        rate=1.0,
        unit="normalized amplitude",
    )
    image_series2 = api["TwoPhotonSeries"](
        name="TwoPhotonSeries2",
        dimension=[size, size],
        external_file=["images.tiff"],
        imaging_plane=imaging_plane,
        starting_frame=[0],
        format="external",
        starting_time=0.0,
        rate=1.0,
        num_samples=frames,
    )
    nwbfile.add_acquisition(image_series1)
    nwbfile.add_acquisition(image_series2)
    corrected = api["ImageSeries"](
        name="corrected", data=movie + 1.0, unit="na", format="raw", starting_time=0.0, rate=1.0
    )
    xy_translation = api["TimeSeries"](
        name="xy_translation", data=rng.rand(frames, 2), unit="pixels", starting_time=0.0, rate=1.0
    )
    stack = api["CorrectedImageStack"](corrected=corrected, original=image_series1, xy_translation=xy_translation)
    motion_correction = api["MotionCorrection"](corrected_image_stacks=[stack])
    ophys_module = nwbfile.create_processing_module(name="ophys", description="optical physiology processed data")
    ophys_module.add(motion_correction)
    img_seg = api["ImageSegmentation"]()
    tables = []
    for name in ("PlaneSegmentation", "PlaneSegmentation2", "PlaneSegmentation3"):
        tables.append(
            img_seg.create_plane_segmentation(
                name=name,
                description="output from segmenting my favorite imaging plane",
                imaging_plane=imaging_plane,
                reference_images=image_series1,
            )
        )
    ophys_module.add(img_seg)
    edge = size - 5
    for _ in range(30):
        image_mask = np.zeros((size, size))
        x, y = rng.randint(0, edge), rng.randint(0, edge)
        image_mask[x : x + 5, y : y + 5] = 1
        tables[0].add_roi(image_mask=image_mask)
    for _ in range(30):
        x, y = rng.randint(0, edge), rng.randint(0, edge)
        tables[1].add_roi(pixel_mask=[(ix, iy, 1) for ix in range(x, x + 4) for iy in range(y, y + 3)])
    for _ in range(30):
        x, y, z = rng.randint(0, edge), rng.randint(0, edge), rng.randint(0, 15)
        tables[2].add_roi(
            voxel_mask=[(ix, iy, iz, 0.5) for ix in range(x, x + 4) for iy in range(y, y + 3) for iz in range(z, z + 2)]
        )
    region = tables[0].create_roi_table_region(region=[0, 1], description="the first of two ROIs")
    traces = api["RoiResponseSeries"](
        name="RoiResponseSeries", data=rng.rand(50, 2), rois=region, unit="lumens", rate=30.0
    )
    ophys_module.add(api["Fluorescence"](roi_response_series=traces))
    if with_dff:
        region2 = tables[0].create_roi_table_region(region=[0, 1], description="the first of two ROIs")
        dff = api["RoiResponseSeries"](
            name="RoiResponseSeries", data=rng.rand(50, 2), rois=region2, unit="lumens", rate=30.0
        )
        ophys_module.add(api["DfOverF"](roi_response_series=dff))
    return nwbfile
