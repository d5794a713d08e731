"""Whole shards are decoded slab by slab into one buffer and copied at once: same values as zarr reads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import zarr
from zarr.codecs import BloscCodec, Crc32cCodec

from nwbzarr.backends.zarr_v3.shard_format import ShardLayout
from nwbzarr.backends.zarr_v3.shard_reader import ShardReader
from nwbzarr.errors import InvalidStoreError


def _reader(path: Path, values: np.ndarray, chunks: tuple[int, ...], shards: tuple[int, ...]) -> ShardReader:
    array = zarr.create_array(
        path,
        shape=values.shape,
        chunks=chunks,
        shards=shards,
        dtype=values.dtype,
        compressors=[BloscCodec(cname="lz4", clevel=5, shuffle="bitshuffle", typesize=2), Crc32cCodec()],
        fill_value=7,
    )
    array[:] = values
    layout = ShardLayout.of(array)
    assert layout is not None
    return ShardReader(layout, "/movie")


@pytest.mark.parametrize("chunks", [(3, 8, 8), (1, 16, 4), (6, 4, 16)])
def test_whole_shards_at_any_place_of_the_read(tmp_path: Path, chunks: tuple[int, ...]) -> None:
    values = np.random.default_rng(5).integers(0, 5000, (36, 32, 32), dtype=np.uint16)
    values[12:18, :16, :16] = 7  # inner chunks of fill values: zarr stores none of them (empty index entries)
    reader = _reader(tmp_path / "a.zarr", values, chunks, (12, 16, 16))
    for key in [
        (slice(0, 36), slice(0, 32), slice(0, 32)),  # every shard whole
        (slice(12, 24), slice(16, 32), slice(0, 32)),  # two whole shards, away from the read's origin
        (slice(10, 36), slice(0, 32), slice(5, 32)),  # whole shards beside cut ones
    ]:
        got = reader.read(key)
        assert got is not None and np.array_equal(got, values[key]), key


def test_a_whole_shard_with_a_damaged_chunk_is_an_error(tmp_path: Path) -> None:
    values = np.random.default_rng(6).integers(0, 5000, (12, 16, 16), dtype=np.uint16)
    reader = _reader(tmp_path / "a.zarr", values, (3, 8, 8), (12, 16, 16))
    shard = tmp_path / "a.zarr" / "c" / "0" / "0" / "0"
    raw = bytearray(shard.read_bytes())
    raw[40] ^= 0xFF  # inside the first stored chunk: its CRC-32C no longer matches
    shard.write_bytes(bytes(raw))
    with pytest.raises(InvalidStoreError, match="checksum"):
        reader.read((slice(0, 12), slice(0, 16), slice(0, 16)))
