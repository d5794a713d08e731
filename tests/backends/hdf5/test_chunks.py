"""gzip-compressed HDF5 chunks inflated in threads read exactly what h5py reads, and odd files fall back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

from nwbzarr.backends.hdf5.chunks import GzipChunkReader
from nwbzarr.backends.hdf5.reader import H5LazyArray


def _dataset(path: Path, values: np.ndarray, **options: Any) -> None:
    with h5py.File(path, "w") as f:
        f.create_dataset("x", data=values, **options)


@pytest.mark.parametrize("dtype", ["<u2", ">i4", "<f8", "u1"])
@pytest.mark.parametrize("shuffle", [True, False], ids=["shuffle", "plain"])
def test_reads_equal_h5pys(tmp_path: Path, dtype: str, shuffle: bool) -> None:
    """Boxes across ragged edge chunks, integer indexes and holes never written (the fill value)."""
    rng = np.random.default_rng(8)
    values = rng.integers(0, 200, (23, 17, 11)).astype(dtype)
    path = tmp_path / "a.h5"
    with h5py.File(path, "w") as f:
        d = f.create_dataset(
            "x", shape=values.shape, dtype=dtype, chunks=(4, 5, 6), compression="gzip", shuffle=shuffle, fillvalue=9
        )
        d[:, :10] = values[:, :10]  # chunks wholly beyond column 10 are never written
    with h5py.File(path, "r") as f:
        d = f["x"]
        reader = GzipChunkReader.of(d)
        assert reader is not None and reader.shuffle == shuffle
        lazy = H5LazyArray(d, d.dtype)
        keys: list[tuple[Any, ...]] = [
            (slice(0, 23), slice(0, 17), slice(0, 11)),
            (5, slice(0, 17), slice(2, 11)),
            (slice(3, 20), 16, slice(1, 9)),
        ]
        for _ in range(30):
            parts: list[slice] = []
            for n in values.shape:
                a, b = sorted(int(v) for v in rng.integers(0, n + 1, 2))
                parts.append(slice(a, max(b, a + 1)) if a < n else slice(n - 1, n))
            keys.append(tuple(parts))
        for key in keys:
            assert np.array_equal(lazy[key], d[key]), key


def test_other_filters_and_layouts_are_left_to_h5py(tmp_path: Path) -> None:
    values = np.arange(4000, dtype="<u2").reshape(40, 100)
    cases: dict[str, dict[str, Any]] = {
        "contiguous": {},
        "lzf": {"chunks": (4, 10), "compression": "lzf"},
        "fletcher32": {"chunks": (4, 10), "compression": "gzip", "fletcher32": True},
        "uncompressed": {"chunks": (4, 10)},
    }
    path = tmp_path / "a.h5"
    with h5py.File(path, "w") as f:
        for name, options in cases.items():
            f.create_dataset(name, data=values, **options)
    with h5py.File(path, "r") as f:
        for name in cases:
            assert GzipChunkReader.of(f[name]) is None, name
            assert np.array_equal(H5LazyArray(f[name], f[name].dtype)[:], values)


def test_small_reads_stay_with_h5py(tmp_path: Path) -> None:
    _dataset(tmp_path / "a.h5", np.zeros((40, 100), "<u2"), chunks=(4, 10), compression="gzip")
    with h5py.File(tmp_path / "a.h5", "r") as f:
        reader = GzipChunkReader.of(f["x"])
        assert reader is not None
        assert reader.read((slice(0, 4), slice(0, 20))) is None  # 2 chunks
        assert reader.read((slice(0, 40), slice(0, 100))) is not None


def test_a_damaged_chunk_is_an_error_naming_the_dataset(tmp_path: Path) -> None:
    from nwbzarr.errors import InvalidStoreError

    path = tmp_path / "a.h5"
    _dataset(
        path, np.random.default_rng(9).integers(0, 60000, (40, 100)).astype("<u2"), chunks=(4, 10), compression="gzip"
    )
    with h5py.File(path, "r") as f:
        info = f["x"].id.get_chunk_info_by_coord((8, 20))
    data = bytearray(path.read_bytes())
    data[info.byte_offset + 2 : info.byte_offset + 40] = bytes(38)
    path.write_bytes(bytes(data))
    with h5py.File(path, "r") as f, pytest.raises(InvalidStoreError, match="/x"):
        H5LazyArray(f["x"], f["x"].dtype)[:]
