"""Bad remote input: not NWB, truncated, damaged chunks, failing servers, missing credentials; and the filter
nwbzarr does not decode (read through h5py, said once)."""

from __future__ import annotations

import shutil
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import h5py
import numpy as np
import pytest

from nwbzarr import read_nwb
from nwbzarr.backends.hdf5.backend import HDF5Backend
from nwbzarr.backends.hdf5.remote_reader import RemoteH5Array
from nwbzarr.errors import InvalidStoreError, NWBZarrError, StorageError, StoreNotFoundError
from nwbzarr.testing.faults import FaultyProxy
from nwbzarr.testing.range_server import RangeServer
from nwbzarr.testing.remote_hdf5 import movie, upload_to_s3, write_layouts_file
from nwbzarr.testing.s3server import S3TestServer
from nwbzarr.tree.nodes import Dataset


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with a good file, a damaged one, a truncated one, a text file and an HDF5 file that is not NWB."""
    root = tmp_path_factory.mktemp("served")
    good = write_layouts_file(root / "good.nwb")
    damaged = root / "damaged.nwb"
    shutil.copy(good, damaged)
    with h5py.File(good, "r") as f:
        spots = {name: f[f"acquisition/{name}/data"].id.get_chunk_info(3) for name in ("gzip", "fletcher32")}
    with damaged.open("r+b") as out:
        for info in spots.values():
            out.seek(info.byte_offset + info.size // 2)
            out.write(b"\xde\xad\xbe\xef" * 8)
    data = good.read_bytes()
    (root / "truncated.nwb").write_bytes(data[: len(data) * 3 // 5])
    (root / "notes.nwb").write_text("these are not the data you are looking for\n" * 100)
    with h5py.File(root / "plain.h5", "w") as f:
        f.create_dataset("lzf", data=movie(), chunks=(2, 128, 128), compression="lzf")
    return root


@pytest.fixture(scope="module")
def http(served: Path) -> Iterator[RangeServer]:
    with RangeServer(served) as server:
        yield server


def http_root(server: RangeServer) -> Path:
    return server.root


TRANSPORTS = pytest.mark.parametrize("transport", ["obstore", "fsspec"])


@TRANSPORTS
def test_a_damaged_chunk_raises_naming_the_dataset(http: RangeServer, transport: str) -> None:
    nwbfile = read_nwb(f"{http.url}/damaged.nwb", storage_options={"transport": transport})
    frames = movie()
    with h5py.File(http_root(http) / "good.nwb", "r") as f:
        damaged = {
            name: f[f"acquisition/{name}/data"].id.get_chunk_info(3).chunk_offset for name in ("gzip", "fletcher32")
        }
    for name, corner in damaged.items():
        data = nwbfile.acquisition[name].data
        frame = corner[0]
        assert np.array_equal(data[frame + 5], frames[frame + 5])  # other chunks read fine
        with pytest.raises(InvalidStoreError, match=f"/acquisition/{name}/data"):
            data[:]
        with pytest.raises(InvalidStoreError, match=f"/acquisition/{name}/data"):
            data[frame]


@TRANSPORTS
def test_not_nwb_and_truncated_objects(http: RangeServer, transport: str) -> None:
    options = {"transport": transport}
    with pytest.raises(InvalidStoreError, match="not an HDF5 file"):
        read_nwb(f"{http.url}/notes.nwb", storage_options=options)
    with pytest.raises(InvalidStoreError, match="not an NWB file"):
        read_nwb(f"{http.url}/plain.h5", storage_options=options)
    with pytest.raises(StoreNotFoundError):
        read_nwb(f"{http.url}/missing.nwb", storage_options=options)
    with pytest.raises(NWBZarrError):  # an error at open or at the first read, never wrong numbers
        nwbfile = read_nwb(f"{http.url}/truncated.nwb", storage_options=options)
        for name in nwbfile.acquisition:
            np.asarray(nwbfile.acquisition[name].data[:])


@TRANSPORTS
def test_transient_http_failures_are_retried(http: RangeServer, transport: str) -> None:
    proxy = FaultyProxy(http.host, http.port, rate=0.25, kinds=("500", "503", "reset"), seed=3)
    with proxy:
        nwbfile = read_nwb(f"{proxy.url}/good.nwb", storage_options={"transport": transport})
        for name in ("gzip", "tiles", "contiguous"):
            assert np.array_equal(nwbfile.acquisition[name].data[:, :64], movie()[:, :64])
    assert sum(proxy.faults.values()) >= 3, proxy.faults


@TRANSPORTS
def test_a_server_that_keeps_failing_is_a_storage_error_soon(http: RangeServer, transport: str) -> None:
    with FaultyProxy(http.host, http.port, rate=1.0, kinds=("503",)) as proxy:
        started = time.monotonic()
        with pytest.raises(StorageError, match=r"good\.nwb") as caught:
            read_nwb(f"{proxy.url}/good.nwb", storage_options={"transport": transport})
        assert "\n" not in str(caught.value)  # one line (obstore's debug dump is not passed on)
        assert time.monotonic() - started < 30  # retried a few times, then an answer: no hang


@TRANSPORTS
def test_transient_s3_failures_are_retried(served: Path, transport: str) -> None:
    with S3TestServer() as server:
        server.create_bucket("flaky")
        upload_to_s3(server.storage_options(), served / "good.nwb", "s3://flaky/good.nwb")
        proxy = FaultyProxy(server.host, server.port, rate=0.1, kinds=("500", "503"), seed=5)
        with proxy:
            options = {**server.storage_options(proxy.url), "transport": transport}
            nwbfile = read_nwb("s3://flaky/good.nwb", storage_options=options)
            assert np.array_equal(nwbfile.acquisition["shuffle_gzip"].data[2:30], movie()[2:30])
        assert sum(proxy.faults.values()) >= 1


@pytest.mark.parametrize("transport", [None, "obstore", "fsspec"])
def test_missing_credentials_give_a_one_line_hint(
    served: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, transport: str | None
) -> None:
    """By default a bucket without credentials is read over fsspec (botocore reads profiles and config files);
    obstore, asked for, looks for an instance role: its metadata service is pointed at a closed loopback port."""
    with S3TestServer() as server:
        server.create_bucket("private")
        upload_to_s3(server.storage_options(), served / "good.nwb", "s3://private/good.nwb")
        for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
            monkeypatch.delenv(key, raising=False)
        monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
        monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
        monkeypatch.setenv("AWS_METADATA_ENDPOINT", "http://127.0.0.1:9")
        options = {"endpoint_url": server.endpoint_url, **({"transport": transport} if transport else {})}
        with pytest.raises(StorageError) as caught:
            read_nwb("s3://private/good.nwb", storage_options=options)
    message = str(caught.value)
    assert "storage_options={'anon': True}" in message and "\n" not in message


def test_an_undecodable_filter_is_read_by_h5py_and_said_once(http: RangeServer) -> None:
    backend = HDF5Backend(f"{http.url}/plain.h5", "r")
    try:
        node = backend.read_tree().members["lzf"]
        assert isinstance(node, Dataset) and isinstance(node.data, RemoteH5Array)
        with pytest.warns(UserWarning, match="'lzf' is not decoded by nwbzarr") as caught:
            assert np.array_equal(node.data[:6], movie()[:6])
        assert len(caught) == 1
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # said once: the next read is silent
            assert np.array_equal(node.data[7:9, 3], movie()[7:9, 3])
    finally:
        backend.close()
