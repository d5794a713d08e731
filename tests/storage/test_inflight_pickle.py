"""``max_inflight`` travels with a pickled store and a pickled lazy array (to Dask distributed workers)."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import zarr
from zarr.abc.store import Store

from nwbzarr import DataIO, NWBZarrIO
from nwbzarr.backends.zarr_v3.reader import ZarrLazyArray
from nwbzarr.model import NWBFile, TimeSeries
from nwbzarr.storage import make_store
from nwbzarr.storage.inflight import DEFAULT_MAX_INFLIGHT, max_inflight
from nwbzarr.testing.s3server import S3TestServer
from nwbzarr.testing.tutorial import build_tutorial_file


def _sharded(store: Store) -> np.ndarray:
    movie = np.arange(8 * 64 * 64, dtype=np.uint16).reshape(8, 64, 64)
    array = zarr.create_array(store, shape=movie.shape, dtype=movie.dtype, chunks=(2, 32, 32), shards=(4, 64, 64))
    array[:] = movie
    return movie


def test_a_local_store_keeps_its_bound_when_pickled(tmp_path: Path) -> None:
    store = make_store(tmp_path / "a.zarr", read_only=True, storage_options={"max_inflight": 7})
    assert max_inflight(store) == 7
    copy = pickle.loads(pickle.dumps(store))
    assert copy is not store and max_inflight(copy) == 7
    plain = pickle.loads(pickle.dumps(make_store(tmp_path / "a.zarr", read_only=True)))
    assert max_inflight(plain) == DEFAULT_MAX_INFLIGHT


def test_an_s3_store_keeps_its_bound_when_pickled(s3_server: S3TestServer, s3_transport: str) -> None:
    url = "s3://lab/inflight-pickle.zarr"
    options = s3_server.storage_options()
    movie = _sharded(make_store(url, read_only=False, storage_options=options))
    store = make_store(url, read_only=True, storage_options=options | {"max_inflight": 5})
    copy = pickle.loads(pickle.dumps(store))
    assert type(copy) is type(store)
    assert max_inflight(copy) == 5
    assert np.array_equal(zarr.open_array(copy, mode="r")[:], movie)  # the copy still reads


def test_a_lazy_array_pickles_with_its_reader_and_bound(tmp_path: Path) -> None:
    movie = _sharded(make_store(tmp_path / "m.zarr", read_only=False))
    array = zarr.open_array(make_store(tmp_path / "m.zarr", read_only=True, storage_options={"max_inflight": 3}))
    lazy = ZarrLazyArray(array, np.dtype(np.uint16), "/movie")
    assert lazy[1].shape == (64, 64)  # a read first: the reader caches an index and holds a lock
    copy = pickle.loads(pickle.dumps(lazy))
    assert copy._shard_reader is not None and copy._shard_reader.in_flight == 3
    assert np.array_equal(copy[0:8, 10:40, 5:60], movie[0:8, 10:40, 5:60])


@pytest.mark.slow
def test_dask_distributed_workers_read_with_the_store_bound(tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    movie = np.arange(48 * 64 * 64, dtype=np.uint16).reshape(48, 64, 64)
    nwbfile = build_tutorial_file(frames=4, size=8)
    assert isinstance(nwbfile, NWBFile)
    data = DataIO(movie, chunks=(4, 32, 32), shards=(16, 64, 64))
    nwbfile.add_acquisition(TimeSeries(name="movie", data=data, unit="n", rate=30.0))
    path = tmp_path / "d.nwb.zarr"
    with NWBZarrIO(path, "w") as io:
        io.write(nwbfile)

    def bound(block: np.ndarray, lazy: ZarrLazyArray) -> np.ndarray:
        reader = lazy._shard_reader
        assert reader is not None
        return np.array([[[reader.in_flight, max_inflight(lazy.zarr_array.store_path.store)]]])

    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
        NWBZarrIO(path, "r", storage_options={"max_inflight": 6}) as io,
    ):
        lazy = io.read().acquisition["movie"].data
        dask_array = lazy.to_dask()
        assert np.array_equal(dask_array.sum(axis=0).compute(), movie.sum(axis=0, dtype=np.uint64))
        seen = dask_array[:1, :1, :1].map_blocks(bound, lazy, dtype=np.int64, chunks=(1, 1, 2)).compute()
    assert seen.ravel().tolist() == [6, 6]
