"""HDF5 deflate chunks inflated by libdeflate give zlib's bytes always; zlib can be forced; damage still raises
an error naming the dataset, on both libraries, in the local reader and the stored-chunk decoder."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from pathlib import Path

import h5py
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from nwbzarr.backends.hdf5 import inflate as inflating
from nwbzarr.backends.hdf5.filters import Pipeline
from nwbzarr.backends.hdf5.reader import H5LazyArray
from nwbzarr.errors import InvalidStoreError, NWBZarrError

pytest.importorskip("deflate")  # the test extra installs it: these tests run in CI

LIBRARIES = ("libdeflate", "zlib")


@pytest.fixture(params=LIBRARIES)
def library(request: pytest.FixtureRequest) -> Iterator[str]:
    inflating.use(request.param)
    try:
        yield str(request.param)
    finally:
        inflating.use(None)


def _payload(draw: st.DrawFn) -> bytes:
    """Random bytes, or compressible ones (runs and a small alphabet), as image chunks are."""
    kind = draw(st.sampled_from(["random", "runs", "alphabet"]))
    size = draw(st.integers(0, 20_000))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if kind == "random":
        return rng.bytes(size)
    if kind == "runs":
        return np.repeat(rng.integers(0, 256, size // 50 + 1, dtype=np.uint8), 50)[:size].tobytes()
    return rng.integers(0, 4, size, dtype=np.uint8).tobytes()


@st.composite
def streams(draw: st.DrawFn) -> tuple[bytes, bytes]:
    raw = _payload(draw)
    return raw, zlib.compress(raw, draw(st.integers(0, 9)))


@settings(max_examples=60, deadline=None)
@given(case=streams(), slack=st.integers(-8, 8))
@example(case=(b"_", zlib.compress(b"_", 1)), slack=-1)  # capacity 0: the binding answered b"" for it
@example(case=(b"_" * 100, zlib.compress(b"_" * 100, 0)), slack=-100)
def test_libdeflate_gives_zlibs_bytes(case: tuple[bytes, bytes], slack: int) -> None:
    """Whatever the capacity (exact, larger, or too small: zlib answers then), the bytes are zlib's."""
    raw, stream = case
    capacity = max(0, len(raw) + slack)
    try:
        inflating.use("libdeflate")
        assert inflating.library() == "libdeflate"
        assert bytes(inflating.inflate(capacity, stream)) == zlib.decompress(stream) == raw
        assert bytes(inflating.inflate(capacity, memoryview(stream))) == raw
        assert bytes(inflating.inflate(None, stream)) == raw
        inflating.use("zlib")
        assert bytes(inflating.inflate(capacity, stream)) == raw
    finally:
        inflating.use(None)


@pytest.mark.parametrize("cut", ["truncated", "flipped", "adler", "empty"])
def test_a_bad_stream_raises_zlibs_error_on_both(library: str, cut: str) -> None:
    raw = np.random.default_rng(3).integers(0, 8, 50_000, dtype=np.uint8).tobytes()
    stream = bytearray(zlib.compress(raw, 4))
    if cut == "truncated":
        del stream[len(stream) // 2 :]
    elif cut == "flipped":
        stream[len(stream) // 3] ^= 0xFF
    elif cut == "adler":
        stream[-1] ^= 0x01
    else:
        stream.clear()
    assert inflating.library() == library
    with pytest.raises(zlib.error):
        inflating.inflate(len(raw), bytes(stream))


def test_the_setting_forces_zlib_and_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    inflating.use(None)
    monkeypatch.delenv("NWBZARR_INFLATE", raising=False)
    assert inflating.library() == "libdeflate"  # installed: the default
    monkeypatch.setenv("NWBZARR_INFLATE", "zlib")
    assert inflating.library() == "zlib"
    monkeypatch.setenv("NWBZARR_INFLATE", "gzip")
    with pytest.raises(NWBZarrError, match="NWBZARR_INFLATE='gzip'"):
        inflating.library()
    with pytest.raises(NWBZarrError, match=r"use\('fast'\)"):
        inflating.use("fast")


def _gzip_file(path: Path, *, shuffle: bool, fletcher32: bool) -> np.ndarray:
    values = np.random.default_rng(5).integers(0, 3000, (24, 64, 48)).astype("<u2")
    with h5py.File(path, "w") as f:
        f.create_dataset(
            "x", data=values, chunks=(4, 32, 48), compression="gzip", shuffle=shuffle, fletcher32=fletcher32
        )
    return values


@pytest.mark.parametrize(("shuffle", "fletcher32"), [(False, False), (True, False), (True, True)])
def test_pipelines_decode_every_chunk_alike_on_both(
    tmp_path: Path, library: str, shuffle: bool, fletcher32: bool
) -> None:
    values = _gzip_file(tmp_path / "f.h5", shuffle=shuffle, fletcher32=fletcher32)
    with h5py.File(tmp_path / "f.h5", "r") as f:
        d = f["x"]
        pipeline = Pipeline.of(d)
        assert isinstance(pipeline, Pipeline)
        for t in range(0, 24, 4):
            for y in (0, 32):
                mask, stored = d.id.read_direct_chunk((t, y, 0))
                assert np.array_equal(
                    pipeline.decode(memoryview(stored), mask, (t, y, 0)), values[t : t + 4, y : y + 32]
                )
        assert np.array_equal(H5LazyArray(d, d.dtype)[:], values)  # the local reader's thread pool


@pytest.mark.parametrize("damage", ["zeroed", "truncated"])
def test_a_damaged_chunk_names_the_dataset_on_both(tmp_path: Path, library: str, damage: str) -> None:
    path = tmp_path / "f.h5"
    _gzip_file(path, shuffle=True, fletcher32=False)
    with h5py.File(path, "r") as f:
        d = f["x"]
        pipeline = Pipeline.of(d)
        assert isinstance(pipeline, Pipeline)
        info = d.id.get_chunk_info_by_coord((8, 32, 0))
        mask, stored = d.id.read_direct_chunk((8, 32, 0))
    bad = stored[: len(stored) // 2] if damage == "truncated" else stored[:2] + bytes(len(stored) - 2)
    with pytest.raises(InvalidStoreError, match=r"/x: chunk at \(8, 32, 0\) does not decode"):
        pipeline.decode(bad, mask, (8, 32, 0))
    if damage == "zeroed":  # the same damage in the file: the local reader raises too, never wrong numbers
        data = bytearray(path.read_bytes())
        data[info.byte_offset + 2 : info.byte_offset + info.size] = bytes(info.size - 2)
        path.write_bytes(bytes(data))
        with h5py.File(path, "r") as f, pytest.raises(InvalidStoreError, match="/x"):
            H5LazyArray(f["x"], f["x"].dtype)[:]
