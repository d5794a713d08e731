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


def stored_objects(target: str, options: dict[str, Any] | None) -> dict[str, bytes]:
    """Every object of the store at ``target`` and its bytes, the lock aside (the next writer takes a
    killed one's over), once two listings a moment apart agree: the last requests of a writer killed
    mid-upload may still be completing on the server after its process is gone."""
    import time

    from zarr.core.buffer import default_buffer_prototype
    from zarr.core.sync import sync

    from nwbzarr.storage import make_store

    store = make_store(target, read_only=True, storage_options=options)

    async def everything() -> dict[str, bytes]:
        found = {}
        async for key in store.list():
            if not key.startswith("nwbzarr.lock"):
                value = await store.get(key, prototype=default_buffer_prototype())
                found[key] = value.to_bytes() if value is not None else b""
        return found

    seen = sync(everything())
    for _ in range(20):
        time.sleep(0.25)
        again = sync(everything())
        if again == seen:
            break
        seen = again
    return seen


def exit_after_work() -> None:
    """End a writer subprocess whose work is done (committed, printed) without the interpreter's shutdown.

    obstore runs its requests on a Tokio runtime that is never told the interpreter is finalizing; a
    worker thread still busy then (an idle connection closing) panics on a background thread and the
    process aborts (SIGABRT, nothing on stderr) after it finished. Two CI runs saw it, after the last
    line had been printed. The same class of bug and its fix (a runtime shut down at exit):
    lancedb/lancedb#4175. The tests judge the writer by its work, so it leaves with ``os._exit``.
    """
    import os
    import sys

    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
