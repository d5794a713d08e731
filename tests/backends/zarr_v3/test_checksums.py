"""Every numeric chunk carries a CRC-32C: a chunk whose bytes changed is an error on read, not wrong numbers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from nwbzarr import NWBZarrIO
from nwbzarr.errors import InvalidStoreError
from nwbzarr.model import NWBFile, TimeSeries
from nwbzarr.testing.tutorial import build_tutorial_file


def _flip(path: Path, at: int) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 0x01  # one bit: Blosc and LZ4 would decode it to plausible numbers
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("frames", [40, 520], ids=["chunked", "sharded"])
def test_a_flipped_bit_in_a_chunk_is_an_error_naming_the_node(tmp_path: Path, frames: int) -> None:
    nwbfile = build_tutorial_file(frames=4, size=8)
    assert isinstance(nwbfile, NWBFile)
    movie = np.random.default_rng(0).poisson(100, (frames, 128, 128)).astype(np.uint16)  # 520 frames: 16 MiB
    nwbfile.add_acquisition(TimeSeries(name="movie", data=movie, unit="n", rate=1.0))
    store = tmp_path / "s.nwb.zarr"
    with NWBZarrIO(store, "w") as io:
        io.write(nwbfile)
    array_dir = store / "acquisition" / "movie" / "data"
    codecs = json.loads((array_dir / "zarr.json").read_text())["codecs"]
    inner = codecs[0]["configuration"]["codecs"] if codecs[0]["name"] == "sharding_indexed" else codecs
    assert inner[-1]["name"] == "crc32c"
    with NWBZarrIO(store, "r") as io:
        assert np.array_equal(io.read().acquisition["movie"].data[0], movie[0])  # type: ignore[attr-defined]
    first = min((p for p in array_dir.rglob("c/*/*/*") if p.is_file()), key=lambda p: p.parts)
    _flip(first, 20)  # inside the first stored chunk (a shard starts with its first inner chunk)
    with NWBZarrIO(store, "r") as io:
        data = io.read().acquisition["movie"].data  # type: ignore[attr-defined]
        with pytest.raises(InvalidStoreError, match=r"acquisition/movie/data.*checksum"):
            data[0]
