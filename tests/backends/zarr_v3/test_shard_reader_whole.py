"""Whole shards are decoded slab by slab into one buffer and copied at once: same values as zarr reads."""

from __future__ import annotations

from pathlib import Path

import google_crc32c
import numpy as np
import pytest
import zarr
from zarr.codecs import BloscCodec, Crc32cCodec, ZstdCodec

from nwbzarr.backends.zarr_v3 import shard_format
from nwbzarr.backends.zarr_v3.shard_format import EMPTY, ShardLayout
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


def _shard_parts(path: Path, layout: ShardLayout) -> tuple[bytearray, np.ndarray]:
    raw = bytearray(path.read_bytes())
    return raw, np.frombuffer(raw[-layout.index_size : -4], dtype="<u8").reshape(-1, 2).copy()


def _with_index(raw: bytearray, index: np.ndarray, layout: ShardLayout) -> bytes:
    body = index.tobytes()
    raw[-layout.index_size :] = body + google_crc32c.value(body).to_bytes(4, "little")
    return bytes(raw)


@pytest.mark.parametrize("direct", [True, False], ids=["c-blosc called directly", "through numcodecs"])
def test_all_chunks_of_a_shard_are_checked_at_once_and_decode_as_one_by_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, direct: bool
) -> None:
    """Both ways of decoding many chunks (c-blosc called directly, or numcodecs where its build hides
    c-blosc) give what decoding each chunk alone gives."""
    if not direct:
        monkeypatch.setattr(shard_format, "direct_decompress", lambda: None)
    values = np.random.default_rng(7).integers(0, 5000, (12, 16, 16), dtype=np.uint16)
    values[:3, :8, :8] = 7  # one chunk of fill values: not stored
    reader = _reader(tmp_path / "a.zarr", values, (3, 8, 8), (12, 16, 16))
    layout = reader.layout
    raw = (tmp_path / "a.zarr" / "c" / "0" / "0" / "0").read_bytes()
    data_end = len(raw) - layout.index_size
    index = np.frombuffer(raw[data_end:-4], dtype="<u8").reshape(-1, 2)
    block = np.empty((len(index), *layout.inner), dtype=layout.dtype)
    assert layout.decode_many(memoryview(raw), index, data_end, block, "/movie")  # the fast path is taken
    one_by_one = np.full_like(block, 7)
    for i, (offset, nbytes) in enumerate(index.tolist()):
        if offset != EMPTY:
            layout.decode_into(memoryview(raw)[offset : offset + nbytes], one_by_one[i], "/movie")
    assert np.array_equal(block, one_by_one)
    assert np.array_equal(block[0], np.full(layout.inner, 7, dtype=layout.dtype))


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("past the end", "indexes bytes it does not hold"),
        ("offset huge", "indexes bytes it does not hold"),
        ("shorter than a header", "checksum|shorter than its 16-byte header"),
        ("declares another size", "decodes to 100 bytes, not the chunk's 384"),
        ("cut short", "a Blosc chunk declares"),
        ("checksum", "checksum does not match"),
    ],
)
def test_a_whole_shard_refuses_every_damaged_field(tmp_path: Path, damage: str, message: str) -> None:
    """Each field the checks of a whole shard read (index entry, Blosc header, checksum), made wrong in
    one chunk of the last rows: the read fails naming why, as a chunk-by-chunk read would."""
    values = np.random.default_rng(9).integers(0, 5000, (12, 16, 16), dtype=np.uint16)
    reader = _reader(tmp_path / "a.zarr", values, (3, 8, 8), (12, 16, 16))
    layout = reader.layout
    shard = tmp_path / "a.zarr" / "c" / "0" / "0" / "0"
    raw, index = _shard_parts(shard, layout)
    data_end = len(raw) - layout.index_size
    victim = len(index) - 1
    offset, nbytes = (int(n) for n in index[victim])
    if damage == "past the end":
        index[victim, 1] = data_end - offset + 1
    elif damage == "offset huge":
        index[victim, 0] = 2**63
    elif damage == "shorter than a header":
        index[victim, 1] = 10
    elif damage == "cut short":
        index[victim, 1] = nbytes // 2  # its checksum fails first where it has one: no checksum here
    elif damage == "declares another size":
        raw[offset + 4 : offset + 8] = (100).to_bytes(4, "little")
        body = bytes(raw[offset : offset + nbytes - 4])
        raw[offset + nbytes - 4 : offset + nbytes] = google_crc32c.value(body).to_bytes(4, "little")
    else:
        raw[offset + 20] ^= 0x01
    if damage == "cut short":  # an array without checksums (as other writers make)
        reader = _reader_without_crc(tmp_path / "b.zarr", values)
        layout = reader.layout
        shard = tmp_path / "b.zarr" / "c" / "0" / "0" / "0"
        raw, index = _shard_parts(shard, layout)
        index[victim, 1] //= 2
    shard.write_bytes(_with_index(raw, index, layout))
    with pytest.raises(InvalidStoreError, match=message):
        reader.read((slice(0, 12), slice(0, 16), slice(0, 16)))


def _reader_without_crc(path: Path, values: np.ndarray) -> ShardReader:
    array = zarr.create_array(
        path,
        shape=values.shape,
        chunks=(3, 8, 8),
        shards=(12, 16, 16),
        dtype=values.dtype,
        compressors=[BloscCodec(cname="lz4", clevel=5, shuffle="bitshuffle", typesize=2)],
    )
    array[:] = values
    layout = ShardLayout.of(array)
    assert layout is not None and not layout.crc
    return ShardReader(layout, "/movie")


@pytest.mark.parametrize("direct", [True, False], ids=["c-blosc called directly", "through numcodecs"])
def test_a_chunk_c_blosc_refuses_is_an_error_not_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, direct: bool
) -> None:
    """A chunk whose header passes the size checks but which c-blosc cannot decode (an unknown format
    version), in an array without checksums to catch it first: the whole-shard read fails and says so."""
    if not direct:
        monkeypatch.setattr(shard_format, "direct_decompress", lambda: None)
    values = np.random.default_rng(11).integers(0, 5000, (12, 16, 16), dtype=np.uint16)
    reader = _reader_without_crc(tmp_path / "b.zarr", values)
    shard = tmp_path / "b.zarr" / "c" / "0" / "0" / "0"
    raw, index = _shard_parts(shard, reader.layout)
    raw[int(index[5, 0])] = 99  # the Blosc format version of the sixth chunk
    shard.write_bytes(bytes(raw))
    with pytest.raises(InvalidStoreError, match="Blosc could not decode a chunk"):
        reader.read((slice(0, 12), slice(0, 16), slice(0, 16)))


def test_a_whole_zstd_shard_decodes_chunk_by_chunk(tmp_path: Path) -> None:
    values = np.random.default_rng(10).integers(0, 5000, (12, 16, 16), dtype=np.uint16)
    array = zarr.create_array(
        tmp_path / "z.zarr",
        shape=values.shape,
        chunks=(3, 8, 8),
        shards=(12, 16, 16),
        dtype=values.dtype,
        compressors=[ZstdCodec(level=3), Crc32cCodec()],
    )
    array[:] = values
    layout = ShardLayout.of(array)
    assert layout is not None
    block = np.empty((16, *layout.inner), dtype=layout.dtype)
    assert not layout.decode_many(memoryview(b""), np.zeros((16, 2), "<u8"), 0, block, "/z")  # not Blosc
    got = ShardReader(layout, "/z").read((slice(0, 12), slice(0, 16), slice(0, 16)))
    assert got is not None and np.array_equal(got, values)


def test_a_remembered_index_does_not_keep_its_whole_shard(tmp_path: Path) -> None:
    """Reading a whole movie shard by shard holds a few shards at a time, not every shard it has read.

    A whole shard's index was a view of the shard's bytes, and the reader keeps indexes: every shard read
    stayed in memory (a Dask mean of a 1.6 GB movie held 584 MB of raw shards; a 50 GB movie, up to 1024 shards).
    """
    import tracemalloc

    values = np.random.default_rng(7).integers(0, 5000, (240, 64, 64), dtype=np.uint16)
    reader = _reader(tmp_path / "a.zarr", values, (4, 16, 16), (12, 64, 64))  # 20 shards of ~60 KB
    shard_bytes = (tmp_path / "a.zarr" / "c" / "0" / "0" / "0").stat().st_size
    reader.read((slice(0, 12), slice(0, 64), slice(0, 64)))  # warm: pools, imports, caches of the process
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for first in range(0, 240, 12):
            got = reader.read((slice(first, first + 12), slice(0, 64), slice(0, 64)))
            assert got is not None and np.array_equal(got, values[first : first + 12])
            del got
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(reader._indexes) == 20  # every index is remembered...
    assert kept < 4 * shard_bytes, f"{kept} bytes kept after reading 20 shards of {shard_bytes}"  # ...not its shard
    index = next(iter(reader._indexes.values()))
    assert index.base is None or index.base.nbytes <= reader.layout.index_size
