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
