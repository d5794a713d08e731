"""One writer at a time: a lock object (``nwbzarr.lock``) that a writer creates exclusively.

A second writer is **refused** (``StoreLockedError``) rather than interleaved. Readers never wait: they
see the last complete state through the consolidated metadata. The lock is created with the store's
exclusive create (``O_EXCL`` on local disk; on object storage, where the create is check-then-put,
two writers starting in the same instant are not excluded), and removed when the write ends. A
writer that was killed leaves it behind: a later writer on the same machine sees that its process is
gone and takes over; elsewhere, the error says how to remove it.
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from zarr.abc.store import Store
from zarr.core.buffer import default_buffer_prototype
from zarr.core.sync import sync

from nwbzarr.errors import StoreLockedError

__all__ = ["LOCK_KEY", "write_lock"]

LOCK_KEY = "nwbzarr.lock"


def _acquire(store: Store, token: dict[str, object]) -> dict[str, object]:
    """Create the lock if absent; return whoever holds it now."""
    prototype = default_buffer_prototype()
    sync(store.set_if_not_exists(LOCK_KEY, prototype.buffer.from_bytes(json.dumps(token).encode())))
    held = sync(store.get(LOCK_KEY, prototype=prototype))
    try:
        owner = json.loads(held.to_bytes()) if held is not None else {}
    except ValueError:
        return {}
    return owner if isinstance(owner, dict) else {}


def _is_stale(owner: dict[str, object]) -> bool:
    """A lock from a process of this machine that no longer exists."""
    pid = owner.get("pid")
    if owner.get("host") != socket.gethostname() or not isinstance(pid, int):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


@contextmanager
def write_lock(store: Store, where: str) -> Iterator[None]:
    """Hold the store's write lock for the duration of the block, or raise StoreLockedError."""
    token = {
        "id": uuid.uuid4().hex,
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "since": datetime.now(UTC).isoformat(),
    }
    owner = _acquire(store, token)
    if owner.get("id") != token["id"] and _is_stale(owner):  # its writer died on this machine: take over
        sync(store.delete(LOCK_KEY))
        owner = _acquire(store, token)
    if owner.get("id") != token["id"]:
        raise StoreLockedError(
            f"{where} is being written by process {owner.get('pid', '?')} on {owner.get('host', '?')} since "
            f"{owner.get('since', '?')}; writes are refused while another is in progress. If that writer is gone "
            f"(killed), delete {LOCK_KEY} in the store and write again"
        )
    try:
        yield
    finally:
        sync(store.delete(LOCK_KEY))
