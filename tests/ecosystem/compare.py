"""Compare what an independent reader returns with nwbzarr's own read of the same dataset."""

from __future__ import annotations

from typing import Any

import numpy as np

from nwbzarr.tree.nodes import Dataset, Reference


def ours(node: Dataset) -> np.ndarray:
    """nwbzarr's values of ``node`` in plain form: references as their paths."""
    values = np.asarray(node.data.read() if hasattr(node.data, "read") else node.data)
    if values.dtype == object:
        flat = [v.path if isinstance(v, Reference) else v for v in values.ravel()]
        out = np.empty(values.shape, dtype=object)
        out.ravel()[:] = flat
        return out
    return values


def assert_same(theirs: Any, node: Dataset, where: str) -> None:
    """``theirs`` (numpy-like) equals nwbzarr's read of ``node``, bit for bit for numbers."""
    mine = ours(node)
    other = np.asarray(theirs)
    assert other.shape == mine.shape, f"{where}: shape {other.shape} != {mine.shape}"
    if mine.dtype.names:
        for field in mine.dtype.names:
            assert np.array_equal(np.asarray(other[field]), mine[field]), f"{where}.{field} differs"
        return
    if mine.dtype == object or other.dtype.kind in "OUTS":
        assert [str(v) for v in other.ravel()] == [str(v) for v in mine.ravel()], f"{where}: text differs"
        return
    assert other.dtype == mine.dtype, f"{where}: dtype {other.dtype} != {mine.dtype}"
    assert np.array_equal(other, mine, equal_nan=mine.dtype.kind == "f"), f"{where}: values differ"
