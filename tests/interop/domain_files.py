"""Small NWB HDF5 files written by PyNWB itself, one per domain (for storage-level comparisons)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from tests.interop.pynwb_files import write_ecephys_file

from nwbzarr.testing.tutorial import build_tutorial_file

__all__ = ["DOMAINS", "write_domain_file"]

START = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)


def _nwbfile() -> Any:
    from pynwb import NWBFile

    return NWBFile(
        session_description="stored types",
        identifier="types-1",
        session_start_time=START,
        experimenter=["Ada"],
        keywords=["a", "b"],
    )


def _write(nwbfile: Any, path: Path) -> None:
    from pynwb import NWBHDF5IO

    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwbfile)


def _ophys(path: Path) -> None:
    _write(build_tutorial_file("pynwb", frames=10, size=8), path)


def _icephys(path: Path) -> None:
    """Current/voltage clamp series with unsigned sweep numbers and every icephys table."""
    from pynwb.icephys import CurrentClampSeries, CurrentClampStimulusSeries

    nwbfile = _nwbfile()
    device = nwbfile.create_device(name="amp")
    electrode = nwbfile.create_icephys_electrode(name="elec0", description="patch", device=device)
    rows = []
    for sweep in range(3):
        stimulus = CurrentClampStimulusSeries(
            name=f"stim{sweep}",
            data=np.arange(10, dtype=np.float64),
            rate=1000.0,
            electrode=electrode,
            gain=0.02,
            sweep_number=np.uint64(sweep),
        )
        response = CurrentClampSeries(
            name=f"resp{sweep}",
            data=np.linspace(0, 1, 10),
            rate=1000.0,
            electrode=electrode,
            gain=0.02,
            bias_current=1e-12,
            bridge_balance=7e7,
            capacitance_compensation=1e-12,
            sweep_number=np.uint64(sweep),
        )
        rows.append(nwbfile.add_intracellular_recording(electrode=electrode, stimulus=stimulus, response=response))
    simultaneous = nwbfile.add_icephys_simultaneous_recording(recordings=rows)
    sequential = nwbfile.add_icephys_sequential_recording(simultaneous_recordings=[simultaneous], stimulus_type="sq")
    repetition = nwbfile.add_icephys_repetition(sequential_recordings=[sequential])
    nwbfile.add_icephys_experimental_condition(repetitions=[repetition])
    _write(nwbfile, path)


def _behavior(path: Path) -> None:
    from pynwb import TimeSeries
    from pynwb.behavior import BehavioralTimeSeries, Position, SpatialSeries

    nwbfile = _nwbfile()
    module = nwbfile.create_processing_module(name="behavior", description="behavior")
    position = Position(name="Position")
    position.add_spatial_series(
        SpatialSeries(
            name="xy",
            data=np.random.default_rng(1).random((20, 2)),
            reference_frame="arena corner",
            timestamps=np.arange(20, dtype=np.float64) / 10,
        )
    )
    module.add(position)
    events = BehavioralTimeSeries(name="licks")
    events.add_timeseries(
        TimeSeries(name="lick", data=np.ones(4, dtype=np.uint8), unit="n/a", timestamps=[1.0, 2.0, 3.0, 4.0])
    )
    module.add(events)
    _write(nwbfile, path)


def _images(path: Path) -> None:
    from pynwb.base import ImageReferences, Images
    from pynwb.image import GrayscaleImage, ImageSeries, RGBImage

    nwbfile = _nwbfile()
    gray = GrayscaleImage(name="gray", data=np.arange(64, dtype=np.uint8).reshape(8, 8), resolution=2.0)
    rgb = RGBImage(name="rgb", data=np.zeros((4, 4, 3), dtype=np.uint8), description="rgb")
    nwbfile.add_acquisition(
        Images(
            name="stills", images=[gray, rgb], order_of_images=ImageReferences(name="order_of_images", data=[rgb, gray])
        )
    )
    nwbfile.add_acquisition(
        ImageSeries(
            name="external",
            external_file=["movie.mp4"],
            starting_frame=[0],
            format="external",
            rate=30.0,
            num_samples=5,
        )
    )
    _write(nwbfile, path)


def _extension(path: Path) -> None:
    """A file with an extension namespace (a typed group with a uint16 attribute), cached in the file."""
    from pynwb import NWBHDF5IO, get_class, load_namespaces
    from pynwb.spec import NWBAttributeSpec, NWBGroupSpec, NWBNamespaceBuilder

    root = path.parent / "ext"
    root.mkdir(exist_ok=True)
    builder = NWBNamespaceBuilder(doc="a test extension", name="ndx-types", version="0.1.0")
    builder.include_type("LabMetaData", namespace="core")
    spec = NWBGroupSpec(
        neurodata_type_def="TypedMeta",
        neurodata_type_inc="LabMetaData",
        doc="metadata with typed attributes",
        attributes=[
            NWBAttributeSpec(name="count", doc="a count", dtype="uint16"),
            NWBAttributeSpec(name="gain", doc="a gain", dtype="float32"),
        ],
    )
    builder.add_spec("ndx-types.extensions.yaml", spec)
    builder.export("ndx-types.namespace.yaml", outdir=str(root))
    load_namespaces(str(root / "ndx-types.namespace.yaml"))
    typed_meta = get_class("TypedMeta", "ndx-types")
    nwbfile = _nwbfile()
    nwbfile.add_lab_meta_data(typed_meta(name="meta", count=np.uint16(7), gain=np.float32(0.5)))
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwbfile)


DOMAINS: dict[str, Callable[[Path], None]] = {
    "ophys": _ophys,
    "ecephys": write_ecephys_file,
    "icephys": _icephys,
    "behavior": _behavior,
    "images": _images,
    "extension": _extension,
}


def write_domain_file(domain: str, path: Path) -> Path:
    """PyNWB's HDF5 file of ``domain`` at ``path``."""
    DOMAINS[domain](path)
    return path
