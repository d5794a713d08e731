"""A cold open's first round trip: head and tail of the object in two ranged GETs sent together, the
object's identity read from their answers, equal to what a HEAD says (else a warm open would drop the
disk cache the cold open left)."""

from __future__ import annotations

from pathlib import Path

import pytest

from nwbzarr.backends.hdf5.remote_file import RemoteFile
from nwbzarr.backends.hdf5.remote_source import RemoteSource
from nwbzarr.testing.http_proxy import CountingProxy
from nwbzarr.testing.range_server import RangeServer
from nwbzarr.testing.remote_hdf5 import upload_to_s3
from nwbzarr.testing.s3server import S3TestServer


@pytest.fixture(scope="module")
def blob(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("probe") / "blob.nwb"
    path.write_bytes(bytes(range(256)) * 12_000)  # 3,072,000 bytes: 2.9 blocks of 1 MiB
    return path


def _check(url: str, options: dict[str, object], proxy: CountingProxy, data: bytes) -> None:
    probed = RemoteSource(url, options)
    found = probed.probe(1 << 20, 1 << 20)
    assert found is not None
    head, tail = found
    assert head == data[: 1 << 20] and tail == data[-(1 << 20) :]
    assert proxy.requests.get("HEAD", 0) == 0 and proxy.total == 2, proxy.paths
    assert probed.identity() == RemoteSource(url, options).identity()  # the second one asks with a HEAD
    assert probed.identity().size == len(data) and probed.identity().etag
    raw = RemoteFile(probed)
    raw.preload(0, head)
    raw.preload(raw.size - len(tail), tail)
    proxy.reset()
    assert raw.peek(0, 100) == data[:100]
    assert raw.peek(2 * (1 << 20) + 5, 1000) == data[2 * (1 << 20) + 5 : 2 * (1 << 20) + 1005]  # the last block
    assert raw.peek((1 << 20) + 5, 10) is None  # block 1 was covered only in part by the tail: not kept
    assert raw.pread(len(data) - 10, 10) == data[-10:]
    assert proxy.total == 0, proxy.paths


TRANSPORTS = pytest.mark.parametrize("transport", ["obstore", "fsspec"])


@TRANSPORTS
def test_probe_over_http(blob: Path, transport: str) -> None:
    with RangeServer(blob.parent) as server, CountingProxy(server.host, server.port) as proxy:
        _check(f"{proxy.url}/blob.nwb", {"transport": transport}, proxy, blob.read_bytes())


@TRANSPORTS
def test_probe_on_s3(blob: Path, transport: str) -> None:
    with S3TestServer() as server:
        server.create_bucket("probe")
        upload_to_s3(server.storage_options(), blob, "s3://probe/blob.nwb")
        with CountingProxy(server.host, server.port) as proxy:
            options = {**server.storage_options(proxy.url), "transport": transport}
            _check("s3://probe/blob.nwb", options, proxy, blob.read_bytes())
            assert RemoteSource("s3://probe/blob.nwb", options).transport == transport


def test_other_filesystems_are_not_probed(blob: Path) -> None:
    assert RemoteSource(f"memory://{blob.name}").probe(10, 10) is None
