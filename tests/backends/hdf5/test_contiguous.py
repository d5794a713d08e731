"""The spans of a box in a contiguous dataset place exactly its values, within the byte and gap bounds."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from nwbzarr.backends.hdf5.contiguous import spans


@st.composite
def cases(draw: st.DrawFn) -> tuple[tuple[int, ...], tuple[slice, ...], str, int, int]:
    shape = tuple(draw(st.lists(st.integers(1, 9), min_size=1, max_size=4)))
    box = []
    for n in shape:
        start = draw(st.integers(0, n - 1))
        box.append(slice(start, draw(st.integers(start + 1, n))))
    dtype = draw(st.sampled_from(["u1", "<u2", ">i4", "<f8"]))
    itemsize = np.dtype(dtype).itemsize
    return shape, tuple(box), dtype, draw(st.integers(0, 64)), draw(st.integers(itemsize, 600))


@settings(max_examples=300, deadline=None)
@given(case=cases(), base=st.integers(0, 7))
def test_spans_place_exactly_the_box(case: tuple[tuple[int, ...], tuple[slice, ...], str, int, int], base: int) -> None:
    shape, box, dtype, gap, max_bytes = case
    values = np.arange(np.prod(shape), dtype=dtype).reshape(shape)
    data = bytes(base) + values.tobytes()  # the dataset's bytes at offset ``base`` of the file
    out = np.zeros(tuple(s.stop - s.start for s in box), dtype=dtype)
    seen = np.zeros(out.shape, dtype=int)
    for offset, nbytes, span in spans(box, shape, values.itemsize, base, gap=gap, max_bytes=max_bytes):
        assert base <= offset and offset + nbytes <= len(data)
        assert nbytes <= max_bytes
        out[span.target] = span.values(memoryview(data)[offset : offset + nbytes], values.dtype)
        seen[span.target] += 1
    assert (seen == 1).all()  # every value placed once
    assert np.array_equal(out, values[box])


def test_a_time_course_is_one_span_a_frame() -> None:
    """512 frames x 32 x 32 of 512 x 512 uint16: 512 spans (was 16,384 runs of 64 bytes)."""
    box = (slice(88, 600), slice(200, 232), slice(200, 232))
    found = list(spans(box, (600, 512, 512), 2, 1000))
    assert len(found) == 512
    assert found[0][1] == 31 * 1024 + 64
    assert found[1][0] - found[0][0] == 512 * 512 * 2


def test_whole_frames_are_cut_to_the_range_bound() -> None:
    found = list(spans((slice(0, 100), slice(0, 512), slice(0, 512)), (100, 512, 512), 2, 0, max_bytes=4 * 2**20))
    assert [n for _, n, _ in found] == [4 * 2**20] * 12 + [2 * 2**20]  # 8 frames a span, dense
    assert found[1][0] == 4 * 2**20
