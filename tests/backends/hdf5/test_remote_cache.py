"""The disk cache of remote HDF5 metadata and chunk indexes: warm opens cost one request, a changed object is
read afresh, the cache keeps to its size cap, and it can be moved or turned off."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from nwbzarr import read_nwb
from nwbzarr.backends.hdf5 import index_cache
from nwbzarr.testing.http_proxy import CountingProxy
from nwbzarr.testing.range_server import RangeServer
from nwbzarr.testing.remote_hdf5 import movie, write_layouts_file


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("files")
    write_layouts_file(root / "seed0.nwb", seed=0)
    write_layouts_file(root / "seed1.nwb", seed=1)
    return root


@pytest.fixture
def served(files: Path, tmp_path: Path) -> Iterator[tuple[Path, CountingProxy]]:
    root = tmp_path / "served"
    root.mkdir()
    shutil.copy(files / "seed0.nwb", root / "a.nwb")
    shutil.copy(files / "seed0.nwb", root / "b.nwb")
    with RangeServer(root) as server, CountingProxy(server.host, server.port) as proxy:
        yield root, proxy


def test_a_warm_open_is_one_request_and_a_frame_one_more(served: tuple[Path, CountingProxy]) -> None:
    _, proxy = served
    cold = read_nwb(f"{proxy.url}/a.nwb")
    assert np.array_equal(cold.acquisition["tiles"].data[4], movie(0)[4])
    proxy.reset()
    warm = read_nwb(f"{proxy.url}/a.nwb")
    assert proxy.total == 1, proxy.paths
    assert np.array_equal(warm.acquisition["tiles"].data[4], movie(0)[4])
    assert proxy.total == 2, proxy.paths


def test_a_changed_object_is_read_and_indexed_afresh(served: tuple[Path, CountingProxy], files: Path) -> None:
    root, proxy = served
    first = read_nwb(f"{proxy.url}/a.nwb")
    assert np.array_equal(first.acquisition["gzip"].data[2], movie(0)[2])
    shutil.copy(files / "seed1.nwb", root / "a.nwb")  # replaced: a new ETag
    again = read_nwb(f"{proxy.url}/a.nwb")
    for name in ("gzip", "tiles", "contiguous"):
        assert np.array_equal(again.acquisition[name].data[2], movie(1)[2]), name


def test_the_cache_keeps_to_its_size_cap(served: tuple[Path, CountingProxy], cache: Path) -> None:
    _, proxy = served
    read_nwb(f"{proxy.url}/a.nwb").acquisition["gzip"].data[0]
    assert len(list(cache.iterdir())) == 1
    index_cache.configure(max_bytes=1)  # smaller than any entry: only the one being used stays
    read_nwb(f"{proxy.url}/b.nwb").acquisition["gzip"].data[0]
    assert len(list(cache.iterdir())) == 1
    index_cache.configure(max_bytes=10**9)
    read_nwb(f"{proxy.url}/a.nwb")
    assert len(list(cache.iterdir())) == 2


def test_the_cache_can_be_turned_off(
    served: tuple[Path, CountingProxy], cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, proxy = served
    index_cache.configure(enabled=False)
    read_nwb(f"{proxy.url}/a.nwb").acquisition["gzip"].data[0]
    proxy.reset()
    read_nwb(f"{proxy.url}/a.nwb")
    assert proxy.total > 1  # nothing was kept
    assert not cache.exists()
    monkeypatch.setenv("NWBZARR_HDF5_CACHE", "off")
    monkeypatch.setenv("NWBZARR_HDF5_CACHE_DIR", str(cache / "elsewhere"))
    assert index_cache._default().enabled is False
    assert index_cache._default().location == cache / "elsewhere"
