"""ReadBudget: reads priced in whole chunks, over-fetching stores charged, shares capped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nwbzarr import DataIO, NWBZarrIO
from nwbzarr.display.budget import OverBudgetError, ReadBudget, read_unit
from nwbzarr.model import NWBFile, TwoPhotonSeries


def test_in_memory_reads_cost_their_slice() -> None:
    movie = np.zeros((10, 4, 6), dtype=np.uint16)
    budget = ReadBudget(limit=1000)
    assert read_unit(movie) == (1, 1, 1)
    assert budget.cost(movie, 3) == 4 * 6 * 2
    assert budget.cost(movie, (slice(0, 10, 5), slice(1, 3))) == 2 * 2 * 6 * 2
    assert budget.cost(movie, slice(4, 4)) == 0


def test_stored_reads_cost_the_chunks_they_touch(tutorial_file: NWBFile, store_path: Path) -> None:
    plane = tutorial_file.imaging_planes["ImagingPlane"]
    data = DataIO(np.zeros((64, 32, 32), dtype=np.uint16), chunks=(8, 16, 16), shards=(32, 32, 32))
    tutorial_file.add_acquisition(TwoPhotonSeries(name="m", data=data, imaging_plane=plane, rate=30.0))
    with NWBZarrIO(store_path, "w") as io:
        io.write(tutorial_file)
    series = NWBZarrIO(store_path, "r").read().acquisition["m"]
    assert isinstance(series, TwoPhotonSeries)
    movie = series.data
    chunk = 8 * 16 * 16 * 2
    budget = ReadBudget(limit=10 * chunk)
    assert read_unit(movie) == (8, 16, 16)  # the inner chunk, not the shard
    assert budget.cost(movie, 0) == 4 * chunk  # one frame: the four chunks that hold it
    assert budget.cost(movie, (slice(7, 9), 0, 0)) == 2 * chunk  # straddles two chunks in time
    assert budget.cost(movie, (slice(0, 64, 16), slice(0, 5), slice(0, 5))) == 4 * chunk
    budget.read("frame", movie, 0)
    assert budget.decoded == 4 * chunk and budget.left == 6 * chunk
    with pytest.raises(OverBudgetError):
        budget.read("too much", movie, slice(0, 16))  # 8 chunks > 6 left
    assert budget.decoded == 4 * chunk and len(budget.reads) == 1


class OverFetching:
    """An array whose every read makes the 'store' serve three times the decoded bytes."""

    def __init__(self, meter: list[int]) -> None:
        self.data = np.zeros((100, 10), dtype=np.float64)
        self.shape, self.dtype = self.data.shape, self.data.dtype
        self.meter = meter

    def __getitem__(self, key: Any) -> np.ndarray:
        out = np.asarray(self.data[key])
        self.meter[0] += 3 * out.nbytes
        return out


def test_a_store_that_fetches_more_than_it_decodes_is_charged_for_it() -> None:
    meter = [1000]  # bytes fetched before the budget was made are not charged
    array = OverFetching(meter)
    budget = ReadBudget(limit=2400, meter=lambda: meter[0])
    row = 10 * 8
    budget.read("first", array, slice(0, 2))  # priced at 160, fetched 480
    assert budget.fetched == 480 and budget.spent == 480
    assert budget.expected(array, slice(0, 2)) == 3 * 2 * row  # now priced with what it really costs
    reads = 1
    while budget.fits(array, slice(0, 2)):
        budget.read("more", array, slice(0, 2))
        reads += 1
    assert reads == 5 and budget.spent == 2400 <= budget.limit


def test_capped_shares() -> None:
    movie = np.zeros((100, 10), dtype=np.uint8)
    budget = ReadBudget(limit=500)
    with budget.capped(100):
        assert budget.left == 100
        budget.read("a", movie, slice(0, 10))
        assert not budget.fits(movie, slice(0, 1))
    assert budget.left == 400 and budget.limit == 500
