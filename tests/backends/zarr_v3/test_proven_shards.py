"""A whole shard whose bytes the write manifest proves is decoded without its chunks' own checksums, and
skipping them lets no damage through: a changed shard still fails the manifest's CRC-32, and a shard an
append is rewriting (accepted unproven) is checked chunk by chunk."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import google_crc32c
import numpy as np
import pytest
import zarr
from zarr.core.buffer import default_buffer_prototype
from zarr.storage import LocalStore

from nwbzarr import NWBZarrIO
from nwbzarr.backends.zarr_v3 import shard_format
from nwbzarr.backends.zarr_v3.manifest import MANIFEST_KEY, CheckedStore, checksum, journal_key
from nwbzarr.errors import InvalidStoreError
from nwbzarr.model import NWBFile, TimeSeries
from nwbzarr.testing.tutorial import build_tutorial_file
from nwbzarr.writing.dataio import DataIO

MOVIE = np.random.default_rng(4).integers(0, 4000, (16, 16, 16), dtype=np.uint16)
SHARD = "acquisition/movie/data/c/0/0/0"  # frames 0-7, four chunks of 2 x 16 x 16


@pytest.fixture
def stored(tmp_path: Path) -> Path:
    nwbfile = build_tutorial_file(frames=4, size=8, seed=3)
    assert isinstance(nwbfile, NWBFile)
    data = DataIO(MOVIE, chunks=(2, 16, 16), shards=(8, 16, 16))
    nwbfile.add_acquisition(TimeSeries(name="movie", data=data, unit="n", rate=10.0))
    path = tmp_path / "s.nwb.zarr"
    with NWBZarrIO(path, "w") as io:
        io.write(nwbfile)
    return path


class _Sums:
    """google_crc32c as shard_format sees it, counting the checksums it computes."""

    def __init__(self) -> None:
        self.calls = 0

    def value(self, data: bytes) -> int:
        self.calls += 1
        result: int = google_crc32c.value(data)
        return result


@pytest.fixture
def sums(monkeypatch: pytest.MonkeyPatch) -> _Sums:
    counted = _Sums()
    monkeypatch.setattr(shard_format, "google_crc32c", counted)
    return counted


def _whole_shard(path: Path) -> np.ndarray:
    with NWBZarrIO(path, "r") as io:
        return np.asarray(io.read().acquisition["movie"].data[0:8])


def _damage_first_chunk(path: Path) -> None:
    shard = path / SHARD
    raw = bytearray(shard.read_bytes())
    raw[40] ^= 0xFF  # inside the first chunk's Blosc frame: its CRC-32C and the shard's CRC-32 both change
    shard.write_bytes(bytes(raw))


def test_a_proven_shard_computes_its_index_checksum_only(stored: Path, sums: _Sums) -> None:
    assert np.array_equal(_whole_shard(stored), MOVIE[0:8])
    assert sums.calls == 1  # the index's CRC-32C; the four chunks' are implied by the manifest's CRC-32


def test_a_shard_without_a_manifest_is_checked_chunk_by_chunk(stored: Path, sums: _Sums) -> None:
    (stored / MANIFEST_KEY).unlink()  # as a store another tool wrote: nothing proves its bytes
    assert np.array_equal(_whole_shard(stored), MOVIE[0:8])
    assert sums.calls == 1 + 4


def test_a_damaged_proven_shard_is_still_an_error(stored: Path) -> None:
    _damage_first_chunk(stored)
    with pytest.raises(InvalidStoreError, match=rf"{SHARD}: its checksum does not match the manifest"):
        _whole_shard(stored)


def test_a_shard_an_append_is_rewriting_is_checked_chunk_by_chunk(stored: Path) -> None:
    """Journaled, the shard is accepted whatever its bytes (an append is rewriting it), so nothing proved
    them: its chunks' own checksums still catch the damage."""
    _damage_first_chunk(stored)
    (stored / journal_key(SHARD)).parent.mkdir(parents=True, exist_ok=True)
    (stored / journal_key(SHARD)).write_text(json.dumps({"key": SHARD}))
    with pytest.raises(InvalidStoreError, match="a chunk's checksum does not match its bytes"):
        _whole_shard(stored)


async def _proven(store: CheckedStore, key: str, byte_range: Any = None) -> tuple[bytes | None, bool]:
    value, proven = await store.get_proven(key, default_buffer_prototype(), byte_range)
    return (None if value is None else value.to_bytes()), proven


def test_what_get_proven_calls_proven(tmp_path: Path) -> None:
    from zarr.abc.store import RangeByteRequest
    from zarr.core.sync import sync

    local = LocalStore(tmp_path)
    (tmp_path / "listed").write_bytes(b"written by nwbzarr")
    (tmp_path / "unlisted").write_bytes(b"written by another tool")
    store = CheckedStore(local, {"listed": checksum(b"written by nwbzarr")})
    assert sync(_proven(store, "listed")) == (b"written by nwbzarr", True)
    assert sync(_proven(store, "listed", RangeByteRequest(0, 7))) == (b"written", False)  # a range: unproven
    assert sync(_proven(store, "unlisted")) == (b"written by another tool", False)
    assert sync(store.get("listed", default_buffer_prototype())) is not None  # get: the same checks, no flag

    # rewritten since, and a newer commit lists the new bytes: proven by that commit
    (tmp_path / "listed").write_bytes(b"rewritten by an append")
    manifest = {"state": "complete", "objects": {"listed": checksum(b"rewritten by an append")}}
    (tmp_path / MANIFEST_KEY).write_text(json.dumps(manifest))
    assert sync(_proven(store, "listed")) == (b"rewritten by an append", True)

    # rewritten again, journaled by an append under way: accepted, not proven
    (tmp_path / "listed").write_bytes(b"being rewritten")
    (tmp_path / journal_key("listed")).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / journal_key("listed")).write_text("{}")
    assert sync(_proven(store, "listed")) == (b"being rewritten", False)

    # changed with no journal and no newer commit: an error naming the key
    (tmp_path / journal_key("listed")).unlink()
    (tmp_path / "listed").write_bytes(b"changed by accident")
    with pytest.raises(InvalidStoreError, match="listed: 19 bytes, the writer stored 22"):
        sync(_proven(store, "listed"))


def test_plain_zarr_reads_the_same_values(stored: Path) -> None:
    """The shards are plain Zarr v3: zarr, checking every chunk's CRC-32C itself, reads what nwbzarr reads."""
    array = zarr.open_array(stored / "acquisition/movie/data", mode="r")
    assert np.array_equal(array[0:8], _whole_shard(stored))
