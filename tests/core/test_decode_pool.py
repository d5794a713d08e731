"""One decoding pool a process: as many decoding threads as cores however many reads run at once, the
right values from concurrent reads, and a forked child that decodes with a pool of its own."""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import zarr
from zarr.codecs import BloscCodec, Crc32cCodec

from nwbzarr.backends.zarr_v3.shard_format import ShardLayout
from nwbzarr.backends.zarr_v3.shard_reader import ShardReader
from nwbzarr.core.decode_pool import decode_pool, decode_workers


def _movie(path: Path) -> tuple[ShardReader, np.ndarray]:
    values = np.random.default_rng(9).integers(0, 4000, (96, 32, 32), dtype=np.uint16)
    codecs = [BloscCodec(cname="lz4", clevel=5, shuffle="bitshuffle", typesize=2), Crc32cCodec()]
    array = zarr.create_array(
        path, shape=values.shape, chunks=(3, 8, 8), shards=(12, 32, 32), dtype="uint16", compressors=codecs
    )
    array[:] = values
    layout = ShardLayout.of(array)
    assert layout is not None
    return ShardReader(layout, "/movie"), values


def test_one_pool_for_the_process() -> None:
    assert decode_pool() is decode_pool()


def test_concurrent_reads_decode_on_at_most_one_thread_a_core(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Eight reads at once (as eight Dask threads would): every shard right, and its chunks decoded by no
    more threads than the pool has (a pool per read had up to two a read: sixteen)."""
    reader, values = _movie(tmp_path / "a.zarr")
    decoders: set[threading.Thread] = set()  # the threads themselves: names and idents repeat across pools
    place_rows = ShardReader._place_rows

    def recorded(self: ShardReader, *args: Any) -> None:
        decoders.add(threading.current_thread())
        place_rows(self, *args)

    monkeypatch.setattr(ShardReader, "_place_rows", recorded)
    shards = [(slice(i, i + 12), slice(0, 32), slice(0, 32)) for i in range(0, 96, 12)]
    with ThreadPoolExecutor(8) as tasks:
        for _ in range(3):
            got = list(tasks.map(reader.read, shards))
            for key, block in zip(shards, got, strict=True):
                assert block is not None and np.array_equal(block, values[key])
    assert decoders and len(decoders) <= decode_workers(), decoders
    assert all(thread.name.startswith("nwbzarr-decode") for thread in decoders), decoders


def _read_in_child(path: str, queue: Any) -> None:
    array = zarr.open_array(path, mode="r")
    layout = ShardLayout.of(array)
    assert layout is not None
    block = ShardReader(layout, "/movie").read((slice(0, 24), slice(0, 32), slice(0, 32)))
    queue.put(None if block is None else int(block.astype(np.int64).sum()))


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="no fork on this platform")
def test_a_forked_child_decodes_with_a_pool_of_its_own(tmp_path: Path) -> None:
    """The parent's pool has threads; a forked child has none of them. Without a pool of its own its
    reads would wait forever on jobs no thread runs."""
    reader, values = _movie(tmp_path / "a.zarr")
    assert reader.read((slice(0, 12), slice(0, 32), slice(0, 32))) is not None  # the parent's pool is started
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_read_in_child, args=(str(tmp_path / "a.zarr"), queue))
    child.start()
    child.join(60)
    if child.is_alive():
        child.kill()
        pytest.fail("a read in a forked child hung: it used the parent's pool, whose threads it does not have")
    assert child.exitcode == 0
    assert queue.get(timeout=5) == int(values[:24].astype(np.int64).sum())
