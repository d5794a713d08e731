"""Where the stores of one storage kind go, for tests that run on local disk and on the S3 test server."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_names = itertools.count()


@dataclass
class Place:
    kind: str
    options: dict[str, Any] | None
    make_target: Callable[[], str]


def local_place(folder: Any, prefix: str) -> Place:
    return Place("local", None, lambda: str(folder / f"{prefix}-{next(_names)}.nwb.zarr"))


def s3_place(options: dict[str, Any], prefix: str) -> Place:
    return Place("s3", options, lambda: f"s3://lab/{prefix}-{next(_names)}.nwb.zarr")
