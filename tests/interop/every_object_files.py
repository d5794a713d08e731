"""The issue's imaging session built with the same calls by ``nwbzarr`` or by ``pynwb``.

Beyond the calcium-imaging tutorial: a OnePhotonSeries, an ``Images`` container (mean and max images
with their order), trials with tags and ``timeseries`` references, epochs, invalid times, a custom
TimeIntervals, units with ragged spike times and observation intervals, a ``behavior`` module with every
behaviour type, stimulus series and templates, annotations, a Subject, and analysis and scratch tables.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from nwbzarr.testing.tutorial import build_tutorial_file

__all__ = ["build_session", "check_both_ways", "new_file"]


def build_session(library: str) -> Any:
    """The session, built by ``library`` ('nwbzarr' or 'pynwb')."""
    mod = {
        name: importlib.import_module(f"{library}.{name}")
        for name in ("base", "behavior", "epoch", "file", "image", "misc", "ophys")
    }
    top = importlib.import_module(library)
    rng = np.random.default_rng(3)
    nwbfile = build_tutorial_file(library, frames=20, size=16)
    nwbfile.subject = mod["file"].Subject(subject_id="m17", species="Mus musculus", age="P90D", sex="F")
    plane = nwbfile.imaging_planes["ImagingPlane"]
    nwbfile.add_acquisition(
        mod["ophys"].OnePhotonSeries(
            name="OnePhotonSeries",
            data=rng.integers(0, 100, (10, 8, 8), dtype=np.uint16),
            imaging_plane=plane,
            rate=20.0,
            unit="n.a.",
            exposure_time=0.01,
        )
    )
    ophys = nwbfile.processing["ophys"]
    mean = mod["image"].GrayscaleImage(name="meanImg", data=rng.random((16, 16)), description="mean image")
    top_img = mod["image"].GrayscaleImage(name="max_proj", data=rng.random((16, 16)), resolution=2.0)
    images = mod["base"].Images(
        name="Backgrounds_0",
        images=[mean, top_img],
        description="projections",
        order_of_images=mod["base"].ImageReferences(name="order_of_images", data=[top_img, mean]),
    )
    ophys.add(images)

    speed = top.TimeSeries(name="running_speed", data=rng.random(100), unit="cm/s", rate=10.0)
    position = mod["behavior"].Position(
        spatial_series=mod["behavior"].SpatialSeries(
            name="position", data=rng.random((100, 2)), reference_frame="arena corner", timestamps=np.arange(100) / 10.0
        )
    )
    behavior = nwbfile.create_processing_module(name="behavior", description="behaviour")
    behavior.add(position)
    behavior.add(mod["behavior"].BehavioralTimeSeries(name="BehavioralTimeSeries", time_series=speed))
    behavior.add(
        mod["behavior"].CompassDirection(
            spatial_series=mod["behavior"].SpatialSeries(
                name="heading", data=rng.random(100), unit="radians", rate=10.0
            )
        )
    )
    behavior.add(
        mod["behavior"].PupilTracking(
            time_series=top.TimeSeries(name="pupil_radius", data=rng.random(50), unit="mm", rate=5.0)
        )
    )
    behavior.add(
        mod["behavior"].EyeTracking(
            spatial_series=mod["behavior"].SpatialSeries(name="gaze", data=rng.random((50, 2)), unit="deg", rate=5.0)
        )
    )
    behavior.add(
        mod["behavior"].BehavioralEvents(
            time_series=top.TimeSeries(name="rewards", data=np.ones(3), unit="ml", timestamps=[1.0, 2.5, 4.0])
        )
    )
    running = mod["misc"].IntervalSeries(name="running", data=[1, -1, 1, -1], timestamps=[0.5, 1.5, 3.0, 4.0])
    behavior.add(mod["behavior"].BehavioralEpochs(interval_series=running))

    grating = mod["image"].ImageSeries(name="gratings", data=rng.random((4, 8, 8)), unit="n.a.", rate=1.0)
    nwbfile.add_stimulus(grating)
    templates = mod["base"].Images(
        name="stimulus_images",
        description="natural scenes",
        images=[
            mod["image"].RGBImage(name="scene_rgb", data=rng.random((8, 8, 3))),
            mod["image"].RGBAImage(name="scene_rgba", data=rng.random((8, 8, 4))),
        ],
    )
    nwbfile.add_stimulus_template(templates)
    nwbfile.add_stimulus(
        mod["image"].IndexSeries(
            name="scene_index",
            data=np.array([0, 1, 0], dtype=np.uint32),
            indexed_images=templates,
            unit="N/A",
            timestamps=[0.0, 1.0, 2.0],
        )
    )
    nwbfile.add_stimulus(
        mod["image"].OpticalSeries(
            name="monitor",
            data=rng.random((3, 8, 8)),
            unit="n.a.",
            rate=1.0,
            distance=0.7,
            field_of_view=[0.2, 0.3],
            orientation="lower left is (0, 0)",
        )
    )
    notes = mod["misc"].AnnotationSeries(name="notes", data=["start", "lick"], timestamps=[0.0, 1.5])
    nwbfile.add_acquisition(notes)
    nwbfile.add_acquisition(speed)

    nwbfile.add_trial_column("stimulus", "what was shown")
    for i in range(3):
        nwbfile.add_trial(
            start_time=float(i),
            stop_time=i + 0.5,
            stimulus=f"grating {i * 45}",
            tags=["go", f"t{i}"],
            timeseries=[speed],
        )
    nwbfile.add_epoch(start_time=0.0, stop_time=5.0, tags="awake")
    nwbfile.add_invalid_time_interval(start_time=4.0, stop_time=4.2)
    sleep = mod["epoch"].TimeIntervals(name="sleep", description="sleep bouts")
    sleep.add_interval(start_time=6.0, stop_time=9.0)
    nwbfile.add_time_intervals(sleep)

    nwbfile.add_unit_column("quality", "sorting quality")
    for i in range(3):
        nwbfile.add_unit(
            spike_times=np.sort(rng.random(4 + i)) * 5,
            obs_intervals=[[0.0, 5.0]] * (i + 1),
            quality=["good", "mua", "good"][i],
        )
    table_cls = top.DynamicTable if library == "nwbzarr" else importlib.import_module("hdmf.common").DynamicTable
    summary = table_cls(name="summary", description="per-trial summary")
    summary.add_column("hits", "hit count")
    summary.add_row(hits=3)
    nwbfile.add_analysis(summary)
    return nwbfile


def new_file(library: str) -> Any:
    """An empty NWBFile of ``library`` with the fixed test start time and identifiers."""
    from nwbzarr.testing.tutorial import SESSION_START

    top = importlib.import_module(library)
    return top.NWBFile("a test session", "TEST-ID", SESSION_START, file_create_date=[SESSION_START])


def check_both_ways(
    build: Callable[[str], Any], tmp_path: Path, check: Callable[[Any, Any], None] | None = None
) -> int:
    """``build(library)`` reads the same in both libraries, both formats, both directions.

    PyNWB (HDF5) and hdmf-zarr (Zarr) write PyNWB's file and nwbzarr reads every field equal; nwbzarr
    writes its own file to HDF5 and Zarr and PyNWB reads every value equal. ``check(ours, theirs)`` runs
    on each read of PyNWB's file while both are open. Returns the number of values compared.
    """
    import pynwb
    from hdmf_zarr import NWBZarrIO as TheirZarrIO

    from nwbzarr import NWBHDF5IO, NWBZarrIO

    from .compare import assert_same_as_pynwb

    ours_io = {"hdf5": NWBHDF5IO, "zarr": NWBZarrIO}
    their_io = {"hdf5": pynwb.NWBHDF5IO, "zarr": TheirZarrIO}
    suffix = {"hdf5": "nwb", "zarr": "nwb.zarr"}
    compared = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyNWB's deprecation notes (BehavioralEvents...) are not under test
        for fmt in ("hdf5", "zarr"):
            theirs_path = tmp_path / f"pynwb.{suffix[fmt]}"
            with their_io[fmt](str(theirs_path), mode="w") as io:
                io.write(build("pynwb"))
            with ours_io[fmt](theirs_path) as io, their_io[fmt](str(theirs_path), mode="r") as tio:
                ours, theirs = io.read(), tio.read()
                compared += assert_same_as_pynwb(ours, theirs)
                if check is not None:
                    check(ours, theirs)
            ours_path = tmp_path / f"ours.{suffix[fmt]}"
            built = build("nwbzarr")
            with ours_io[fmt](ours_path, "w") as io:
                io.write(built)
            with their_io[fmt](str(ours_path), mode="r") as tio:
                compared += assert_same_as_pynwb(built, tio.read())
                if fmt == "hdf5":
                    assert pynwb.validate(io=tio) == []
    return compared
