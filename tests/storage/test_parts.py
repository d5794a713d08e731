"""A whole shard from object storage comes in ranged parts sent together, and is still proven whole: a
shard changed, swapped or lost on the server since the store was opened is an error, never other values."""

from __future__ import annotations

import asyncio
import itertools
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from zarr.storage import FsspecStore, LocalStore, MemoryStore

from nwbzarr import NWBZarrIO
from nwbzarr.backends.zarr_v3 import shard_reader
from nwbzarr.backends.zarr_v3.manifest import CheckedStore
from nwbzarr.errors import IncompleteStoreError, InvalidStoreError
from nwbzarr.model import NWBFile, TimeSeries
from nwbzarr.storage import make_store
from nwbzarr.storage.parts import fetch_in_parts, splits_large_reads
from nwbzarr.testing.http_proxy import CountingProxy
from nwbzarr.testing.s3server import S3TestServer
from nwbzarr.testing.tutorial import build_tutorial_file
from nwbzarr.writing.dataio import DataIO

MOVIE = np.random.default_rng(11).integers(0, 2**16, (32, 64, 64), dtype=np.uint16)  # incompressible
SHARD = "acquisition/movie/data/c/0/0/0"  # frames 0-15: about 128 KiB


def _parts(data: bytes, part_bytes: int, answer: Any = None) -> tuple[np.ndarray | None, list[tuple[int, int]]]:
    asked: list[tuple[int, int]] = []

    async def get(start: int, stop: int) -> memoryview | None:
        asked.append((start, stop))
        return answer(start, stop) if answer is not None else memoryview(data)[start:stop]

    return asyncio.run(fetch_in_parts(get, len(data), part_bytes)), asked


@given(size=st.integers(1, 5000), part_bytes=st.integers(1, 1200))
def test_parts_cover_the_object_once_in_equal_parts_no_larger_than_asked(size: int, part_bytes: int) -> None:
    data = np.random.default_rng(size).integers(0, 256, size, dtype=np.uint8).tobytes()
    got, asked = _parts(data, part_bytes)
    assert got is not None and got.tobytes() == data
    assert len(asked) == math.ceil(size / part_bytes)
    ordered = sorted(asked)
    assert ordered[0][0] == 0 and ordered[-1][1] == size
    assert all(a[1] == b[0] for a, b in itertools.pairwise(ordered))  # no gap, no overlap
    lengths = [stop - start for start, stop in ordered]
    assert max(lengths) <= part_bytes
    assert len(set(lengths[:-1])) <= 1 and lengths[-1] <= lengths[0]  # equal parts; the last may be shorter


def test_a_part_missing_or_short_gives_none() -> None:
    data = bytes(range(256)) * 40
    missing, _ = _parts(data, 1000, lambda start, stop: None if start else memoryview(data)[start:stop])
    short, _ = _parts(data, 1000, lambda start, stop: memoryview(data)[start : stop - 1])
    assert missing is None and short is None


def test_only_object_stores_split_large_reads(tmp_path: Path, s3_server: S3TestServer) -> None:
    assert not splits_large_reads(LocalStore(tmp_path))
    assert not splits_large_reads(make_store(tmp_path / "x", read_only=False))
    assert not splits_large_reads(MemoryStore())
    assert not splits_large_reads(FsspecStore.from_url("memory://parts-test"))
    s3 = make_store("s3://lab/parts", read_only=True, storage_options=s3_server.storage_options())
    assert splits_large_reads(s3)  # obstore or s3fs, whichever transport this test runs on
    assert splits_large_reads(CheckedStore(s3, {}))  # through nwbzarr's wrappers too


def _written(url: str, options: dict[str, Any]) -> None:
    nwbfile = build_tutorial_file(frames=4, size=8, seed=5)
    assert isinstance(nwbfile, NWBFile)
    data = DataIO(MOVIE, chunks=(2, 32, 32), shards=(16, 64, 64))
    nwbfile.add_acquisition(TimeSeries(name="movie", data=data, unit="n", rate=10.0))
    with NWBZarrIO(url, "w", storage_options=options) as io:
        io.write(nwbfile)


@pytest.fixture
def small_parts(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(shard_reader, "PART_BYTES", 40_000)  # a 128 KiB shard in 4 parts
    return 40_000


def _shard_gets(proxy: CountingProxy) -> list[str]:
    return [rng for (method, path), rng in zip(proxy.paths, proxy.ranges, strict=True) if SHARD in path]


def test_a_whole_shard_comes_in_parts_and_reads_right(
    s3_server: S3TestServer, s3_url: str, counting_proxy: CountingProxy, small_parts: int
) -> None:
    _written(s3_url, s3_server.storage_options())
    with NWBZarrIO(s3_url, "r", storage_options=s3_server.storage_options(counting_proxy.url)) as io:
        data = io.read().acquisition["movie"].data
        counting_proxy.reset()
        assert np.array_equal(np.asarray(data[0:16]), MOVIE[0:16])
    gets = _shard_gets(counting_proxy)
    size = len(s3_server.resource().Object("lab", f"{s3_url.removeprefix('s3://lab/')}/{SHARD}").get()["Body"].read())
    assert len(gets) == math.ceil(size / small_parts) and all(g.startswith("bytes=") for g in gets), gets


def test_a_shard_changed_on_the_server_is_read_whole_and_refused(
    s3_server: S3TestServer, s3_url: str, counting_proxy: CountingProxy, small_parts: int
) -> None:
    _written(s3_url, s3_server.storage_options())
    prefix = s3_url.removeprefix("s3://lab/")
    with NWBZarrIO(s3_url, "r", storage_options=s3_server.storage_options(counting_proxy.url)) as io:
        data = io.read().acquisition["movie"].data
        bucket = s3_server.resource().Bucket("lab")
        other = bucket.Object(f"{prefix}/acquisition/movie/data/c/1/0/0").get()["Body"].read()
        bucket.put_object(Key=f"{prefix}/{SHARD}", Body=other)  # swapped for its neighbour after the open
        counting_proxy.reset()
        with pytest.raises(InvalidStoreError, match=rf"{SHARD}: (its checksum|\d+ bytes)"):
            data[0:16]
        assert "" in _shard_gets(counting_proxy)  # the parts did not prove it: one whole GET decided
        bucket.Object(f"{prefix}/{SHARD}").delete()
        with pytest.raises(IncompleteStoreError, match=rf"{SHARD}: written by nwbzarr but missing now"):
            data[0:16]
