"""A real S3-compatible server on loopback for tests and benchmarks: moto's standalone server.

Nothing leaves the machine: the server binds 127.0.0.1 on a free port, and the environment gets
dummy credentials and no instance-metadata lookups, so botocore and s3fs never reach out to AWS.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

from nwbzarr.core.optional import require
from nwbzarr.testing.atomic_moto import make_conditional_writes_atomic

__all__ = ["S3TestServer", "loopback_environment"]

_ENV = {
    "AWS_ACCESS_KEY_ID": "nwbzarr-test",
    "AWS_SECRET_ACCESS_KEY": "nwbzarr-test",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "NO_PROXY": "127.0.0.1,localhost",
}


def loopback_environment() -> None:
    """Dummy credentials, no HTTP proxies and no instance-metadata lookups for botocore in this process."""
    for key, value in _ENV.items():
        os.environ.setdefault(key, value)
    for key in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        os.environ.pop(key, None)


@dataclass
class S3TestServer:
    """``with S3TestServer() as s3: s3.create_bucket("lab"); opts = s3.storage_options()``."""

    host: str = "127.0.0.1"
    port: int = 0
    _server: Any = None

    def start(self) -> S3TestServer:
        moto_server = require("moto.server", "the S3 test server (pip install 'moto[server]')")
        loopback_environment()
        make_conditional_writes_atomic()  # as on S3: a conditional put is checked and written in one step
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request on the console
        self._server = moto_server.ThreadedMotoServer(ip_address=self.host, port=self.port, verbose=False)
        self._server.start()
        self.host, self.port = self._server.get_host_and_port()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> S3TestServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def storage_options(self, endpoint_url: str | None = None) -> dict[str, Any]:
        """s3fs options for this server (or for a proxy in front of it)."""
        return {
            "endpoint_url": endpoint_url or self.endpoint_url,
            "key": _ENV["AWS_ACCESS_KEY_ID"],
            "secret": _ENV["AWS_SECRET_ACCESS_KEY"],
        }

    def _boto3_args(self) -> dict[str, Any]:
        return {
            "endpoint_url": self.endpoint_url,
            "region_name": _ENV["AWS_DEFAULT_REGION"],
            "aws_access_key_id": _ENV["AWS_ACCESS_KEY_ID"],
            "aws_secret_access_key": _ENV["AWS_SECRET_ACCESS_KEY"],
        }

    def create_bucket(self, name: str) -> str:
        boto3 = require("boto3", "the S3 test server")
        boto3.client("s3", **self._boto3_args()).create_bucket(Bucket=name)
        return name

    def resource(self) -> Any:
        """A boto3 S3 resource on this server (to list or empty a bucket in a test)."""
        boto3 = require("boto3", "the S3 test server")
        return boto3.resource("s3", **self._boto3_args())
