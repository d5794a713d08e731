"""xarray reads every store nwbzarr writes: open_zarr per typed group, open_datatree whole, the nwbzarr engine."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from nwbzarr import NWBHDF5IO, DataIO, NWBZarrIO
from nwbzarr.model import TimeSeries
from nwbzarr.testing import SyntheticSession, make_session, mock_NWBFile, mock_TwoPhotonSeries
from nwbzarr.testing.s3server import S3TestServer
from nwbzarr.tree.nodes import Group, walk

from .compare import assert_same
from .conftest import DEMO, MOVIE_SHARDS, arrays_of, demo_file

xr = pytest.importorskip("xarray")
pytest.importorskip("dask")

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::RuntimeWarning")


def _typed_groups(tree: Group) -> list[tuple[str, Group]]:
    return [(p.lstrip("/"), g) for p, g in walk(tree) if isinstance(g, Group) and "neurodata_type" in g.attrs]


@pytest.mark.parametrize("which", ["demo_store", "tutorial_store"])
def test_open_zarr_every_typed_group(which: str, request: pytest.FixtureRequest) -> None:
    path: Path = request.getfixturevalue(which)
    compared = 0
    with NWBZarrIO(path, "r") as io:
        tree = io.read_tree()
        groups = _typed_groups(tree)
        assert len(groups) >= 8
        for rel, group in groups:
            ds = xr.open_zarr(path, group=rel or None, consolidated=True, chunks=None)
            for name, node in group.members.items():
                if name in ds.variables:
                    assert_same(ds[name].values, node, f"{rel}/{name}")  # type: ignore[arg-type]
                    compared += 1
    assert compared >= 20


@pytest.mark.parametrize("which", ["demo_store", "tutorial_store", "converted_store", "converted_ecephys_store"])
def test_open_datatree_whole_store(which: str, request: pytest.FixtureRequest) -> None:
    path: Path = request.getfixturevalue(which)
    tree_xr = xr.open_datatree(path, engine="zarr", consolidated=True, chunks=None)
    compared = 0
    with NWBZarrIO(path, "r") as io:
        for rel, node in arrays_of(io.read_tree()):
            parent, _, name = rel.rpartition("/")
            ds = tree_xr[parent].dataset if parent else tree_xr.dataset
            assert name in ds.variables, f"{rel} missing from the DataTree"
            assert_same(ds[name].values, node, rel)
            compared += 1
    assert compared >= 30


def test_dimension_names_unique_where_sizes_differ(demo_store: Path) -> None:
    """general/ uses num_items for 4 keywords and 2 experimenters; _ARRAY_DIMENSIONS keeps the schema's name."""
    keywords = json.loads((demo_store / "general" / "keywords" / "zarr.json").read_text())
    experimenter = json.loads((demo_store / "general" / "experimenter" / "zarr.json").read_text())
    assert keywords["dimension_names"] == ["num_items_keywords"]
    assert experimenter["dimension_names"] == ["num_items_experimenter"]
    assert (
        keywords["attributes"]["_ARRAY_DIMENSIONS"] == experimenter["attributes"]["_ARRAY_DIMENSIONS"] == ["num_items"]
    )
    movie = json.loads((demo_store / "acquisition" / "TwoPhotonSeries" / "data" / "zarr.json").read_text())
    assert movie["dimension_names"] == movie["attributes"]["_ARRAY_DIMENSIONS"] == ["time", "width", "height"]
    # a name shared at one size stays shared: a trace and its timestamps share num_times
    with NWBZarrIO(demo_store, "r") as io:
        assert io.read_tree().members["general"].members["keywords"].dims == ("num_items",)  # type: ignore[union-attr]


def test_series_to_xarray_time_and_dims(demo_store: Path) -> None:
    with NWBZarrIO(demo_store, "r") as io:
        series = io.read().acquisition["TwoPhotonSeries"]
        movie = series.to_xarray()
        assert movie.dims == ("time", "width", "height")
        assert movie.attrs["unit"] == series.unit  # type: ignore[attr-defined]
        expected_time = series.starting_time + np.arange(DEMO.n_frames) / series.rate  # type: ignore[attr-defined]
        assert np.allclose(movie["time"].values, expected_time)
        assert np.array_equal(movie.sel(time=expected_time[7], method="nearest").values, series.data[7])  # type: ignore[attr-defined]
        # one Dask chunk per shard by default; chunks= overrides it
        assert movie.data.chunks[0] == (MOVIE_SHARDS[0],) * (DEMO.n_frames // MOVIE_SHARDS[0])
        assert series.data.to_dask().chunks == movie.data.chunks  # type: ignore[attr-defined]
        assert series.to_xarray(chunks=(4, 64, 64)).data.chunks[0] == (4,) * 12


def test_roi_response_series_roi_ids_and_scaled(tmp_path: Path) -> None:
    nwbfile = make_session(SyntheticSession(n_frames=30, height=32, width=32, n_cells=5))
    fluorescence = nwbfile.processing["ophys"]["Fluorescence"]
    original = fluorescence.roi_response_series["RoiResponseSeries"]  # type: ignore[attr-defined]
    table = original.rois.table
    object.__setattr__(table.id, "data", [10, 11, 12, 13, 14])
    region = table.create_roi_table_region(description="three ROIs", region=[3, 0, 4])
    traces = np.random.default_rng(1).integers(0, 1000, size=(30, 3)).astype(np.int16)
    stamps = np.sort(np.random.default_rng(2).uniform(0, 10, 30))
    fluorescence.create_roi_response_series(  # type: ignore[attr-defined]
        name="picked", data=traces, rois=region, unit="dF", timestamps=stamps, conversion=0.5, offset=-2.0
    )
    path = tmp_path / "rois.nwb.zarr"
    with NWBZarrIO(path, "w") as io:
        io.write(nwbfile)
    with NWBZarrIO(path, "r") as io:
        picked = io.read().processing["ophys"]["Fluorescence"].roi_response_series["picked"]  # type: ignore[attr-defined]
        da = picked.to_xarray()
        assert da.dims == ("num_times", "num_ROIs")
        assert da["roi_id"].values.tolist() == [13, 10, 14]
        assert np.array_equal(da.sel(roi_id=14).values, traces[:, 2])
        assert np.array_equal(da["time"].values, stamps)
        assert np.array_equal(da.sel(time=stamps[4]).values, traces[4])
        assert da.dtype == np.int16 and np.array_equal(da.values, traces)
        scaled = picked.to_xarray(scaled=True)
        assert scaled.dtype == np.float64
        assert np.allclose(scaled.values, traces * 0.5 - 2.0)
        assert (scaled.attrs["conversion"], scaled.attrs["offset"], scaled.attrs["unit"]) == (1.0, 0.0, "dF")


def test_in_memory_series_to_xarray() -> None:
    series = TimeSeries(name="speed", data=np.arange(12.0).reshape(6, 2), unit="m/s", rate=2.0, starting_time=1.0)
    da = series.to_xarray()
    assert da.dims == ("num_times", "num_DIM2")
    assert da["time"].values.tolist() == [1.0, 1.5, 2.0, 2.5, 3.0, 3.5]
    assert np.array_equal(da.values, np.arange(12.0).reshape(6, 2))


def test_plane_segmentation_to_xarray(tutorial_store: Path) -> None:
    with NWBZarrIO(tutorial_store, "r") as io:
        segmentation = io.read().processing["ophys"]["ImageSegmentation"]
        for table in segmentation.plane_segmentations.values():  # type: ignore[attr-defined]
            ds = table.to_xarray()
            assert np.array_equal(ds["id"].values, table.id.as_array())
            for name, column in table.columns.items():
                values = column.as_array()
                if values.dtype.names:
                    for field in values.dtype.names:
                        assert np.array_equal(ds[f"{name}_{field}"].values, values[field])
                else:
                    assert np.array_equal(ds[name].values, values)
                if column.index is not None:
                    assert np.array_equal(ds[f"{name}_index"].values, column.index.as_array())


def _series_values(path: Path | str, group: str, storage_options: dict[str, object] | None = None) -> np.ndarray:
    with NWBZarrIO(path, "r", storage_options=storage_options) as io:
        node = io.read_tree()
        for part in group.split("/"):
            node = node.members[part]  # type: ignore[union-attr,assignment]
        return np.asarray(node.members["data"].data.read())  # type: ignore[union-attr]


@pytest.mark.parametrize("group", ["acquisition/TwoPhotonSeries", "processing/ophys/Fluorescence/RoiResponseSeries"])
def test_engine_opens_local_zarr(demo_store: Path, group: str) -> None:
    ds = xr.open_dataset(demo_store, engine="nwbzarr", group=group)
    expected = _series_values(demo_store, group)
    assert np.array_equal(ds["data"][3].values, expected[3])  # a slice reads only its chunks
    assert np.array_equal(ds["data"].values, expected)
    assert "time" in ds.coords and ds.sizes[ds["data"].dims[0]] == DEMO.n_frames
    chunked = xr.open_dataset(demo_store, engine="nwbzarr", group=group, chunks={})
    if group.startswith("acquisition"):
        assert chunked["data"].chunks[0] == (MOVIE_SHARDS[0],) * 3  # one Dask chunk per shard
    with NWBZarrIO(demo_store, "r") as io:
        nwbfile = io.read()
        fluorescence = nwbfile.processing["ophys"]["Fluorescence"]
        series = (
            nwbfile.acquisition["TwoPhotonSeries"]
            if group.startswith("acquisition")
            else fluorescence.roi_response_series["RoiResponseSeries"]  # type: ignore[attr-defined]
        )
        # the engine's dataset is the series' to_xarray(), labels and values
        expected_da = series.to_xarray().load().drop_attrs().rename("data")
        xr.testing.assert_identical(chunked["data"].load().drop_attrs(), expected_da)
    ds.close()
    chunked.close()


def test_engine_scaled_tables_and_plain_groups(tmp_path: Path) -> None:
    nwbfile = demo_file()
    series = nwbfile.acquisition["TwoPhotonSeries"]
    object.__setattr__(series, "conversion", 0.25)
    object.__setattr__(series, "offset", 3.0)
    path = tmp_path / "scaled.nwb.zarr"
    with NWBZarrIO(path, "w") as io:
        io.write(nwbfile)
    movie = _series_values(path, "acquisition/TwoPhotonSeries")
    scaled = xr.open_dataset(path, engine="nwbzarr", group="acquisition/TwoPhotonSeries", scaled=True, chunks={})
    assert np.allclose(scaled["data"].values, movie * 0.25 + 3.0)
    table = xr.open_dataset(path, engine="nwbzarr", group="processing/ophys/ImageSegmentation/PlaneSegmentation")
    assert table.sizes["id"] == DEMO.n_cells and "pixel_mask_weight" in table
    general = xr.open_dataset(path, engine="nwbzarr", group="general")
    assert general["keywords"].dims == ("num_items_keywords",)
    assert "keywords" not in xr.open_dataset(path, engine="nwbzarr", group="general", drop_variables="keywords")


def test_engine_opens_hdf5(tmp_path: Path) -> None:
    nwbfile = make_session(SyntheticSession(n_frames=20, height=32, width=32, n_cells=4))
    movie = np.asarray(nwbfile.acquisition["TwoPhotonSeries"].data)  # type: ignore[attr-defined]
    path = tmp_path / "session.nwb"
    with NWBHDF5IO(path, "w") as io:
        io.write(nwbfile)
    ds = xr.open_dataset(path, engine="nwbzarr", group="acquisition/TwoPhotonSeries")
    assert np.array_equal(ds["data"][5].values, movie[5])
    assert np.array_equal(ds["data"].values, movie)
    assert ds["data"].dims == ("time", "width", "height")
    ds.close()


def test_engine_opens_s3_zarr(s3_server: S3TestServer, tmp_path: Path) -> None:
    s3fs = pytest.importorskip("s3fs")
    nwbfile = mock_NWBFile()
    movie = np.random.default_rng(3).poisson(40, size=(20, 16, 16)).astype(np.uint16)
    mock_TwoPhotonSeries(nwbfile, data=DataIO(movie, chunks=(5, 16, 16), shards=(10, 16, 16)))
    with NWBZarrIO(tmp_path / "engine.nwb.zarr", "w") as io:
        io.write(nwbfile)
    options = s3_server.storage_options()
    # the bucket gets the store as written (writing through s3fs to the test server is the slow part)
    s3fs.S3FileSystem(**options).put(str(tmp_path / "engine.nwb.zarr"), "eco/engine.nwb.zarr", recursive=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = xr.open_dataset(
            "s3://eco/engine.nwb.zarr",
            engine="nwbzarr",
            group="acquisition/TwoPhotonSeries",
            storage_options=options,
            chunks={},
        )
    assert ds["data"].chunks[0] == (10, 10)
    assert np.array_equal(ds["data"].values, movie)
    assert np.allclose(ds["time"].values, np.arange(20) / 30.0)
    ds.close()


def test_engine_opens_remote_hdf5(tmp_path: Path) -> None:
    """Over HTTP (ranged GETs from a local server), as a lab's web server or a public bucket serves a file."""
    range_server = pytest.importorskip("nwbzarr.testing.range_server")
    nwbfile = make_session(SyntheticSession(n_frames=20, height=32, width=32, n_cells=4))
    traces = nwbfile.processing["ophys"]["DfOverF"].roi_response_series["RoiResponseSeries"]  # type: ignore[attr-defined]
    expected = np.asarray(traces.data)
    with NWBHDF5IO(tmp_path / "session.nwb", "w") as io:
        io.write(nwbfile)
    with range_server.RangeServer(tmp_path) as server:
        ds = xr.open_dataset(
            f"{server.url}/session.nwb", engine="nwbzarr", group="processing/ophys/DfOverF/RoiResponseSeries"
        )
        assert np.array_equal(ds["data"].values, expected)
        assert ds["roi_id"].values.tolist() == list(range(4))
        ds.close()


def test_unwritten_series_label_too() -> None:
    """Before a write: DataIO's storage unit is the Dask chunk; a FrameStream (read once) is refused."""
    from nwbzarr.errors import ValidationError
    from nwbzarr.writing.streams import FrameStream

    series = demo_file().acquisition["TwoPhotonSeries"]
    assert series.to_xarray().chunks[0] == (MOVIE_SHARDS[0],) * 3
    frames = (np.zeros((4, 8, 8), np.uint16) for _ in range(2))
    streamed = TimeSeries(name="s", data=FrameStream(frames, blocks=True, n_frames=8), unit="n", rate=1.0)
    with pytest.raises(ValidationError, match="FrameStream"):
        streamed.to_xarray()
