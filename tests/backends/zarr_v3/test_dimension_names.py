"""The rule for Zarr v3 ``dimension_names``: the schema's dims, unique within a group where sizes differ."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import zarr

from nwbzarr import NWBZarrIO
from nwbzarr.backends.zarr_v3.writer import dimension_names
from nwbzarr.model import TimeSeries
from nwbzarr.testing import mock_NWBFile
from nwbzarr.tree.nodes import Dataset, Group


def _ds(shape: tuple[int, ...], dims: tuple[str, ...] | None) -> Dataset:
    return Dataset(dtype=np.dtype("f8"), data=np.zeros(shape), attrs={}, dims=dims)


def test_rule() -> None:
    group = Group(
        attrs={},
        members={
            "keywords": _ds((4,), ("num_items",)),
            "experimenter": _ds((2,), ("num_items",)),
            "data": _ds((10, 3), ("num_times", "num_ROIs")),
            "timestamps": _ds((10,), ("num_times",)),
            "square": _ds((3, 3), ("n", "n")),
            "loose": _ds((5, 6), None),
            "wrong_rank": _ds((5,), ("a", "b")),
            "scalar": _ds((), None),
        },
    )
    names = dimension_names(group)
    assert names["keywords"] == ("num_items_keywords",)
    assert names["experimenter"] == ("num_items_experimenter",)
    assert names["data"] == ("num_times", "num_ROIs")  # one size: shared with the timestamps
    assert names["timestamps"] == ("num_times",)
    assert names["square"] == ("n_0", "n_1")
    assert names["loose"] == ("loose_dim_0", "loose_dim_1")
    assert names["wrong_rank"] == ("wrong_rank_dim_0",)
    assert "scalar" not in names  # 0-d arrays need none


def test_append_names_new_arrays_as_a_write(tmp_path: Path) -> None:
    nwbfile = mock_NWBFile(keywords=("a", "b", "c"), experimenter=("Doe, J",))
    path = tmp_path / "s.nwb.zarr"
    with NWBZarrIO(path, "w") as io:
        io.write(nwbfile)
    with NWBZarrIO(path, "a") as io:
        grown = io.read()
        grown.add_acquisition(TimeSeries(name="licks", data=np.arange(4.0), unit="n", timestamps=[0.1, 0.5, 0.9, 2.0]))
        io.write(grown)
    root = zarr.open_group(path, mode="r")
    assert root["general/keywords"].metadata.dimension_names == ("num_items_keywords",)
    assert root["acquisition/licks/data"].metadata.dimension_names == ("num_times",)
    assert root["acquisition/licks/timestamps"].metadata.dimension_names == ("num_times",)
