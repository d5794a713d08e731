"""NWBZarrIO: round trips, modes, laziness measured by counting store reads, layouts."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from zarr.storage import LocalStore, MemoryStore

from nwbzarr import DataIO, NWBZarrIO
from nwbzarr.errors import (
    InvalidStoreError,
    NWBZarrError,
    ReadOnlyError,
    StoreExistsError,
    StoreNotFoundError,
    ValidationError,
)
from nwbzarr.model import NWBFile, PlaneSegmentation, TimeSeries, TwoPhotonSeries
from nwbzarr.testing.counting import CountingStore


def _write(nwbfile: NWBFile, target: object, mode: str = "w") -> None:
    with NWBZarrIO(target, mode) as io:  # type: ignore[arg-type]
        io.write(nwbfile)


def _read(target: object) -> NWBFile:
    with NWBZarrIO(target, "r") as io:  # type: ignore[arg-type]
        return io.read()


def test_round_trip_every_field(tutorial_file: NWBFile, store_path: Path) -> None:
    _write(tutorial_file, store_path)
    back = _read(store_path)
    assert back == tutorial_file
    # links resolve to the same objects
    ophys = back.processing["ophys"]
    stack = ophys["MotionCorrection"]["CorrectedImageStack"]  # type: ignore[index]
    assert stack.original is back.acquisition["TwoPhotonSeries1"]
    ps = ophys["ImageSegmentation"]["PlaneSegmentation"]  # type: ignore[index]
    assert ps.imaging_plane is back.imaging_planes["ImagingPlane"]
    assert ps.reference_images["TwoPhotonSeries1"] is back.acquisition["TwoPhotonSeries1"]
    rois = ophys["Fluorescence"]["RoiResponseSeries"].rois  # type: ignore[index]
    assert rois.table is ps and list(rois.data[:]) == [0, 1]


def test_dataframes_equal_after_round_trip(tutorial_file: NWBFile, store_path: Path) -> None:
    _write(tutorial_file, store_path)
    back = _read(store_path)
    for name in ("PlaneSegmentation", "PlaneSegmentation2", "PlaneSegmentation3"):
        before = tutorial_file.processing["ophys"]["ImageSegmentation"][name].to_dataframe()  # type: ignore[index]
        after = back.processing["ophys"]["ImageSegmentation"][name].to_dataframe()  # type: ignore[index]
        assert list(before.index) == list(after.index)
        for column in before.columns:
            for x, y in zip(before[column], after[column], strict=True):
                assert np.array_equal(np.asarray(x, dtype=float), np.asarray(y, dtype=float))


def test_ragged_masks_keep_their_rows(tutorial_file: NWBFile, store_path: Path) -> None:
    _write(tutorial_file, store_path)
    back = _read(store_path)
    ps2 = back.processing["ophys"]["ImageSegmentation"]["PlaneSegmentation2"]  # type: ignore[index]
    assert isinstance(ps2, PlaneSegmentation)
    row = ps2.cell("pixel_mask", 3)
    assert len(row) == 12 and tuple(row[0]) == tuple(
        tutorial_file.processing["ophys"]["ImageSegmentation"]["PlaneSegmentation2"].cell("pixel_mask", 3)[0]
    )  # type: ignore[index]
    ps3 = back.processing["ophys"]["ImageSegmentation"]["PlaneSegmentation3"]  # type: ignore[index]
    assert len(ps3.cell("voxel_mask", 29)) == 24


def test_read_costs_two_small_reads_and_no_listing(tutorial_file: NWBFile, store_path: Path) -> None:
    _write(tutorial_file, store_path)
    store = CountingStore(LocalStore(store_path, read_only=True))
    nwbfile = _read(store)
    # the write manifest (is the store complete?) and the consolidated metadata (everything else)
    assert dict(store.gets) == {"nwbzarr.json": 1, "zarr.json": 1} and store.lists == 0
    # metadata is all there without touching chunks
    series = nwbfile.acquisition["TwoPhotonSeries1"]
    assert isinstance(series, TwoPhotonSeries)
    assert series.data.shape == (60, 32, 32) and series.data.dtype == np.float64 and len(series.data) == 60
    assert series.rate == 1.0 and series.unit == "normalized amplitude"
    assert store.chunk_gets == 0


def test_slices_read_only_the_chunks_they_touch(tutorial_file: NWBFile, store_path: Path) -> None:
    movie = np.asarray(tutorial_file.acquisition["TwoPhotonSeries1"].data)  # type: ignore[attr-defined]
    tutorial_file.acquisition["TwoPhotonSeries1"].data = DataIO(movie, chunks=(10, 16, 16))  # type: ignore[attr-defined]
    _write(tutorial_file, store_path)
    store = CountingStore(LocalStore(store_path, read_only=True))
    data = _read(store).acquisition["TwoPhotonSeries1"].data  # type: ignore[attr-defined]
    store.reset()
    assert np.array_equal(data[5], movie[5])
    assert store.chunk_gets == 4  # one frame = the 2 x 2 spatial chunks of one time chunk
    store.reset()
    assert np.array_equal(data[0:10, 0:3], movie[0:10, 0:3])
    assert store.chunk_gets == 2
    store.reset()
    assert np.array_equal(data[:], movie)
    assert store.chunk_gets == 6 * 2 * 2


def test_imaging_series_are_sharded_by_default(store_path: Path, tutorial_file: NWBFile) -> None:
    plane = tutorial_file.imaging_planes["ImagingPlane"]
    movie = np.random.default_rng(0).poisson(100, size=(300, 128, 256)).astype(np.uint16)  # 19 MiB
    tutorial_file.add_acquisition(TwoPhotonSeries(name="big", data=movie, imaging_plane=plane, rate=30.0))
    _write(tutorial_file, store_path)
    meta = json.loads((store_path / "acquisition/big/data/zarr.json").read_text())
    codec = meta["codecs"][0]
    assert codec["name"] == "sharding_indexed"
    assert meta["chunk_grid"]["configuration"]["chunk_shape"][1:] == [128, 256]  # a shard spans whole frames
    inner = codec["configuration"]["chunk_shape"]
    assert inner[0] <= 8 and inner[1] < 128  # small inner chunks serve both frames and time courses
    back = _read(store_path).acquisition["big"].data  # type: ignore[attr-defined]
    assert np.array_equal(back[100:140, 10:20, 30:40], movie[100:140, 10:20, 30:40])


def test_user_chunks_and_compression(store_path: Path, tutorial_file: NWBFile) -> None:
    traces = np.random.default_rng(1).random((100, 7))
    tutorial_file.add_acquisition(
        TimeSeries(name="t", data=DataIO(traces, chunks=(25, 7), compression="gzip"), unit="m", rate=10.0)
    )
    _write(tutorial_file, store_path)
    meta = json.loads((store_path / "acquisition/t/data/zarr.json").read_text())
    assert meta["chunk_grid"]["configuration"]["chunk_shape"] == [25, 7]
    assert [c["name"] for c in meta["codecs"]] == ["bytes", "gzip", "crc32c"]
    assert np.array_equal(_read(store_path).acquisition["t"].data[:], traces)  # type: ignore[attr-defined]


def test_scalars_cost_no_chunk(store_path: Path, tutorial_file: NWBFile) -> None:
    _write(tutorial_file, store_path)
    assert not (store_path / "identifier" / "c").exists()
    assert json.loads((store_path / "identifier/zarr.json").read_text())["fill_value"] == "EXAMPLE_ID"


def test_mode_w_dash_refuses_an_existing_store(tutorial_file: NWBFile, store_path: Path) -> None:
    _write(tutorial_file, store_path)
    with pytest.raises(StoreExistsError):
        NWBZarrIO(store_path, "w-")
    assert _read(store_path) == tutorial_file


def test_mode_r_needs_a_store_and_never_writes(tutorial_file: NWBFile, store_path: Path) -> None:
    with pytest.raises(StoreNotFoundError):
        NWBZarrIO(store_path, "r")
    _write(tutorial_file, store_path)
    with NWBZarrIO(store_path, "r") as io, pytest.raises(ReadOnlyError):
        io.write(tutorial_file)


def test_mode_w_refuses_to_overwrite_a_folder_that_is_not_a_store(tutorial_file: NWBFile, tmp_path: Path) -> None:
    (tmp_path / "thesis.txt").write_text("precious")
    with pytest.raises(InvalidStoreError, match="not a Zarr store"):
        NWBZarrIO(tmp_path, "w")
    assert (tmp_path / "thesis.txt").read_text() == "precious"


def test_bad_mode() -> None:
    with pytest.raises(NWBZarrError, match="mode must be one of"):
        NWBZarrIO(MemoryStore(), "x")


def test_failed_write_leaves_no_store(tutorial_file: NWBFile, store_path: Path) -> None:
    class Exploding:
        shape = (4, 2, 2)
        dtype = np.dtype("float64")
        ndim = 3

        def __len__(self) -> int:
            return 4

        def __getitem__(self, key: object) -> np.ndarray:
            raise OSError("camera disconnected")

    plane = tutorial_file.imaging_planes["ImagingPlane"]
    tutorial_file.add_acquisition(TwoPhotonSeries(name="live", data=Exploding(), imaging_plane=plane, rate=1.0))
    with pytest.raises(OSError, match="camera disconnected"), NWBZarrIO(store_path, "w") as io:
        io.write(tutorial_file)
    assert not store_path.exists()


def test_changes_after_construction_are_validated_on_write(tutorial_file: NWBFile, store_path: Path) -> None:
    series = tutorial_file.acquisition["TwoPhotonSeries1"]
    series.rate = None  # type: ignore[attr-defined]
    with (
        pytest.raises(ValidationError, match=r"TwoPhotonSeries1.*give either rate"),
        NWBZarrIO(store_path, "w") as io,
    ):
        io.write(tutorial_file)
    assert not store_path.exists()
    series.rate = 1.0  # type: ignore[attr-defined]
    tutorial_file.devices["Microscope"].name = "a/b"
    with pytest.raises(ValidationError, match="cannot contain '/'"), NWBZarrIO(store_path, "w") as io:
        io.write(tutorial_file)
    assert not store_path.exists()


def test_append_adds_objects_without_rewriting(tutorial_file: NWBFile, store_path: Path) -> None:
    _write(tutorial_file, store_path)
    before = {
        p: p.stat().st_mtime_ns
        for p in store_path.rglob("*")
        if p.is_file() and p.name not in ("zarr.json", "nwbzarr.json")
    }
    with NWBZarrIO(store_path, "a") as io:
        nwbfile = io.read()
        nwbfile.add_acquisition(TimeSeries(name="running_speed", data=np.arange(5.0), unit="m/s", rate=30.0))
        io.write(nwbfile)
    after = {
        p: p.stat().st_mtime_ns
        for p in store_path.rglob("*")
        if p.is_file() and p.name not in ("zarr.json", "nwbzarr.json")
    }
    assert all(after[p] == t for p, t in before.items())  # no chunk rewritten
    back = _read(store_path)
    assert np.array_equal(back.acquisition["running_speed"].data[:], np.arange(5.0))  # type: ignore[attr-defined]
    tutorial_file.add_acquisition(TimeSeries(name="running_speed", data=np.arange(5.0), unit="m/s", rate=30.0))
    speed = tutorial_file.acquisition["running_speed"]
    speed.object_id = back.acquisition["running_speed"].object_id
    assert back == tutorial_file


def test_append_links_into_existing_groups(tutorial_file: NWBFile, store_path: Path) -> None:
    _write(tutorial_file, store_path)
    with NWBZarrIO(store_path, "a") as io:
        nwbfile = io.read()
        ps = nwbfile.processing["ophys"]["ImageSegmentation"]["PlaneSegmentation"]  # type: ignore[index]
        module = nwbfile.create_processing_module(name="behavior", description="running")
        module.add(TimeSeries(name="speed", data=np.ones(3), unit="m/s", rate=1.0))
        region = ps.create_roi_table_region(description="all", region=list(range(30)))
        from nwbzarr.model import DfOverF, RoiResponseSeries

        module.add(
            DfOverF(
                name="dff_all",
                roi_response_series=RoiResponseSeries(
                    name="all", data=np.zeros((4, 30)), rois=region, unit="a.u.", rate=30.0
                ),
            )
        )
        io.write(nwbfile)
    back = _read(store_path)
    dff = back.processing["behavior"]["dff_all"]["all"]  # type: ignore[index]
    assert dff.rois.table is back.processing["ophys"]["ImageSegmentation"]["PlaneSegmentation"]  # type: ignore[index]
