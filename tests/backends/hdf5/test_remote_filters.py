"""Stored HDF5 chunks decoded without HDF5 (deflate, shuffle, fletcher32) equal h5py's values; damage raises;
and byte ranges merge across small gaps only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

from nwbzarr.backends.hdf5.chunk_index import NOT_STORED, ChunkIndex
from nwbzarr.backends.hdf5.filters import Pipeline
from nwbzarr.errors import InvalidStoreError
from nwbzarr.storage.ranges import merge

OPTIONS: dict[str, dict[str, Any]] = {
    "fletcher32": {"fletcher32": True},
    "gzip+fletcher32": {"compression": "gzip", "fletcher32": True},
    "shuffle+gzip+fletcher32": {"compression": "gzip", "shuffle": True, "fletcher32": True},
    "shuffle": {"shuffle": True},
    "gzip": {"compression": "gzip", "compression_opts": 9},
}


@pytest.mark.parametrize("dtype", ["u1", "<u2", ">i4", "<f8"])
@pytest.mark.parametrize("name", sorted(OPTIONS))
def test_every_chunk_decodes_to_h5pys_values(tmp_path: Path, name: str, dtype: str) -> None:
    values = np.random.default_rng(1).integers(0, 250, (13, 7, 5)).astype(dtype)
    with h5py.File(tmp_path / "f.h5", "w") as f:
        f.create_dataset("x", data=values, chunks=(3, 1, 5), **OPTIONS[name])  # 15 values: odd byte counts for u1
    with h5py.File(tmp_path / "f.h5", "r") as f:
        d = f["x"]
        pipeline = Pipeline.of(d)
        assert isinstance(pipeline, Pipeline)
        index = ChunkIndex.of(d)
        assert index.grid == (5, 7, 1) and (index.offsets != NOT_STORED).all()
        for grid in np.ndindex(*index.grid):
            origin = tuple(g * c for g, c in zip(grid, d.chunks, strict=True))
            mask, stored = d.id.read_direct_chunk(origin)
            assert int(index.sizes[grid]) == len(stored) and int(index.masks[grid]) == mask
            chunk = pipeline.decode(bytes(stored), mask, origin)
            box = tuple(slice(o, o + c) for o, c in zip(origin, d.chunks, strict=True))
            expected = values[box]
            assert np.array_equal(chunk[tuple(slice(0, n) for n in expected.shape)], expected), (name, origin)
            if "fletcher32" in name:
                damaged = bytearray(stored)
                damaged[0] ^= 0xFF
                with pytest.raises(InvalidStoreError, match="/x"):
                    pipeline.decode(bytes(damaged), mask, origin)


def test_undecodable_filters_are_named(tmp_path: Path) -> None:
    with h5py.File(tmp_path / "f.h5", "w") as f:
        f.create_dataset("lzf", data=np.arange(100), chunks=(10,), compression="lzf")
        f.create_dataset("so", data=np.arange(100), chunks=(10,), scaleoffset=0)
    with h5py.File(tmp_path / "f.h5", "r") as f:
        assert Pipeline.of(f["lzf"]) == "lzf"
        assert Pipeline.of(f["so"]) == "scaleoffset"


def test_ranges_merge_across_small_gaps_only() -> None:
    pieces = [(0, 10, "a"), (15, 10, "b"), (100_000, 5, "c"), (100_004, 10, "d")]
    merged = merge(pieces, gap=1000, max_bytes=50)
    assert [(start, stop, [p for _, _, p in members]) for start, stop, members in merged] == [
        (0, 25, ["a", "b"]),
        (100_000, 100_014, ["c", "d"]),
    ]
    assert len(merge(pieces, gap=1000, max_bytes=20)) == 3  # a range never grows past max_bytes
