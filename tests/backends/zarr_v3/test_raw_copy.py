"""Issue 20: conversions copy stored bytes without decoding where source and destination encode chunks alike."""

from __future__ import annotations

import gzip
import json
import shutil
import warnings
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import zarr

from nwbzarr import NWBZarrIO
from nwbzarr.backends.hdf5.chunk_index import ChunkIndex
from nwbzarr.backends.zarr_v3.gzip_wrap import zlib_to_gzip
from nwbzarr.backends.zarr_v3.raw_record import RawCopy, raw_copies
from nwbzarr.errors import InvalidStoreError, NWBZarrError
from nwbzarr.operations.convert import convert
from nwbzarr.testing.tutorial import build_tutorial_file

h5py = pytest.importorskip("h5py")

SHAPE = (60, 40, 40)  # edge chunks on every axis: HDF5 and Zarr both store them full size
CHUNKS = (10, 16, 16)
MOVIE = np.random.default_rng(0).poisson(200, SHAPE).astype("<u2")
PLAIN, SHUFFLED, CHECKSUMMED = "/acquisition/plain/data", "/acquisition/shuffled/data", "/acquisition/checked/data"


def _movies(tmp_path: Path) -> Path:
    """A PyNWB file with three gzip movies: plain deflate, shuffle + deflate, deflate + Fletcher-32."""
    import pynwb
    from hdmf.backends.hdf5 import H5DataIO

    nwbfile = build_tutorial_file("pynwb", frames=20, size=8)
    plane = nwbfile.imaging_planes["ImagingPlane"]
    options = {"plain": {}, "shuffled": {"shuffle": True}, "checked": {"fletcher32": True}}
    for name, extra in options.items():
        data = H5DataIO(MOVIE, compression="gzip", compression_opts=4, chunks=CHUNKS, **extra)
        nwbfile.add_acquisition(
            pynwb.ophys.TwoPhotonSeries(name=name, data=data, imaging_plane=plane, rate=30.0, unit="n.a.")
        )
    path = tmp_path / "movies.nwb"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pynwb.NWBHDF5IO(str(path), "w") as io:
            io.write(nwbfile)
    return path


@pytest.fixture(scope="module")
def written_movies(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _movies(tmp_path_factory.mktemp("movies"))


@pytest.fixture
def movies(written_movies: Path, tmp_path: Path) -> Path:
    """A copy of the file per test (some tests damage it)."""
    return Path(shutil.copy(written_movies, tmp_path / "movies.nwb"))


def _convert(src: Path | str, dst: Path | str, **options: Any) -> tuple[dict[str, RawCopy], list[str]]:
    said: list[str] = []
    with raw_copies() as records:
        convert(src, dst, explain=said.append, **options)
    return {r.path: r for r in records}, said


def _zarr(store: Path, path: str) -> zarr.Array[Any]:
    array = zarr.open_array(store / path.lstrip("/"), mode="r")
    assert isinstance(array, zarr.Array)
    return array


# --- the re-wrap itself


def test_zlib_stream_becomes_a_gzip_member_of_the_same_deflate_data() -> None:
    values = MOVIE[:10].tobytes()
    stream = zlib.compress(values, 6)
    member = zlib_to_gzip(stream, len(values), "here")
    assert gzip.decompress(member) == values
    assert member[10:-8] == stream[2:-4]  # the deflate data itself is not recompressed


@pytest.mark.parametrize(
    ("damage", "why"),
    [
        (lambda s: s[:-1], "Adler-32|cut short"),
        (lambda s: s[:2] + bytes([s[2] ^ 0x55]) + s[3:], "damaged|Adler-32|more bytes|inflates"),
        (lambda s: s[:-4] + bytes(4), "Adler-32"),
        (lambda s: b"\x00" + s[1:], "no zlib header"),
        (lambda s: s[:100] + bytes([s[100] ^ 0x01]) + s[101:], "damaged|Adler-32|more bytes|inflates"),
    ],
)
def test_a_damaged_stream_is_refused(damage: Any, why: str) -> None:
    values = MOVIE[:10].tobytes()
    with pytest.raises(InvalidStoreError, match=why):
        zlib_to_gzip(damage(zlib.compress(values, 6)), len(values), "chunk at (0, 0, 0)")


def test_a_stream_of_another_size_is_refused() -> None:
    values = MOVIE[:10].tobytes()
    with pytest.raises(InvalidStoreError, match="not the chunk's"):
        zlib_to_gzip(zlib.compress(values), len(values) + 2, "here")
    with pytest.raises(InvalidStoreError, match="more bytes"):
        zlib_to_gzip(zlib.compress(values), len(values) - 2, "here")


# --- HDF5 -> Zarr


def test_hdf5_deflate_chunks_are_rewrapped_not_recompressed(movies: Path, tmp_path: Path) -> None:
    dst = tmp_path / "movies.nwb.zarr"
    records, said = _convert(movies, dst, layout="keep")
    assert set(records) >= {PLAIN, CHECKSUMMED} and SHUFFLED not in records  # shuffle: no core Zarr codec
    grid = [-(-n // c) for n, c in zip(SHAPE, CHUNKS, strict=True)]
    assert records[PLAIN].objects == np.prod(grid) and records[PLAIN].decoded == 0
    assert any(PLAIN in line and "deflate -> gzip" in line for line in said)
    with h5py.File(movies, "r") as file:
        mask, stored = file[PLAIN].id.read_direct_chunk((10, 16, 32))
    assert mask == 0
    chunk = (dst / "acquisition/plain/data/c/1/1/2").read_bytes()
    assert chunk[:2] == b"\x1f\x8b" and chunk[10:-12] == bytes(stored)[2:-4]  # gzip member + CRC-32C, same deflate
    for path in (PLAIN, SHUFFLED, CHECKSUMMED):
        array = _zarr(dst, path)
        assert [c.to_dict()["name"] for c in array.metadata.codecs] == ["bytes", "gzip", "crc32c"]  # type: ignore[union-attr]
        assert array.chunks == CHUNKS and np.array_equal(array[:], MOVIE), path  # zarr-python
    with NWBZarrIO(dst) as io:
        nwbfile = io.read()
        for name in ("plain", "shuffled", "checked"):
            assert np.array_equal(nwbfile.acquisition[name].data[:], MOVIE), name  # type: ignore[attr-defined]


def test_tensorstore_reads_the_rewrapped_chunks(movies: Path, tmp_path: Path) -> None:
    ts = pytest.importorskip("tensorstore")
    dst = tmp_path / "movies.nwb.zarr"
    records, _ = _convert(movies, dst, layout="keep")
    assert PLAIN in records
    spec = {"driver": "zarr3", "kvstore": {"driver": "file", "path": str(dst / PLAIN.lstrip("/"))}}
    movie = ts.open(spec).result()
    assert np.array_equal(movie.read().result(), MOVIE)


def test_forced_decode_path_gives_the_same_store(movies: Path, tmp_path: Path) -> None:
    raw, decoded = tmp_path / "raw.nwb.zarr", tmp_path / "decoded.nwb.zarr"
    _convert(movies, raw, layout="keep")
    with raw_copies(enabled=False):
        records, said = _convert(movies, decoded, layout="keep")
    assert records == {} and not any("without re-encoding" in line for line in said)
    for path in (PLAIN, SHUFFLED, CHECKSUMMED):
        assert np.array_equal(_zarr(raw, path)[:], _zarr(decoded, path)[:])
        assert _zarr(raw, path).metadata == _zarr(decoded, path).metadata


def test_other_chunks_take_the_decode_path(movies: Path, tmp_path: Path) -> None:
    dst = tmp_path / "rechunked.nwb.zarr"
    records, _ = _convert(movies, dst, layout="keep", chunks=(20, 40, 40))
    assert not {PLAIN, CHECKSUMMED} & set(records)
    assert np.array_equal(_zarr(dst, PLAIN)[:], MOVIE)
    default = tmp_path / "default.nwb.zarr"
    records, _ = _convert(movies, default)  # nwbzarr's own layout (zstd, shards): nothing to copy raw
    assert PLAIN not in records and np.array_equal(_zarr(default, PLAIN)[:], MOVIE)


def _plain_hdf5(path: Path, **options: Any) -> Path:
    with h5py.File(path, "w") as file:
        file.create_dataset("movie", data=MOVIE, chunks=CHUNKS, **options)
    return path


def test_a_chunk_stored_with_deflate_skipped_is_decoded(tmp_path: Path) -> None:
    """HDF5 may store a chunk with a filter skipped (its filter mask says which): that chunk is decoded."""
    src = _plain_hdf5(tmp_path / "mask.h5", compression="gzip")
    replaced = MOVIE[10:20, 16:32, 0:16] + 1
    with h5py.File(src, "r+") as file:
        file["movie"].id.write_direct_chunk((10, 16, 0), np.ascontiguousarray(replaced).tobytes(), filter_mask=1)
        assert np.array_equal(file["movie"][10:20, 16:32, 0:16], replaced)
        expected = file["movie"][()]
    records, said = _convert(src, tmp_path / "mask.nwb.zarr", raw=True, layout="keep")
    assert records["/movie"].decoded == 1 and records["/movie"].objects == 53
    assert any("1 chunk(s) decoded" in line for line in said)
    assert np.array_equal(_zarr(tmp_path / "mask.nwb.zarr", "movie")[:], expected)


def test_big_endian_and_nonzero_fill_take_the_decode_path(tmp_path: Path) -> None:
    big = _plain_hdf5(tmp_path / "big.h5", compression="gzip", dtype=">u2")
    records, _ = _convert(big, tmp_path / "big.nwb.zarr", raw=True, layout="keep")
    assert "/movie" not in records and np.array_equal(_zarr(tmp_path / "big.nwb.zarr", "movie")[:], MOVIE)
    filled = _plain_hdf5(tmp_path / "filled.h5", compression="gzip", fillvalue=7)
    records, _ = _convert(filled, tmp_path / "filled.nwb.zarr", raw=True, layout="keep")
    assert "/movie" not in records and np.array_equal(_zarr(tmp_path / "filled.nwb.zarr", "movie")[:], MOVIE)


def test_a_sparse_dataset_copies_its_allocated_chunks_only(tmp_path: Path) -> None:
    """10^6 x 10^6 declared, two chunks allocated: the raw copy lists chunks, never walks the grid."""
    src = tmp_path / "sparse.h5"
    with h5py.File(src, "w") as file:
        big = file.create_dataset("big", shape=(10**6, 10**6), chunks=(100, 100), dtype="<i2", compression="gzip")
        big[0:100, 0:100] = 1
        big[-1, -1] = 2
    dst = tmp_path / "sparse.nwb.zarr"
    records, _ = _convert(src, dst, raw=True, layout="keep")
    assert records["/big"].objects == 2
    copied = _zarr(dst, "big")
    assert copied[99, 99] == 1 and copied[-1, -1] == 2 and copied[100, 0] == 0 and not copied[-1, :-1].any()


def _damage_hdf5_chunk(path: Path, dataset: str, at: tuple[int, ...], where: int) -> None:
    with h5py.File(path, "r") as file:
        index = ChunkIndex.of(file[dataset])
    offset = int(index.offsets[at]) + where
    with path.open("r+b") as raw:
        raw.seek(offset)
        byte = raw.read(1)[0]
        raw.seek(offset)
        raw.write(bytes([byte ^ 0x10]))


@pytest.mark.parametrize("path", [PLAIN, CHECKSUMMED])
def test_damage_in_an_hdf5_chunk_is_an_error_on_both_paths(movies: Path, tmp_path: Path, path: str) -> None:
    """The re-wrap inflates each chunk (Adler-32, Fletcher-32 checked): a damaged one is never copied."""
    _damage_hdf5_chunk(movies, path, (2, 1, 0), 200)
    with pytest.raises(NWBZarrError, match=r"chunk at \(20, 16, 0\)|Fletcher|Adler|deflate"):
        _convert(movies, tmp_path / "raw.nwb.zarr", layout="keep")
    with raw_copies(enabled=False), pytest.raises(NWBZarrError):
        _convert(movies, tmp_path / "decoded.nwb.zarr", layout="keep")


# --- Zarr -> Zarr


@pytest.fixture(scope="module")
def written_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("store") / "src.nwb.zarr"
    with NWBZarrIO(path, "w") as io:
        io.write(build_tutorial_file(frames=60, size=32))
    return path


@pytest.fixture
def zarr_source(written_store: Path, tmp_path: Path) -> Path:
    """A copy of the store per test (some tests damage it)."""
    return Path(shutil.copytree(written_store, tmp_path / "src.nwb.zarr"))


def _objects(store: Path) -> dict[str, bytes]:
    """Every chunk or shard object of a store (metadata documents and nwbzarr's bookkeeping left out)."""
    return {
        str(p.relative_to(store)): p.read_bytes()
        for p in store.rglob("*")
        if p.is_file() and p.name != "zarr.json" and not p.name.startswith("nwbzarr")
    }


def test_zarr_keep_layout_copies_every_object_byte_for_byte(zarr_source: Path, tmp_path: Path) -> None:
    dst = tmp_path / "copy.nwb.zarr"
    records, said = _convert(zarr_source, dst, layout="keep")
    movie = "/acquisition/TwoPhotonSeries1/data"
    assert movie in records and records[movie].how == "zarr objects" and records[movie].checked == 0
    assert said and "without re-encoding" in said[0]
    source, copied = _objects(zarr_source), _objects(dst)
    assert copied == source and len(copied) > 10  # every object the same bytes under the same key
    with NWBZarrIO(zarr_source) as a, NWBZarrIO(dst) as b:
        assert a.read() == b.read()
    hdmf_zarr = pytest.importorskip("hdmf_zarr")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with hdmf_zarr.NWBZarrIO(str(dst), "r") as io:
            theirs = io.read().acquisition["TwoPhotonSeries1"].data[:]
    with NWBZarrIO(zarr_source) as io:
        assert np.array_equal(theirs, io.read().acquisition["TwoPhotonSeries1"].data[:])  # type: ignore[attr-defined]


def test_zarr_other_layout_takes_the_decode_path(zarr_source: Path, tmp_path: Path) -> None:
    dst = tmp_path / "rechunked.nwb.zarr"
    records, _ = _convert(zarr_source, dst, layout="keep", chunks=(30, 32, 32))
    assert "/acquisition/TwoPhotonSeries1/data" not in records
    with NWBZarrIO(zarr_source) as a, NWBZarrIO(dst) as b:
        assert a.read() == b.read()


def _a_movie_object(store: Path) -> Path:
    return sorted((store / "acquisition/TwoPhotonSeries1/data/c").rglob("*"), key=lambda p: p.is_file())[-1]


def test_damage_in_a_zarr_object_is_an_error(zarr_source: Path, tmp_path: Path) -> None:
    """A source with a manifest: every object read is checked against it before it is copied."""
    target = _a_movie_object(zarr_source)
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01
    target.write_bytes(bytes(data))
    with pytest.raises(NWBZarrError, match="checksum"):
        _convert(zarr_source, tmp_path / "copy.nwb.zarr", layout="keep")


def test_a_store_without_manifest_is_decode_checked(zarr_source: Path, tmp_path: Path) -> None:
    """No manifest proves the bytes (a store of another tool): each object is decoded once after its copy."""
    (zarr_source / "nwbzarr.json").unlink()
    records, said = _convert(zarr_source, tmp_path / "copy.nwb.zarr", layout="keep")
    movie = records["/acquisition/TwoPhotonSeries1/data"]
    assert movie.checked == movie.objects > 0 and any("decode-checked" in line for line in said)
    target = _a_movie_object(zarr_source)
    data = bytearray(target.read_bytes())
    data[len(data) // 3] ^= 0x01
    target.write_bytes(bytes(data))
    with pytest.raises(NWBZarrError):
        _convert(zarr_source, tmp_path / "again.nwb.zarr", layout="keep")


def test_shards_are_copied_whole_with_their_index_recorded(tmp_path: Path) -> None:
    from nwbzarr import DataIO
    from nwbzarr.model import TwoPhotonSeries

    nwbfile = build_tutorial_file(frames=10, size=8)
    plane = nwbfile.imaging_planes["ImagingPlane"]
    data = DataIO(MOVIE, chunks=(5, 8, 8), shards=(20, 40, 40), compression="zstd")
    nwbfile.add_acquisition(TwoPhotonSeries(name="sharded", data=data, imaging_plane=plane, rate=30.0))
    src, dst = tmp_path / "sharded.nwb.zarr", tmp_path / "copy.nwb.zarr"
    with NWBZarrIO(src, "w") as io:
        io.write(nwbfile)
    records, _ = _convert(src, dst, layout="keep")
    assert records["/acquisition/sharded/data"].objects == 3  # three shards along time, each one object
    shards = {k: v for k, v in _objects(src).items() if k.startswith("acquisition/sharded/data/")}
    assert len(shards) == 3 and all(_objects(dst)[k] == v for k, v in shards.items())
    recorded = [json.loads((s / "nwbzarr.json").read_text())["objects"] for s in (src, dst)]
    key = "acquisition/sharded/data/c/1/0/0"
    assert len(recorded[1][key]) == 4 and recorded[1][key] == recorded[0][key]  # size, CRC-32 and the index's
    assert np.array_equal(_zarr(dst, "acquisition/sharded/data")[:], MOVIE)
    assert np.array_equal(_zarr(dst, "acquisition/sharded/data")[27, 3:9], MOVIE[27, 3:9])  # a ranged read


# --- legacy Zarr v2 -> Zarr v3

V2_STORE = Path(__file__).resolve().parents[2] / "data" / "v2" / "ophys.nwb.zarr"
V2_MOVIE = "acquisition/TwoPhotonSeries1/data"


def test_v2_chunks_become_v3_chunks_as_they_are(tmp_path: Path) -> None:
    """hdmf-zarr 0.13's Blosc-LZ4 chunks: the same bytes under the v3 key, a CRC-32C after them."""
    raw, decoded = tmp_path / "raw.nwb.zarr", tmp_path / "decoded.nwb.zarr"
    records, _ = _convert(V2_STORE, raw, layout="keep", allow_pickle=True)
    movie = records[f"/{V2_MOVIE}"]
    assert movie.how == "zarr v2 chunks" and movie.objects == movie.checked == 1  # decode-checked: no checksum
    meta = json.loads((V2_STORE / V2_MOVIE / ".zarray").read_text())
    assert meta["compressor"]["id"] == "blosc" and meta["order"] == "C"
    v3_chunk = (raw / V2_MOVIE / "c/0/0/0").read_bytes()
    assert v3_chunk[:-4] == (V2_STORE / V2_MOVIE / "0.0.0").read_bytes()
    with raw_copies(enabled=False):
        _convert(V2_STORE, decoded, layout="keep", allow_pickle=True)
    with NWBZarrIO(raw) as a, NWBZarrIO(decoded) as b:
        assert a.read() == b.read()
    assert np.array_equal(_zarr(raw, V2_MOVIE)[:], _zarr(decoded, V2_MOVIE)[:])
    hdmf_zarr = pytest.importorskip("hdmf_zarr")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with hdmf_zarr.NWBZarrIO(str(raw), "r") as io:
            assert np.array_equal(io.read().acquisition["TwoPhotonSeries1"].data[:], _zarr(decoded, V2_MOVIE)[:])


def _damaged_v2(tmp_path: Path, damage: Any) -> Path:
    src = Path(shutil.copytree(V2_STORE, tmp_path / "v2.nwb.zarr"))
    chunk = src / V2_MOVIE / "0.0.0"
    chunk.write_bytes(damage(chunk.read_bytes()))
    return src


def test_a_damaged_v2_chunk_is_an_error_on_both_paths(tmp_path: Path) -> None:
    src = _damaged_v2(tmp_path, lambda data: data[: len(data) // 2])  # cut short: Blosc's sizes disagree
    with pytest.raises(NWBZarrError, match=r"0\.0\.0"):
        _convert(src, tmp_path / "raw.nwb.zarr", layout="keep", allow_pickle=True)
    with raw_copies(enabled=False), pytest.raises(NWBZarrError, match=r"0\.0\.0"):
        _convert(src, tmp_path / "decoded.nwb.zarr", layout="keep", allow_pickle=True)


def test_damage_no_checksum_covers_reads_as_on_the_decode_path(tmp_path: Path) -> None:
    """Blosc-LZ4 frames carry no checksum: bytes changed inside one decode (to other numbers) on both paths
    alike. The raw copy is never worse than decoding: from then on the copy's CRC-32C guards them."""
    src = _damaged_v2(tmp_path, lambda data: data[:40] + bytes(20) + data[60:])
    raw, decoded = tmp_path / "raw.nwb.zarr", tmp_path / "decoded.nwb.zarr"
    _convert(src, raw, layout="keep", allow_pickle=True)
    with raw_copies(enabled=False):
        _convert(src, decoded, layout="keep", allow_pickle=True)
    assert np.array_equal(_zarr(raw, V2_MOVIE)[:], _zarr(decoded, V2_MOVIE)[:])


# --- object storage


@pytest.fixture(scope="module")
def s3() -> Any:
    from nwbzarr.testing.s3server import S3TestServer

    with S3TestServer() as server:
        server.create_bucket("lab")
        yield server


def test_raw_copies_to_and_from_object_storage(tmp_path: Path, s3: Any) -> None:
    from nwbzarr.backends.open import open_backend

    src = _plain_hdf5(tmp_path / "plain.h5", compression="gzip")
    options = s3.storage_options()
    first, second = "s3://lab/raw-copy-1.nwb.zarr", "s3://lab/raw-copy-2.nwb.zarr"
    records, _ = _convert(src, first, raw=True, layout="keep", dst_storage_options=options)
    assert records["/movie"].how == "hdf5 deflate -> gzip"
    records, _ = _convert(first, second, raw=True, layout="keep", storage_options=options, dst_storage_options=options)
    assert records["/movie"].how == "zarr objects" and records["/movie"].checked == 0  # its manifest proves the bytes
    backend = open_backend(second, mode="r", storage_options=options)
    try:
        movie = backend.read_tree().get("movie")
        assert movie is not None and np.array_equal(movie.data[:], MOVIE)  # type: ignore[union-attr]
    finally:
        backend.close()
