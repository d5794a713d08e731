"""``blocks.stored_regions``: a copy visits only the blocks (or units) that hold stored chunks."""

from __future__ import annotations

import numpy as np

from nwbzarr.writing.blocks import iter_regions, sparse_chunks, stored_regions


class Sparse:
    """An array-like that says which of its chunks are stored (as the HDF5 and Zarr readers do)."""

    def __init__(self, shape: tuple[int, ...], chunks: tuple[int, ...], origins: list[tuple[int, ...]] | None) -> None:
        self.shape, self.chunks, self._origins = shape, chunks, origins

    def stored_chunks(self) -> list[tuple[int, ...]] | None:
        return self._origins


def _covered(regions: list[tuple[slice, ...]], shape: tuple[int, ...]) -> np.ndarray:
    mask = np.zeros(shape, dtype=np.int8)
    for region in regions:
        mask[region] += 1
    return mask


def test_only_touched_units_and_each_once() -> None:
    source = Sparse((100, 100), (10, 10), [(0, 0), (50, 90), (90, 0)])
    regions = list(stored_regions(source, (100, 100), block=(40, 100), unit=(20, 20)))
    mask = _covered(regions, (100, 100))
    assert mask.max() == 1  # nothing twice
    for origin in source.stored_chunks() or []:  # every stored chunk covered
        assert mask[origin[0] : origin[0] + 10, origin[1] : origin[1] + 10].all()
    assert mask.sum() == 3 * 20 * 20  # one destination unit per chunk, not the blocks around them


def test_a_block_whose_units_are_all_stored_comes_whole() -> None:
    origins: list[tuple[int, ...]] = [(i, j) for i in range(0, 40, 10) for j in range(0, 100, 10)]
    regions = list(stored_regions(Sparse((100, 100), (10, 10), origins), (100, 100), block=(40, 100), unit=(20, 20)))
    assert regions == [(slice(0, 40), slice(0, 100))]


def test_a_chunk_across_units_touches_each() -> None:
    regions = list(stored_regions(Sparse((30,), (15,), [(0,)]), (30,), block=(30,), unit=(10,)))
    assert regions == [(slice(0, 10),), (slice(10, 20),)]


def test_unknown_storage_walks_everything() -> None:
    everything = list(iter_regions((30, 30), (10, 30)))
    assert list(stored_regions(Sparse((30, 30), (10, 10), None), (30, 30), (10, 30))) == everything
    assert list(stored_regions(np.zeros((30, 30)), (30, 30), (10, 30))) == everything


def test_sparse_chunks_only_when_some_are_missing() -> None:
    assert sparse_chunks(Sparse((20, 20), (10, 10), [(0, 0)])) == (10, 10)
    assert sparse_chunks(Sparse((20, 20), (10, 10), [(0, 0), (0, 10), (10, 0), (10, 10)])) is None
    assert sparse_chunks(np.zeros(3)) is None
