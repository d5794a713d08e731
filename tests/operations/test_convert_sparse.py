"""Issue 20: a sparse dataset (few chunks of a huge declared shape) converts in time and memory of its stored bytes."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from nwbzarr.backends.open import open_backend
from nwbzarr.operations.convert import convert
from nwbzarr.tree.nodes import Dataset

N = 10**6
CHUNK = (1000, 1000)
#: the three chunks written: top-left, one in the middle of the last column, the bottom-left corner
WRITES = {
    (slice(0, 1000), slice(0, 1000)): 1,
    (slice(500_000, 500_010), slice(N - 10, N)): 2,
    (slice(N - 1, N), slice(0, 1)): 3,
}
#: far less than one 1000 x 1000 row of chunks (2 GB): the copy holds only about one chunk at a time
MEMORY_BOUND = 64 * 1024 * 1024


@pytest.fixture
def sparse_hdf5(tmp_path: Path) -> Path:
    import h5py

    path = tmp_path / "sparse.h5"
    with h5py.File(path, "w") as file:
        big = file.create_dataset("big", shape=(N, N), chunks=CHUNK, dtype="int16")
        for region, value in WRITES.items():
            big[region] = value
        assert big.id.get_num_chunks() == 3
    return path


def _assert_equal_sparse(target: Path) -> None:
    backend = open_backend(target, mode="r")
    try:
        big = backend.read_tree().get("big")
        assert isinstance(big, Dataset) and big.shape == (N, N) and big.dtype == np.dtype("int16")
        for region, value in WRITES.items():
            block = big.data[region]
            assert block.size and np.all(block == value)
        assert not big.data[1000:3000, 0:2000].any()  # fill value elsewhere
        assert not big.data[N - 2000 : N - 1, N - 2000 : N].any()
        assert big.data[N - 1, 1] == 0 and big.data[500_010, N - 1] == 0
        stored = big.data.stored_chunks()
        assert stored is not None and len(stored) == 3  # the copy stored no empty chunk either
    finally:
        backend.close()


def _convert_bounded(src: Path, dst: Path) -> None:
    tracemalloc.start()
    try:
        convert(src, dst, raw=True)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < MEMORY_BOUND, f"{src.name} -> {dst.name}: {peak / 1e6:.0f} MB"


def test_sparse_hdf5_to_zarr_and_back(sparse_hdf5: Path, tmp_path: Path) -> None:
    store, back = tmp_path / "sparse.nwb.zarr", tmp_path / "back.nwb"
    _convert_bounded(sparse_hdf5, store)
    _assert_equal_sparse(store)
    _convert_bounded(store, back)
    _assert_equal_sparse(back)


def test_sparse_zarr_to_zarr(sparse_hdf5: Path, tmp_path: Path) -> None:
    store, again = tmp_path / "sparse.nwb.zarr", tmp_path / "again.nwb.zarr"
    convert(sparse_hdf5, store, raw=True)
    _convert_bounded(store, again)
    _assert_equal_sparse(again)
