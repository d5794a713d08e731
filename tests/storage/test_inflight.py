"""A read sends every range it needs at once, bounded by the store's ``max_inflight`` storage option."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
import zarr

from nwbzarr.backends.zarr_v3.shard_format import ShardLayout
from nwbzarr.backends.zarr_v3.shard_reader import ShardReader
from nwbzarr.errors import NWBZarrError
from nwbzarr.storage import make_store
from nwbzarr.storage.inflight import DEFAULT_MAX_INFLIGHT, max_inflight
from nwbzarr.testing.http_proxy import CountingProxy
from nwbzarr.testing.s3server import S3TestServer

SHAPE = (64, 256, 256)  # four shards of 16 frames; 4 inner chunks of 128 x 128 a frame
#: a time course of one 8 x 8 tile: in each shard, 16 inner chunks stored in pairs (Morton order puts frames
#: 2k and 2k + 1 of a tile side by side) 64 KiB apart, too far to merge: 8 ranges a shard, 32 in all
TRACE = (slice(0, 64), slice(0, 8), slice(0, 8))
REQUESTS = 4 + 32  # the four shard indexes, then the chunk ranges


@pytest.fixture
def movie_url(s3_server: S3TestServer) -> Iterator[tuple[str, np.ndarray]]:
    url = "s3://lab/inflight.zarr"
    movie = np.random.default_rng(0).integers(0, 2**16, SHAPE, dtype=np.uint16)  # incompressible: chunks 32 KiB
    store = make_store(url, read_only=False, storage_options=s3_server.storage_options())
    array = zarr.create_array(
        store, shape=SHAPE, dtype=movie.dtype, chunks=(1, 128, 128), shards=(16, 256, 256), compressors=None
    )
    array[:] = movie
    yield url, movie


def _reader(url: str, options: dict[str, object]) -> ShardReader:
    array = zarr.open_array(make_store(url, read_only=True, storage_options=options), mode="r")
    layout = ShardLayout.of(array)
    assert layout is not None
    return ShardReader(layout, url)


def test_a_time_course_sends_all_its_ranges_at_once(s3_server: S3TestServer, movie_url: tuple[str, np.ndarray]) -> None:
    url, movie = movie_url
    with CountingProxy(s3_server.host, s3_server.port, latency=0.3) as proxy:
        reader = _reader(url, s3_server.storage_options(proxy.url))
        assert reader.in_flight == DEFAULT_MAX_INFLIGHT
        reader.read(TRACE)  # the client's connections and credentials set up: what follows is the read alone
        proxy.reset()
        got = reader.read(TRACE)
        assert got is not None and np.array_equal(got, movie[TRACE])
        assert proxy.total == REQUESTS, proxy.paths
        # every chunk range in flight together: more than the 24 a read used to be allowed
        assert proxy.max_in_flight > 24, proxy.max_in_flight


def test_max_inflight_bounds_the_requests_of_one_read(
    s3_server: S3TestServer, movie_url: tuple[str, np.ndarray]
) -> None:
    url, movie = movie_url
    with CountingProxy(s3_server.host, s3_server.port, latency=0.05) as proxy:
        reader = _reader(url, s3_server.storage_options(proxy.url) | {"max_inflight": 4})
        assert reader.in_flight == 4
        proxy.reset()
        got = reader.read(TRACE)
        assert got is not None and np.array_equal(got, movie[TRACE])
        assert proxy.total == REQUESTS
        assert 1 <= proxy.max_in_flight <= 4, proxy.max_in_flight


@pytest.mark.parametrize("value", [0, -3, "8", True, 2.5])
def test_a_bad_max_inflight_is_refused_by_name(value: object) -> None:
    with pytest.raises(NWBZarrError, match="max_inflight"):
        make_store("memory://inflight/a.zarr", read_only=True, storage_options={"max_inflight": value})


def test_max_inflight_applies_to_local_paths_and_wrapped_stores(tmp_path: object) -> None:
    from nwbzarr.testing.counting import CountingStore

    store = make_store(str(tmp_path), read_only=True, storage_options={"max_inflight": 7})  # no other option needed
    assert max_inflight(store) == 7
    assert max_inflight(CountingStore(store)) == 7  # a wrapper reads with its store's bound
    assert max_inflight(make_store(str(tmp_path), read_only=True)) == DEFAULT_MAX_INFLIGHT
