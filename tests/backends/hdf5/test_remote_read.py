"""NWB HDF5 files read where they lie, on S3 and over plain HTTP: every value equals a local h5py read,
and the requests a read makes are counted on the wire."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

from nwbzarr import NWBHDF5IO, read_nwb
from nwbzarr.backends.hdf5.backend import HDF5Backend
from nwbzarr.backends.hdf5.remote_reader import RemoteH5Array
from nwbzarr.backends.open import detect_format
from nwbzarr.errors import ReadOnlyError
from nwbzarr.testing.http_proxy import CountingProxy
from nwbzarr.testing.range_server import RangeServer
from nwbzarr.testing.remote_hdf5 import LAYOUTS, movie, upload_to_s3, write_layouts_file
from nwbzarr.testing.s3server import S3TestServer
from nwbzarr.tree.nodes import Dataset, Group, walk

Where = tuple[str, dict[str, Any], CountingProxy]


@pytest.fixture(scope="module")
def local_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_layouts_file(tmp_path_factory.mktemp("served") / "session.nwb")


@pytest.fixture(scope="module")
def s3(local_file: Path) -> Iterator[S3TestServer]:
    with S3TestServer() as server:
        server.create_bucket("archive")
        upload_to_s3(server.storage_options(), local_file, "s3://archive/session.nwb")
        upload_to_s3(server.storage_options(), local_file, "s3://archive/no-suffix")
        yield server


@pytest.fixture(scope="module")
def http(local_file: Path) -> Iterator[RangeServer]:
    with RangeServer(local_file.parent) as server:
        yield server


@pytest.fixture(params=["s3-obstore", "s3-fsspec", "http-obstore", "http-fsspec"])
def remote(request: pytest.FixtureRequest) -> Iterator[Where]:
    """(URL, storage_options, the counting proxy every request goes through) on each kind of server, over
    each transport (obstore: the default for s3:// and https:// when installed)."""
    kind, transport = request.param.split("-")
    if kind == "s3":
        server: S3TestServer = request.getfixturevalue("s3")
        with CountingProxy(server.host, server.port) as proxy:
            yield "s3://archive/session.nwb", {**server.storage_options(proxy.url), "transport": transport}, proxy
    else:
        files: RangeServer = request.getfixturevalue("http")
        with CountingProxy(files.host, files.port) as proxy:
            yield f"{proxy.url}/session.nwb", {"transport": transport}, proxy


def _local_values(file: h5py.File, path: str) -> Any:
    dataset = file[path]
    if h5py.check_string_dtype(dataset.dtype) is not None:
        return dataset.asstr()[()]
    return dataset[()]


def _compare(ours: Group, theirs: Group) -> int:
    """Every node of the remote tree equals the local tree's (both through our reader), datasets read whole."""
    mine, local = dict(walk(ours)), dict(walk(theirs))
    assert mine.keys() == local.keys()
    compared = 0
    for path, node in mine.items():
        other = local[path]
        assert type(node) is type(other), path
        if isinstance(node, Group | Dataset):
            assert isinstance(other, Group | Dataset)
            assert node.attrs.keys() == other.attrs.keys(), path
            for key, value in node.attrs.items():
                assert np.array_equal(np.asarray(value), np.asarray(other.attrs[key])), f"{path}@{key}"
        if isinstance(node, Dataset):
            assert isinstance(other, Dataset)
            assert node.dtype == other.dtype and node.shape == other.shape, path
            a, b = np.asarray(node.data[()]), np.asarray(other.data[()])
            if a.dtype.names:
                for name in a.dtype.names:
                    assert list(a[name].ravel()) == list(b[name].ravel()), f"{path}.{name}"
            else:
                assert a.shape == b.shape and (a == b).all(), path
            compared += 1
    return compared


def test_every_value_equals_a_local_read(remote: Where, local_file: Path) -> None:
    url, options, _proxy = remote
    with NWBHDF5IO(url, "r", storage_options=options) as io, NWBHDF5IO(local_file, "r") as local:
        compared = _compare(io.read_tree(), local.read_tree())
    assert compared > 60  # masks (compound), references, text, timestamps, six movies


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_slices_of_each_layout_equal_h5py(remote: Where, local_file: Path, layout: str) -> None:
    url, options, proxy = remote
    backend = HDF5Backend(url, "r", storage_options=options)
    try:
        node = backend.read_tree().members["acquisition"]
        assert isinstance(node, Group)
        data = node.members[layout].members["data"]  # type: ignore[union-attr]
        assert isinstance(data, Dataset) and isinstance(data.data, RemoteH5Array)
        frames = movie()
        with h5py.File(local_file, "r") as f:
            assert np.array_equal(f[f"acquisition/{layout}/data"][()], frames)
        rng = np.random.default_rng(3)
        keys: list[Any] = [7, (slice(None), 100, 5), (slice(3, 31), slice(20, 60), slice(90, 128)), np.s_[-1, :, ::1]]
        for _ in range(10):
            key = []
            for n in frames.shape:
                a, b = sorted(int(v) for v in rng.integers(0, n, 2))
                key.append(slice(a, b + 1))
            keys.append(tuple(key))
        for key in keys:
            assert np.array_equal(data.data[key], frames[key]), key
        data.data[0]  # the index is read; a frame now costs exactly one request
        proxy.reset()
        assert np.array_equal(data.data[11], frames[11])
        assert proxy.total == 1, proxy.paths
    finally:
        backend.close()


@pytest.mark.parametrize("transport", ["obstore", "fsspec"])
def test_requests_to_open_and_read(s3: S3TestServer, transport: str) -> None:
    """Cold open: head and tail blocks in one round trip, then a block per movie; a time course: one merged
    request per chunk run; warm open: 1 request."""
    with CountingProxy(s3.host, s3.port) as proxy:
        options = {**s3.storage_options(proxy.url), "transport": transport}
        nwbfile = read_nwb("s3://archive/session.nwb", storage_options=options)
        cold = proxy.total
        # head and tail together (no HEAD: their answers say the ETag), then a block for each movie's object
        # header, which PyNWB puts next to the movie's data (six here; a file of one movie: 3 in all)
        assert cold <= 7, proxy.paths
        assert proxy.requests.get("HEAD", 0) == 0, proxy.paths
        data = nwbfile.acquisition["gzip"].data
        proxy.reset()
        course = data[:, 40:72, 40:72]
        assert np.array_equal(course, movie()[:, 40:72, 40:72])
        assert proxy.total <= 4, proxy.paths  # index (a block or two), then 40 frame chunks merged into 1-2 ranges
        proxy.reset()
        warm = read_nwb("s3://archive/session.nwb", storage_options=options)
        assert proxy.total == 1, proxy.paths  # the HEAD that checks the object has not changed
        assert np.array_equal(warm.acquisition["gzip"].data[5], movie()[5])
        assert proxy.total == 2, proxy.paths  # the index came from the disk cache: the frame is one GET
    print(f"\n  cold open {cold} requests, warm open 1, frame after a warm open 1")


def test_the_disk_cache_serves_either_transport(s3: S3TestServer) -> None:
    """Both transports spell an object's identity alike: a cache left by one serves a warm open by the other."""
    with CountingProxy(s3.host, s3.port) as proxy:
        options = s3.storage_options(proxy.url)
        cold = read_nwb("s3://archive/session.nwb", storage_options={**options, "transport": "obstore"})
        assert np.array_equal(cold.acquisition["tiles"].data[:, :40], movie()[:, :40])
        proxy.reset()
        warm = read_nwb("s3://archive/session.nwb", storage_options={**options, "transport": "fsspec"})
        assert proxy.requests.get("HEAD", 0) == 1 and proxy.total == 1, proxy.paths  # the identity matched
        assert np.array_equal(warm.acquisition["tiles"].data[:, :40], movie()[:, :40])


def test_the_default_transport_is_obstore_for_s3_and_https() -> None:
    from nwbzarr.backends.hdf5.remote_transport import choose_transport

    keys = {"key": "k", "secret": "s"}
    assert choose_transport("s3://lab/x.nwb", keys) == "obstore"
    assert choose_transport("https://host/x.nwb", {}) == "obstore"
    assert choose_transport("http://host/x.nwb", {}) == "fsspec"
    assert choose_transport("gcs://lab/x.nwb", {}) == "fsspec"
    assert choose_transport("https://host/x.nwb?X-Amz-Signature=1", {}) == "fsspec"  # presigned: kept as typed
    assert choose_transport("http://host/x.nwb", {"transport": "obstore"}) == "obstore"


def test_a_url_without_suffix_is_sniffed_in_one_read(s3: S3TestServer) -> None:
    with CountingProxy(s3.host, s3.port) as proxy:
        options = s3.storage_options(proxy.url)
        assert detect_format("s3://archive/no-suffix", sniff=True, storage_options=options) == "hdf5"
        assert proxy.requests["GET"] == 1
        assert detect_format("s3://archive/no-suffix") == "zarr"  # without sniffing: a name says nothing
        nwbfile = read_nwb("s3://archive/no-suffix", storage_options=options)
        assert np.array_equal(nwbfile.acquisition["tiles"].data[3], movie()[3])


def test_writing_a_remote_hdf5_file_is_refused(s3: S3TestServer) -> None:
    for mode in ("w", "a", "w-"):
        with pytest.raises(ReadOnlyError, match="convert to Zarr"):
            NWBHDF5IO("s3://archive/session.nwb", mode, storage_options=s3.storage_options())


def test_dask_chunks_follow_the_files_chunks(remote: Where) -> None:
    url, options, _proxy = remote
    nwbfile = read_nwb(url, storage_options=options)
    frames = movie()
    for layout, step in (("gzip", 1), ("shuffle_gzip", 4), ("tiles", 10), ("contiguous", 1)):
        data = nwbfile.acquisition[layout].data
        lazy = data.to_dask()
        boundaries = list(itertools.accumulate(lazy.chunks[0]))
        assert all(b % step == 0 for b in boundaries[:-1]), (layout, lazy.chunks)
        assert float(lazy.mean().compute()) == pytest.approx(float(frames.mean()))
        assert np.array_equal(lazy[5:9, :50].compute(), frames[5:9, :50])


def test_info_and_validate_take_the_url(http: RangeServer, capsys: pytest.CaptureFixture[str]) -> None:
    from nwbzarr.cli import main
    from nwbzarr.operations.validate import validate

    url = f"{http.url}/session.nwb"
    assert main(["info", url]) == 0
    assert "TwoPhotonSeries" in capsys.readouterr().out
    local = validate(url.replace(http.url, str(http.root)))
    assert [str(p) for p in validate(url)] == [str(p) for p in local]
