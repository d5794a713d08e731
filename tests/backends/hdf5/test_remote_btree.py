"""nwbzarr's own reading of HDF5 chunk B-trees: every chunk's address equals h5py's ``chunk_iter``, on
trees of one to three levels, version 1 and 2 object headers and chunks never written; layouts it does not
parse say so; over HTTP a first frame after a cold open takes at most 2 requests and a cold open no HEAD."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

from nwbzarr import read_nwb
from nwbzarr.backends.hdf5.remote_btree import ChunkTree, Entry, chunk_tree_root, istore_k, node_bytes
from nwbzarr.testing.http_proxy import CountingProxy
from nwbzarr.testing.range_server import RangeServer


def _reference(dataset: Any) -> dict[tuple[int, ...], tuple[int, int, int]]:
    found: dict[tuple[int, ...], tuple[int, int, int]] = {}
    dataset.id.chunk_iter(lambda i: found.__setitem__(tuple(i.chunk_offset), (i.byte_offset, i.size, i.filter_mask)))
    return found


class _Local:
    """A file read by offset, counting the round trips a tree asks for."""

    def __init__(self, path: Path) -> None:
        self.data = path.read_bytes()
        self.rounds = 0

    def read(self, start: int, nbytes: int) -> bytes:
        return self.data[start : start + nbytes]

    def read_many(self, ranges: list[tuple[int, int]]) -> list[bytes]:
        self.rounds += 1
        return [self.read(start, nbytes) for start, nbytes in ranges]


def _tree(path: Path, name: str, *, k: int | None = None) -> tuple[ChunkTree | None, _Local, Any]:
    local = _Local(path)
    file = h5py.File(path, "r")
    sizeof_addr, sizeof_size = file.id.get_create_plist().get_sizes()
    header = h5py.h5g.get_objinfo(file.id, name.encode()).objno[0]
    found = chunk_tree_root(local.read, header, sizeof_addr, sizeof_size)
    if found is None:
        return None, local, file
    root, rank = found
    size = node_bytes(rank, k or istore_k(local.read(0, 64)), sizeof_addr)
    return ChunkTree(root, rank, size, local.read_many, sizeof_addr, name), local, file


def _as_dict(entries: list[Entry]) -> dict[tuple[int, ...], tuple[int, int, int]]:
    return {e.offset: (e.child, e.size, e.mask) for e in entries}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    root = tmp_path_factory.mktemp("btree")
    rng = np.random.default_rng(5)
    out = {}
    for libver in ("earliest", "v108", "latest"):
        path = out[libver] = root / f"{libver}.h5"
        with h5py.File(path, "w", libver=(libver, "latest") if libver != "earliest" else None) as f:
            f.create_dataset("deep", data=np.arange(5000, dtype=np.int32), chunks=(1,))  # 5000 chunks: 3 levels
            tiles = f.create_dataset("tiles", shape=(30, 96, 96), dtype="u2", chunks=(4, 32, 32), compression="gzip")
            tiles[:10] = rng.integers(0, 4000, (10, 96, 96))  # frames 12.. never written: absent chunks
            f.create_dataset("one", data=np.ones((3, 4)), chunks=(3, 4), fletcher32=True)
            f.create_dataset("contiguous", data=np.zeros((10, 10)))
    yield out


@pytest.mark.parametrize("libver", ["earliest", "v108"])
@pytest.mark.parametrize("name", ["deep", "tiles", "one"])
def test_every_chunk_address_equals_chunk_iter(files: dict[str, Path], libver: str, name: str) -> None:
    tree, local, file = _tree(files[libver], name)
    try:
        assert tree is not None
        reference = _reference(file[name])
        assert _as_dict(tree.all()) == reference
        levels = tree._nodes[tree.root].level + 1
        assert local.rounds == levels  # one round trip a level, however many nodes
        if name == "deep":
            assert levels == 3
    finally:
        file.close()


@pytest.mark.parametrize("libver", ["earliest", "v108"])
def test_a_lookup_reads_only_the_nodes_on_its_way(files: dict[str, Path], libver: str) -> None:
    tree, local, file = _tree(files[libver], "deep")
    try:
        assert tree is not None
        reference = _reference(file["deep"])
        wanted = [(7,), (2500,), (4999,), (5001,)]  # the last one is past the end: not stored
        found = tree.find(wanted)
        assert {k: (e.child, e.size, e.mask) for k, e in found.items()} == {
            k: reference[k] for k in wanted if k in reference
        }
        assert local.rounds == 3  # one round trip a level
        assert len(tree._nodes) < 10  # the root, and the few nodes above those chunks, of ~160 nodes
        tiles, _, _ = _tree(files[libver], "tiles")
        assert tiles is not None
        found = tiles.find([(0, 0, 0), (8, 32, 64), (20, 0, 0)])  # (20, 0, 0) was never written
        assert set(found) == {(0, 0, 0), (8, 32, 64)}
    finally:
        file.close()


def test_a_node_larger_than_assumed_is_read_whole(files: dict[str, Path]) -> None:
    tree, _, file = _tree(files["earliest"], "deep", k=2)  # nodes of 4 entries assumed; they hold 64
    try:
        assert tree is not None
        assert _as_dict(tree.all()) == _reference(file["deep"])
    finally:
        file.close()


def test_layouts_it_does_not_parse_are_left_to_h5py(files: dict[str, Path]) -> None:
    for libver, name in (("latest", "deep"), ("latest", "tiles"), ("earliest", "contiguous")):
        tree, _, file = _tree(files[libver], name)
        file.close()
        assert tree is None, (libver, name)


@pytest.fixture(scope="module")
def long_movie(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Frame chunks of noise (about 8 kB each): 900 chunks, their B-tree leaves spread over 7 MB."""
    from datetime import UTC, datetime

    from pynwb import NWBHDF5IO, H5DataIO, NWBFile, TimeSeries

    path = tmp_path_factory.mktemp("movie") / "long.nwb"
    frames = np.random.default_rng(1).integers(0, 60000, (900, 64, 64), dtype=np.uint16)
    nwbfile = NWBFile(
        session_description="long movie", identifier="long", session_start_time=datetime(2026, 1, 1, tzinfo=UTC)
    )
    data = H5DataIO(frames, chunks=(1, 64, 64), compression="gzip", compression_opts=4)
    nwbfile.add_acquisition(TimeSeries(name="movie", data=data, unit="n.a.", rate=30.0))
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwbfile)
    return path


def test_cold_open_and_a_first_frame_over_http(long_movie: Path) -> None:
    frames = np.random.default_rng(1).integers(0, 60000, (900, 64, 64), dtype=np.uint16)
    with RangeServer(long_movie.parent) as server, CountingProxy(server.host, server.port) as proxy:
        nwbfile = read_nwb(f"{proxy.url}/long.nwb")
        assert proxy.requests.get("HEAD", 0) == 0, proxy.paths  # the identity came with the first GETs
        assert proxy.total <= 3, proxy.paths
        data = nwbfile.acquisition["movie"].data
        proxy.reset()
        assert np.array_equal(data[450], frames[450])
        assert proxy.total <= 2, proxy.paths  # a leaf of the chunk B-tree, then the chunk (h5py's lookup: 4)
        proxy.reset()
        assert np.array_equal(data[451], frames[451])
        assert proxy.total == 1, proxy.paths
        proxy.reset()
        assert np.array_equal(data[100:700, 5], frames[100:700, 5])
        # the B-tree leaves not held yet (900 chunks: ~15 leaves), all in flight together, then the chunks merged
        assert proxy.total <= 20, proxy.paths
