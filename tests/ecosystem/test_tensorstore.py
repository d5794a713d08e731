"""tensorstore (Google's C++ Zarr v3 reader, strict JSON) reads the demo store's movie, traces and masks bit for bit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nwbzarr import NWBZarrIO

from .compare import ours

ts = pytest.importorskip("tensorstore")

MOVIE = "acquisition/TwoPhotonSeries/data"
TRACES = ("processing/ophys/Fluorescence/RoiResponseSeries/data", "processing/ophys/DfOverF/RoiResponseSeries/data")
MASKS = "processing/ophys/ImageSegmentation/PlaneSegmentation/pixel_mask"


def _open(store: Path, path: str, **extra: Any) -> Any:
    return ts.open({"driver": "zarr3", "kvstore": {"driver": "file", "path": str(store / path)}, **extra}).result()


def _node(store: Path, path: str) -> Any:
    with NWBZarrIO(store, "r") as io:
        node: Any = io.read_tree()
        for part in path.split("/"):
            node = node.members[part]
        return node


def test_movie_bit_for_bit(demo_store: Path) -> None:
    movie = _open(demo_store, MOVIE)
    node = _node(demo_store, MOVIE)
    assert tuple(movie.shape) == node.shape
    assert np.array_equal(movie[7].read().result(), node.data[7])  # one frame, inside a shard
    assert np.array_equal(movie[:, 10, 20].read().result(), node.data[:, 10, 20])  # a time course across shards
    whole = movie.read().result()
    assert whole.dtype == node.data.dtype and np.array_equal(whole, ours(node))


@pytest.mark.parametrize("path", TRACES)
def test_traces_bit_for_bit(demo_store: Path, path: str) -> None:
    traces = _open(demo_store, path).read().result()
    expected = ours(_node(demo_store, path))
    assert traces.dtype == expected.dtype and np.array_equal(traces, expected)


def test_masks_bit_for_bit(demo_store: Path) -> None:
    """A compound (struct) array opens field by field in tensorstore."""
    expected = ours(_node(demo_store, MASKS))
    assert expected.dtype.names == ("x", "y", "weight")
    for field in expected.dtype.names:
        values = _open(demo_store, MASKS, field=field).read().result()
        assert values.dtype == expected[field].dtype and np.array_equal(values, expected[field]), field


def test_image_masks_bit_for_bit(tutorial_store: Path) -> None:
    path = "processing/ophys/ImageSegmentation/PlaneSegmentation/image_mask"
    expected = ours(_node(tutorial_store, path))
    assert np.array_equal(_open(tutorial_store, path).read().result(), expected)
