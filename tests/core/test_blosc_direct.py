"""c-blosc called directly decodes what numcodecs decodes, bit for bit, and says when it cannot."""

from __future__ import annotations

import numcodecs
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numcodecs import blosc

from nwbzarr.core.blosc_direct import direct_decompress


def test_numcodecs_exports_the_function() -> None:
    """The wheels nwbzarr installs export c-blosc: if this fails, every whole-shard read fell back to numcodecs."""
    assert direct_decompress() is not None


@settings(max_examples=60, deadline=None)
@given(
    cname=st.sampled_from(["lz4", "zstd", "blosclz", "zlib", "lz4hc"]),
    shuffle=st.sampled_from([blosc.NOSHUFFLE, blosc.SHUFFLE, blosc.BITSHUFFLE]),
    dtype=st.sampled_from(["u1", "<u2", "<i4", "<f8"]),
    shape=st.tuples(st.integers(1, 6), st.integers(1, 40), st.integers(1, 40)),
    seed=st.integers(0, 2**16),
)
def test_the_same_values_as_numcodecs(cname: str, shuffle: int, dtype: str, shape: tuple[int, ...], seed: int) -> None:
    values = (np.random.default_rng(seed).normal(1000, 50, shape)).astype(dtype)
    frame = np.frombuffer(numcodecs.Blosc(cname=cname, clevel=5, shuffle=shuffle).encode(values), np.uint8)
    decompress = direct_decompress()
    assert decompress is not None
    got = np.full(shape, 77, dtype=dtype)
    assert decompress(frame.ctypes.data, got.ctypes.data, got.nbytes) == got.nbytes
    expected = np.empty(shape, dtype=dtype)
    blosc.decompress(frame.tobytes(), expected)
    assert got.tobytes() == expected.tobytes() == values.tobytes()


def test_a_frame_c_blosc_refuses_is_not_written_as_values() -> None:
    decompress = direct_decompress()
    assert decompress is not None
    codec = numcodecs.Blosc(cname="lz4", clevel=5, shuffle=blosc.BITSHUFFLE)
    frame = bytearray(codec.encode(np.arange(4096, dtype="<u2")))
    frame[0] = 99  # a Blosc format version c-blosc does not read
    source = np.frombuffer(frame, np.uint8)
    out = np.zeros(4096, "<u2")
    assert decompress(source.ctypes.data, out.ctypes.data, out.nbytes) <= 0


@pytest.mark.parametrize("nbytes", [0, 100])
def test_a_destination_smaller_than_the_frame_decodes_to_is_refused(nbytes: int) -> None:
    """c-blosc checks the destination's size itself: it never writes past ``nbytes``."""
    decompress = direct_decompress()
    assert decompress is not None
    source = np.frombuffer(numcodecs.Blosc(cname="lz4").encode(np.arange(4096, dtype="<u2")), np.uint8)
    out = np.zeros(8192 + 64, np.uint8)
    assert decompress(source.ctypes.data, out.ctypes.data, nbytes) <= 0
    assert not out[nbytes:].any()
