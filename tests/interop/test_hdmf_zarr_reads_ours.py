"""PyNWB 4.2 with hdmf-zarr 0.14 reads every store nwbzarr writes, with every value equal."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from nwbzarr import NWBZarrIO
from nwbzarr.model import NWBFile, Subject, TimeSeries

from .compare import assert_same_as_pynwb

hdmf_zarr = pytest.importorskip("hdmf_zarr")
pytestmark = pytest.mark.interop


def _pynwb_read(path: Path) -> tuple[object, object]:
    io = hdmf_zarr.NWBZarrIO(str(path), mode="r")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return io, io.read()


def test_tutorial_value_for_value(tutorial_file: NWBFile, store_path: Path) -> None:
    with NWBZarrIO(store_path, "w") as io:
        io.write(tutorial_file)
    io, theirs = _pynwb_read(store_path)
    try:
        compared = assert_same_as_pynwb(tutorial_file, theirs)
        assert compared > 150
        ours_movie = np.asarray(tutorial_file.acquisition["TwoPhotonSeries1"].data)  # type: ignore[attr-defined]
        assert np.array_equal(theirs.acquisition["TwoPhotonSeries1"].data[5:9, 3:30], ours_movie[5:9, 3:30])  # type: ignore[attr-defined]
    finally:
        io.close()  # type: ignore[attr-defined]


def test_full_metadata_and_sharded_movie(tutorial_file: NWBFile, store_path: Path) -> None:
    tutorial_file.keywords = ("calcium", "V1")
    tutorial_file.notes = "notes"
    tutorial_file.protocol = "IACUC-1"
    tutorial_file.related_publications = ("doi:10.1/abc",)
    tutorial_file.subject = Subject(species="Mus musculus", age="P90D", sex="F", subject_id="m1", genotype="wt")
    tutorial_file.subject.parent = tutorial_file
    plane = tutorial_file.imaging_planes["ImagingPlane"]
    from nwbzarr.model import TwoPhotonSeries

    movie = np.random.default_rng(2).poisson(200, size=(512, 128, 128)).astype(np.uint16)  # 16 MiB: sharded
    tutorial_file.add_acquisition(
        TwoPhotonSeries(
            name="movie",
            data=movie,
            imaging_plane=plane,
            rate=30.0,
            field_of_view=[0.0005, 0.0005],
            pmt_gain=2.5,
            scan_line_rate=15000.0,
            description="raw frames",
            comments="synthetic",
        )
    )
    tutorial_file.add_acquisition(
        TimeSeries(name="licks", data=np.arange(4.0), unit="n", timestamps=[0.1, 0.5, 0.9, 2.0])
    )
    with NWBZarrIO(store_path, "w") as io:
        io.write(tutorial_file)
    io, theirs = _pynwb_read(store_path)
    try:
        assert_same_as_pynwb(tutorial_file, theirs)
        meta = json.loads((store_path / "acquisition" / "movie" / "data" / "zarr.json").read_text())
        assert meta["codecs"][0]["name"] == "sharding_indexed"  # written by nwbzarr's own shard writer
        assert np.array_equal(theirs.acquisition["movie"].data[100], movie[100])  # type: ignore[attr-defined]
        assert np.array_equal(theirs.acquisition["movie"].data[:], movie)  # type: ignore[attr-defined]
        assert theirs.subject.species == "Mus musculus"  # type: ignore[attr-defined]
    finally:
        io.close()  # type: ignore[attr-defined]


def test_appended_store_still_reads(tutorial_file: NWBFile, store_path: Path) -> None:
    with NWBZarrIO(store_path, "w") as io:
        io.write(tutorial_file)
    with NWBZarrIO(store_path, "a") as io:
        nwbfile = io.read()
        nwbfile.add_acquisition(TimeSeries(name="speed", data=np.ones(3), unit="m/s", rate=1.0))
        io.write(nwbfile)
    io, theirs = _pynwb_read(store_path)
    try:
        assert np.array_equal(theirs.acquisition["speed"].data[:], np.ones(3))  # type: ignore[attr-defined]
        assert set(theirs.acquisition) == {"TwoPhotonSeries1", "TwoPhotonSeries2", "speed"}  # type: ignore[attr-defined]
    finally:
        io.close()  # type: ignore[attr-defined]


def test_stores_carry_the_schema_and_validate(tutorial_file: NWBFile, store_path: Path) -> None:
    import pynwb

    with NWBZarrIO(store_path, "w") as io:
        io.write(tutorial_file)
    assert (store_path / "specifications" / "core" / "2.11.0" / "nwb.ophys" / "zarr.json").exists()
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # "No cached namespaces found" would fail here
        io = hdmf_zarr.NWBZarrIO(str(store_path), mode="r")
    try:
        assert pynwb.validate(io=io) == []
    finally:
        io.close()
