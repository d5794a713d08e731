"""A real S3-compatible server (moto) on 127.0.0.1 for the whole session, and a counting proxy."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nwbzarr.testing.http_proxy import CountingProxy
from nwbzarr.testing.s3server import S3TestServer

_names = itertools.count()

#: every test that talks to the S3 server runs over both transports (obstore: the default when installed)
TRANSPORTS = ("obstore", "fsspec")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "s3_server" in metafunc.fixturenames:
        metafunc.parametrize("s3_transport", TRANSPORTS, indirect=True)


@pytest.fixture(autouse=True)
def s3_transport(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str | None]:
    """The transport of ``s3://`` URLs in this test (``NWBZARR_TRANSPORT``); None for tests without S3.

    The bucket is emptied afterwards: tests name fixed URLs, and each runs once per transport."""
    transport: str | None = getattr(request, "param", None)
    if transport == "obstore":
        pytest.importorskip("obstore")
    if transport is None:
        yield None
        return
    monkeypatch.setenv("NWBZARR_TRANSPORT", transport)
    yield transport
    server: S3TestServer = request.getfixturevalue("s3_server")
    bucket = server.resource().Bucket("lab")
    bucket.objects.all().delete()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3TestServer]:
    with S3TestServer() as server:
        server.create_bucket("lab")
        yield server


@pytest.fixture
def s3_url(s3_server: S3TestServer) -> str:
    return f"s3://lab/session-{next(_names)}.nwb.zarr"


@pytest.fixture
def counting_proxy(s3_server: S3TestServer) -> Iterator[CountingProxy]:
    with CountingProxy(s3_server.host, s3_server.port) as proxy:
        yield proxy


@pytest.fixture(params=["memory", "local", "s3"])
def store_target(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, dict[str, Any] | None]:
    """One store location per backend kind: (URL or path, storage_options)."""
    if request.param == "memory":
        return f"memory://nwbzarr-{next(_names)}/session.nwb.zarr", None
    if request.param == "local":
        return str(tmp_path / "session.nwb.zarr"), None
    server: S3TestServer = request.getfixturevalue("s3_server")
    return f"s3://lab/suite-{next(_names)}.nwb.zarr", server.storage_options()
