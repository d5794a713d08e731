"""The whole-shard writer: byte-compatible with zarr's sharding codec, C-ordered, and used only where it fits."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import zarr
from zarr.codecs import BloscCodec, GzipCodec, ZstdCodec

from nwbzarr.backends.zarr_v3.shard_format import ShardLayout
from nwbzarr.backends.zarr_v3.shard_reader import ShardReader
from nwbzarr.backends.zarr_v3.shards import ShardWriter
from nwbzarr.testing.counting import CountingStore


def _array(path: Path, shape: tuple[int, ...], compressors: list[object]) -> zarr.Array:  # type: ignore[type-arg]
    return zarr.create_array(
        path, shape=shape, chunks=(4, 8, 8), shards=(16, 16, 16), dtype="uint16", compressors=compressors, fill_value=0
    )


def _layout(array: zarr.Array) -> ShardLayout:  # type: ignore[type-arg]
    layout = ShardLayout.of(array)
    assert layout is not None
    return layout


@pytest.mark.parametrize(
    "compressors",
    [[BloscCodec(cname="zstd", clevel=3, shuffle="bitshuffle", typesize=2)], [ZstdCodec(level=1)], [GzipCodec()], []],
    ids=["blosc", "zstd", "gzip", "none"],
)
@pytest.mark.parametrize("shape", [(32, 16, 16), (37, 13, 16)], ids=["whole", "ragged"])
def test_shards_written_directly_read_back_through_zarr(
    tmp_path: Path, compressors: list[object], shape: tuple[int, ...]
) -> None:
    values = np.random.default_rng(1).integers(0, 5000, shape, dtype=np.uint16)
    array = _array(tmp_path / "a.zarr", shape, compressors)
    with ThreadPoolExecutor(2) as pool:
        writer = ShardWriter(_layout(array), pool, 2)
        for start in range(0, shape[0], 16):
            region = (slice(start, min(start + 16, shape[0])), slice(0, shape[1]), slice(0, shape[2]))
            assert writer.write(region, values[region])
        writer.flush()
    assert np.array_equal(zarr.open_array(tmp_path / "a.zarr", mode="r")[:], values)


def test_a_frames_chunks_are_adjacent_in_the_shard(tmp_path: Path) -> None:
    """C order: the chunks of one time slab come one after another, so a frame is one ranged read."""
    array = _array(tmp_path / "a.zarr", (16, 16, 16), [ZstdCodec(level=1)])
    with ThreadPoolExecutor(2) as pool:
        writer = ShardWriter(_layout(array), pool, 2)
        assert writer.write((slice(0, 16), slice(0, 16), slice(0, 16)), np.ones((16, 16, 16), np.uint16))
        writer.flush()
    raw = (tmp_path / "a.zarr" / "c" / "0" / "0" / "0").read_bytes()
    index = np.frombuffer(raw[-(4 * 2 * 2 * 16 + 4) : -4], dtype="<u8").reshape(4, 2, 2, 2)
    offsets = index[..., 0].ravel()
    assert np.all(np.diff(offsets.astype(np.int64)) > 0)  # increasing in C order of (time, row, column)


def test_blocks_that_cover_shards_in_part_update_them_whole(tmp_path: Path) -> None:
    """An append that starts mid-shard: the shard is read, updated and rewritten in C order."""
    shape = (37, 13, 16)
    values = np.random.default_rng(5).integers(0, 5000, shape, dtype=np.uint16)
    array = _array(tmp_path / "a.zarr", shape, [ZstdCodec(level=1)])
    expected = np.zeros(shape, np.uint16)
    with ThreadPoolExecutor(2) as pool:
        writer = ShardWriter(_layout(array), pool, 2)
        for region in [(slice(0, 10), slice(0, 13), slice(0, 16)), (slice(10, 23), slice(0, 13), slice(0, 16))]:
            assert writer.write(region, values[region])  # the second is read back while the first is stored
            expected[region] = values[region]
        box = (slice(5, 30), slice(2, 11), slice(3, 9))
        assert writer.write(box, values[box] + 1)
        expected[box] = values[box] + 1
        assert not writer.write((slice(0, 37, 2), slice(0, 13), slice(0, 16)), values[::2])  # a stride: zarr's
        writer.flush()
    assert np.array_equal(zarr.open_array(tmp_path / "a.zarr", mode="r")[:], expected)
    raw = (tmp_path / "a.zarr" / "c" / "0" / "0" / "0").read_bytes()
    index = np.frombuffer(raw[-(4 * 2 * 2 * 16 + 4) : -4], dtype="<u8").reshape(4, 2, 2, 2)
    assert np.all(np.diff(index[..., 0].ravel().astype(np.int64)) > 0)  # still C order


def test_unsharded_arrays_are_not_taken(tmp_path: Path) -> None:
    plain = zarr.create_array(tmp_path / "p.zarr", shape=(8, 8), chunks=(4, 4), dtype="uint16")
    assert ShardLayout.of(plain) is None


@pytest.mark.parametrize("shape", [(32, 16, 16), (37, 13, 16)], ids=["whole", "ragged"])
@pytest.mark.parametrize("crc", [True, False], ids=["crc32c", "plain"])
def test_whole_shard_reads_equal_zarrs(tmp_path: Path, shape: tuple[int, ...], crc: bool) -> None:
    from zarr.codecs import Crc32cCodec

    values = np.random.default_rng(2).integers(0, 5000, shape, dtype=np.uint16)
    chain: list[object] = [BloscCodec(cname="lz4", clevel=5, shuffle="bitshuffle", typesize=2)]
    array = _array(tmp_path / "a.zarr", shape, [*chain, Crc32cCodec()] if crc else chain)
    array[:] = values  # written by zarr, in its Morton order: the reader follows the index, not an order
    array[16:32] = 0  # a shard of fill values (zarr stores no chunk of it)
    values[16:32] = 0
    reader = ShardReader(_layout(array), "/movie")
    whole = tuple(slice(0, n) for n in shape)
    assert np.array_equal(reader.read(whole), values)  # type: ignore[arg-type]
    second = (slice(16, 32), slice(0, shape[1]), slice(0, shape[2]))
    assert np.array_equal(reader.read(second), values[16:32])  # type: ignore[arg-type]
    assert reader.read((slice(0, shape[0], 2), slice(0, 16), slice(0, 16))) is None  # a stride: zarr reads it


@pytest.mark.parametrize("shape", [(32, 16, 16), (37, 13, 16)], ids=["whole", "ragged"])
def test_partial_reads_equal_zarrs(tmp_path: Path, shape: tuple[int, ...]) -> None:
    """Any box, integer index or empty slice reads what zarr reads, across shard and chunk edges and holes."""
    from zarr.codecs import Crc32cCodec

    values = np.random.default_rng(3).integers(0, 5000, shape, dtype=np.uint16)
    array = _array(tmp_path / "a.zarr", shape, [ZstdCodec(level=1), Crc32cCodec()])
    array[:] = values
    array[16:32, :8] = 0  # chunks zarr does not store: read as the fill value
    values[16:32, :8] = 0
    reader = ShardReader(_layout(array), "/movie")
    rng = np.random.default_rng(4)
    keys: list[tuple[int | slice, ...]] = [(5, slice(0, shape[1]), slice(0, shape[2])), (slice(3, 3), slice(0, 4), 2)]
    for _ in range(40):
        key: list[int | slice] = []
        for n in shape:
            a, b = sorted(int(v) for v in rng.integers(0, n + 1, 2))
            key.append(a if a < n and rng.random() < 0.2 else slice(a, b, 1))
        keys.append(tuple(key))
    for key in keys:
        got = reader.read(key)
        assert got is not None and np.array_equal(got, values[key]), key


def test_a_frame_is_two_rounds_of_requests(tmp_path: Path) -> None:
    """The shard index, then the frame's chunks (adjacent in C order) merged into one ranged read."""
    shape = (32, 16, 16)
    array = _array(tmp_path / "a.zarr", shape, [ZstdCodec(level=1)])
    with ThreadPoolExecutor(2) as pool:
        writer = ShardWriter(_layout(array), pool, 2)
        writer.write((slice(0, 32), slice(0, 16), slice(0, 16)), np.ones(shape, np.uint16))
        writer.flush()
    reopened = zarr.open_array(CountingStore(array.store_path.store), mode="r")
    counted = reopened.store_path.store
    assert isinstance(counted, CountingStore)
    counted.reset()  # opening probed the metadata
    assert np.array_equal(
        ShardReader(_layout(reopened), "/movie").read((20, slice(0, 16), slice(0, 16))), np.ones((16, 16))
    )
    assert counted.chunk_gets == 2


def test_a_changed_shard_is_an_error_on_a_whole_shard_read(tmp_path: Path) -> None:
    from zarr.codecs import Crc32cCodec

    from nwbzarr.errors import InvalidStoreError

    array = _array(tmp_path / "a.zarr", (16, 16, 16), [ZstdCodec(level=1), Crc32cCodec()])
    array[:] = np.arange(16**3, dtype=np.uint16).reshape(16, 16, 16)
    shard = tmp_path / "a.zarr" / "c" / "0" / "0" / "0"
    data = bytearray(shard.read_bytes())
    data[5] ^= 1
    shard.write_bytes(bytes(data))
    with pytest.raises(InvalidStoreError, match=r"/movie.*a chunk's checksum"):
        ShardReader(_layout(array), "/movie").read((slice(0, 16), slice(0, 16), slice(0, 16)))


def _counted(array: zarr.Array) -> tuple[zarr.Array, CountingStore]:  # type: ignore[type-arg]
    reopened = zarr.open_array(CountingStore(array.store_path.store), mode="r")
    counted = reopened.store_path.store
    assert isinstance(counted, CountingStore)
    counted.reset()  # opening probed the metadata
    return reopened, counted


def _written(array: zarr.Array, values: np.ndarray) -> None:  # type: ignore[type-arg]
    with ThreadPoolExecutor(2) as pool:
        writer = ShardWriter(_layout(array), pool, 2)
        writer.write(tuple(slice(0, n) for n in values.shape), values)
        writer.flush()


def test_a_shards_index_is_fetched_once(tmp_path: Path) -> None:
    """After the first read in a shard, a frame is one ranged request: the index is kept."""
    from zarr.codecs import Crc32cCodec

    values = np.random.default_rng(6).integers(0, 5000, (32, 16, 16), dtype=np.uint16)
    array = _array(tmp_path / "a.zarr", values.shape, [ZstdCodec(level=1), Crc32cCodec()])
    _written(array, values)
    reopened, counted = _counted(array)
    reader = ShardReader(_layout(reopened), "/movie")
    for frame, requests in [(20, 2), (21, 3), (30, 4), (3, 6)]:  # 2, then 1 a frame; another shard: 2 again
        assert np.array_equal(reader.read((frame, slice(0, 16), slice(0, 16))), values[frame])  # type: ignore[arg-type]
        assert counted.chunk_gets == requests, frame


def test_a_shard_rewritten_since_its_index_was_kept_reads_its_new_values(tmp_path: Path) -> None:
    """Another writer changed the shard: the kept index points at bytes whose checksum fails, and is read again."""
    from zarr.codecs import Crc32cCodec

    rng = np.random.default_rng(7)
    before = np.zeros((32, 16, 16), dtype=np.uint16)  # compresses to a few bytes a chunk
    after = rng.integers(0, 5000, before.shape, dtype=np.uint16)  # does not: every offset moves
    array = _array(tmp_path / "a.zarr", before.shape, [ZstdCodec(level=1), Crc32cCodec()])
    _written(array, before)
    reopened, counted = _counted(array)
    reader = ShardReader(_layout(reopened), "/movie")
    assert np.array_equal(reader.read((20, slice(0, 16), slice(0, 16))), before[20])  # type: ignore[arg-type]
    _written(array, after)
    counted.reset()
    assert np.array_equal(reader.read((20, slice(0, 16), slice(0, 16))), after[20])  # type: ignore[arg-type]
    assert counted.chunk_gets == 3  # the stale range, the index again, the range
    for frame in (17, 31):
        assert np.array_equal(reader.read((frame, slice(0, 16), slice(0, 16))), after[frame])  # type: ignore[arg-type]


def test_without_chunk_checksums_no_index_is_kept(tmp_path: Path) -> None:
    """A stale index could not be told from a good one, so each read fetches it."""
    values = np.ones((32, 16, 16), dtype=np.uint16)
    array = _array(tmp_path / "a.zarr", values.shape, [ZstdCodec(level=1)])
    _written(array, values)
    reopened, counted = _counted(array)
    reader = ShardReader(_layout(reopened), "/movie")
    for frame in (20, 21):
        reader.read((frame, slice(0, 16), slice(0, 16)))
    assert counted.chunk_gets == 4


@pytest.mark.parametrize("inline_bytes", [0, 64 * 1024, 2**40], ids=["all-pooled", "default", "all-inline"])
def test_small_arrivals_decode_where_they_arrive_and_large_ones_in_the_pool(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, inline_bytes: int
) -> None:
    """A time course's chunks (a few KiB each) are decoded on the read's own thread, a frame's merged range
    (more than :data:`INLINE_BYTES`) on the decoding pool's; both read the same values either way."""
    import threading
    from typing import Any

    from zarr.codecs import Crc32cCodec

    from nwbzarr.backends.zarr_v3 import shard_reader

    monkeypatch.setattr(shard_reader, "INLINE_BYTES", inline_bytes)
    values = np.random.default_rng(8).integers(0, 60000, (32, 256, 256), dtype=np.uint16)  # incompressible
    # chunks of 16 KiB, 16 tiles a frame: a tile's next chunk is 240 KiB on, too far to merge ranges across
    array = zarr.create_array(
        tmp_path / "a.zarr", shape=values.shape, chunks=(2, 64, 64), shards=(16, 256, 256), dtype="uint16",
        compressors=[ZstdCodec(level=1), Crc32cCodec()],
    )  # fmt: skip
    _written(array, values)
    pooled: list[bool] = []
    place = ShardReader._place

    def recorded(self: ShardReader, *args: Any) -> None:
        pooled.append(threading.current_thread().name.startswith("nwbzarr-decode"))
        place(self, *args)

    monkeypatch.setattr(ShardReader, "_place", recorded)
    reader = ShardReader(_layout(array), "/movie")
    trace, frame = (slice(3, 29), slice(80, 88), slice(140, 144)), (9, slice(0, 256), slice(0, 256))
    got = reader.read(trace)
    assert got is not None and np.array_equal(got, values[trace])
    trace_pooled, pooled[:] = list(pooled), []
    got = reader.read(frame)
    assert got is not None and np.array_equal(got, values[frame])
    frame_pooled = list(pooled)
    assert trace_pooled == [inline_bytes == 0] * 14  # one arrival a chunk of 16 KiB, 14 along time
    assert frame_pooled and all(frame_pooled) == (inline_bytes < 256 * 1024)  # 16 chunks in one range
