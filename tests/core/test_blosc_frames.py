"""Truncated Blosc frames are refused before numcodecs hands them to c-blosc, which would read past them."""

from __future__ import annotations

from pathlib import Path

import numcodecs
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nwbzarr.core.blosc_frames import HEADER_SIZE, blosc_frame_problem

_FRAME = bytes(
    numcodecs.Blosc(cname="lz4", clevel=5, shuffle=numcodecs.Blosc.BITSHUFFLE).encode(
        np.random.default_rng(7).integers(0, 4000, size=(3, 64, 64), dtype=np.uint16)
    )
)


def test_a_whole_frame_may_be_decoded() -> None:
    assert blosc_frame_problem(_FRAME) is None
    assert blosc_frame_problem(memoryview(_FRAME)) is None
    assert blosc_frame_problem(_FRAME + b"\0" * 8) is None  # bytes after the frame are not read


@given(st.integers(min_value=0, max_value=2 * 3 * 64 * 64 * 2))
def test_a_frame_decoding_to_another_size_is_refused_for_a_buffer_of_the_chunk(size: int) -> None:
    """A decode straight into a buffer: c-blosc would fill only the bytes the header declares."""
    problem = blosc_frame_problem(_FRAME, decoded_size=size)
    assert (problem is None) == (size == 3 * 64 * 64 * 2)
    if problem is not None:
        assert f"decodes to {3 * 64 * 64 * 2} bytes, not the chunk's {size}" in problem


@given(st.integers(min_value=0, max_value=len(_FRAME) - 1))
def test_every_truncation_is_refused(length: int) -> None:
    problem = blosc_frame_problem(_FRAME[:length])
    assert problem is not None
    assert ("header" in problem) == (length < HEADER_SIZE)
    if length >= HEADER_SIZE:
        assert f"declares {len(_FRAME)} bytes but holds {length}" in problem


def test_the_v2_reader_refuses_a_truncated_chunk_every_time(tmp_path: Path) -> None:
    """Decoded without the check, the same cut chunk sometimes decodes from memory beyond it."""
    import zarr
    from zarr.storage import LocalStore

    from nwbzarr.backends.zarr_v2.reader import read_v2_tree
    from nwbzarr.errors import InvalidStoreError
    from nwbzarr.tree.nodes import Dataset

    root = zarr.open_group(str(tmp_path), mode="w", zarr_format=2)
    root.create_array("movie", shape=(3, 64, 64), chunks=(3, 64, 64), dtype="uint16", compressors=None)
    (tmp_path / "movie" / "0.0.0").write_bytes(_FRAME[: len(_FRAME) // 2])
    meta = (tmp_path / "movie" / ".zarray").read_text()
    blosc = '{"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 2, "blocksize": 0}'
    (tmp_path / "movie" / ".zarray").write_text(meta.replace('"compressor": null', f'"compressor": {blosc}'))
    tree = read_v2_tree(LocalStore(str(tmp_path)))
    movie = tree.members["movie"]
    assert isinstance(movie, Dataset)
    for _ in range(20):
        with pytest.raises(InvalidStoreError, match=r"movie/0\.0\.0: a Blosc chunk declares"):
            movie.data[:]


def test_the_shard_reader_refuses_a_truncated_chunk_that_no_checksum_guards(tmp_path: Path) -> None:
    """A sharded array without CRC-32C (as other writers make): an index entry cut to half its chunk."""
    import google_crc32c
    import zarr
    from zarr.codecs import BloscCodec

    from nwbzarr.backends.zarr_v3.shard_format import ShardLayout
    from nwbzarr.backends.zarr_v3.shard_reader import ShardReader
    from nwbzarr.errors import InvalidStoreError

    values = np.random.default_rng(8).integers(0, 5000, (12, 16, 16), dtype=np.uint16)
    array = zarr.create_array(
        tmp_path / "a.zarr",
        shape=values.shape,
        chunks=(3, 8, 8),
        shards=(12, 16, 16),
        dtype=values.dtype,
        compressors=[BloscCodec(cname="lz4", clevel=5, shuffle="bitshuffle", typesize=2)],
    )
    array[:] = values
    layout = ShardLayout.of(array)
    assert layout is not None and not layout.crc
    shard = tmp_path / "a.zarr" / "c" / "0" / "0" / "0"
    raw = bytearray(shard.read_bytes())
    index = np.frombuffer(raw[-layout.index_size : -4], dtype="<u8").reshape(-1, 2).copy()
    index[0, 1] //= 2  # the first chunk's stored length halved: its Blosc header now claims more
    body = index.tobytes()
    raw[-layout.index_size :] = body + google_crc32c.value(body).to_bytes(4, "little")
    shard.write_bytes(bytes(raw))
    reader = ShardReader(layout, "/movie")
    with pytest.raises(InvalidStoreError, match="a Blosc chunk declares"):
        reader.read((slice(0, 12), slice(0, 16), slice(0, 16)))
