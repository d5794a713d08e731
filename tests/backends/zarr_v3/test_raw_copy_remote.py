"""Issue 12: raw copies (``layout="keep"``) from an HDF5 file where it lies: its deflate chunks are fetched by
byte range and re-wrapped, exactly as from a local file."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from tests.backends.zarr_v3.test_raw_copy import (
    CHECKSUMMED,
    CHUNKS,
    MOVIE,
    PLAIN,
    SHAPE,
    SHUFFLED,
    _convert,
    _damage_hdf5_chunk,
    _movies,
    _objects,
    _zarr,
)

from nwbzarr.backends.hdf5 import index_cache
from nwbzarr.backends.hdf5.backend import HDF5Backend
from nwbzarr.backends.hdf5.remote_chunks import stored_chunk_batches
from nwbzarr.backends.hdf5.remote_reader import RemoteH5Array
from nwbzarr.errors import NWBZarrError
from nwbzarr.testing.http_proxy import CountingProxy
from nwbzarr.testing.range_server import RangeServer
from nwbzarr.tree.nodes import Dataset

h5py = pytest.importorskip("h5py")


@pytest.fixture(autouse=True)
def cache(tmp_path: Path) -> Iterator[None]:
    """The remote reader's disk cache inside this test's tmp_path."""
    before = index_cache.settings()
    index_cache.configure(location=tmp_path / "cache", enabled=True)
    yield
    index_cache.configure(location=before.location, enabled=before.enabled, max_bytes=before.max_bytes)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, RangeServer]]:
    """The movies file, and a damaged copy of it, on a plain HTTP server that answers ranged GETs."""
    root = tmp_path_factory.mktemp("served")
    good = _movies(root)
    damaged = root / "damaged.nwb"
    shutil.copy(good, damaged)
    _damage_hdf5_chunk(damaged, PLAIN, (2, 1, 0), 200)
    with RangeServer(root) as server:
        yield good, server


@pytest.mark.parametrize("transport", ["obstore", "fsspec"])
def test_a_remote_raw_copy_equals_the_local_one(
    served: tuple[Path, RangeServer], tmp_path: Path, transport: str
) -> None:
    local_file, server = served
    here, there = tmp_path / "local.nwb.zarr", tmp_path / "remote.nwb.zarr"
    local_records, _ = _convert(local_file, here, layout="keep")
    with CountingProxy(server.host, server.port) as proxy:
        records, said = _convert(
            f"{proxy.url}/movies.nwb", there, layout="keep", storage_options={"transport": transport}
        )
    for path in (PLAIN, CHECKSUMMED):
        assert records[path].how == "hdf5 deflate -> gzip" and records[path].decoded == 0, records[path]
        grid = [-(-n // c) for n, c in zip(SHAPE, CHUNKS, strict=True)]
        assert records[path].objects == local_records[path].objects == np.prod(grid)
    assert SHUFFLED not in records  # no core Zarr codec for HDF5's shuffle: decoded, as from a local file
    assert any(PLAIN in line and "deflate -> gzip" in line for line in said)
    for path in (PLAIN, CHECKSUMMED):  # every re-wrapped chunk byte for byte (gzip from an encoder stamps a time)
        key = path.lstrip("/")
        assert _objects(there / key) == _objects(here / key) and len(_objects(here / key)) == 54, path
    for path in (PLAIN, SHUFFLED, CHECKSUMMED):
        assert np.array_equal(_zarr(there, path)[:], MOVIE), path
        assert _zarr(there, path).metadata == _zarr(here, path).metadata


def test_a_damaged_remote_chunk_is_named(served: tuple[Path, RangeServer], tmp_path: Path) -> None:
    _, server = served
    with pytest.raises(NWBZarrError, match=rf"{PLAIN}: chunk at \(20, 16, 0\)"):
        _convert(f"{server.url}/damaged.nwb", tmp_path / "raw.nwb.zarr", layout="keep")


def test_chunks_come_in_bounded_batches_of_merged_ranges(served: tuple[Path, RangeServer]) -> None:
    """Batches hold at most ``batch_bytes`` (a chunk bigger than that alone); every chunk's bytes are the
    ones ``read_direct_chunk`` gives; one batch's neighbouring chunks come in one request."""
    local_file, server = served
    backend = HDF5Backend(f"{server.url}/movies.nwb", "r")
    try:
        node = backend.read_tree().get(PLAIN.lstrip("/"))
        assert isinstance(node, Dataset) and isinstance(node.data, RemoteH5Array)
        array = node.data
        origins = array.stored_chunks()
        assert origins is not None and len(origins) == 6 * 3 * 3
        index = array.file.index(PLAIN)
        budget = int(index.sizes.max()) * 4
        before = sum(server.requests.values())
        batches = list(array.stored_chunk_batches(origins))
        assert len(batches) == 1 and sum(server.requests.values()) - before <= 2  # 54 small chunks: one range
        small = list(stored_chunk_batches(array.file.source, index, origins, batch_bytes=budget))
        assert len(small) >= int(index.sizes.sum()) // budget  # filled greedily: bounded, yet not one per chunk
        assert all(sum(len(b) for _, _, b in batch) <= budget for batch in small)
        got = {origin: (mask, stored) for batch in small for origin, mask, stored in batch}
        assert sorted(got) == sorted(origins)
        with h5py.File(local_file, "r") as f:
            for origin, (mask, stored) in got.items():
                want_mask, want = f[PLAIN].id.read_direct_chunk(origin)
                assert mask == want_mask and stored == bytes(want), origin
    finally:
        backend.close()
