"""One writer at a time: a lock object (``nwbzarr.lock``) that a writer creates exclusively.

A second writer is **refused** (``StoreLockedError``) rather than interleaved. Readers never wait: they
see the last complete state through the consolidated metadata. Everything here is built on two
primitives, so that a store with conditional writes (S3's ``If-None-Match``/``If-Match``, issue 18) can
make them atomic without changing the protocol:

- :func:`create_exclusive` creates an object only if it is absent. On local disk the record is written
  to a temporary file and hard-linked into place (atomic, and never seen half written); on S3 it is one
  PutObject with ``If-None-Match: *`` (:mod:`nwbzarr.storage.conditional`), so of two writers starting
  in the same instant exactly one gets the lock. A server that ignores the header is detected once, with
  a warning, and gets the old check-then-put with a read-back.
- :func:`delete_if_same` removes an object only if it still holds exactly the bytes the caller saw. On
  local disk the object is first renamed to a name of the caller's own (only one of two racers gets
  it), then compared, and put back if it was someone else's; on S3 it is a DeleteObject with
  ``If-Match`` on the ETag read with the bytes.

The lock carries a **lease** (``lease`` seconds, ``expires`` as a Unix time): while the writer works, a
background thread renews it (a compare-and-swap of the lock on S3, a touch of the file on local disk).
A lock whose lease ran out (plus a margin for clock skew) is stale wherever its writer ran. If a renewal
finds the lock is no longer this writer's, the writer is marked as having lost it and cannot commit.

A writer removes the lock with :func:`delete_if_same`, so it never removes another writer's lock. A
writer that was killed leaves its lock behind: a later writer on the same machine sees that its
process is gone and takes over, and the takeover itself is exclusive: the taker first creates
``nwbzarr.lock.takeover`` (:func:`create_exclusive`), then checks that the lock still holds the very
record it judged stale, replaces it, and removes its claim. Two takers never both win; a lock that
changed meanwhile is not touched. ``nwbzarr unlock URL`` removes a lock by hand.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from zarr.abc.store import Store
from zarr.core.buffer import default_buffer_prototype
from zarr.core.sync import sync
from zarr.storage import LocalStore

from nwbzarr.errors import InvalidStoreError, LockLostError, StoreLockedError
from nwbzarr.storage import conditional
from nwbzarr.storage.jsonlimits import parse_json

__all__ = [
    "LEASE",
    "LOCK_KEY",
    "LOCK_PREFIX",
    "TAKEOVER_KEY",
    "Held",
    "Lease",
    "LockHooks",
    "acquire",
    "create_exclusive",
    "delete_if_same",
    "force_unlock",
    "hooks",
    "holder",
    "release",
    "renew",
    "write_lock",
]

LOCK_KEY = "nwbzarr.lock"
#: the claim of a writer replacing a stale lock (one taker at a time)
TAKEOVER_KEY = "nwbzarr.lock.takeover"
#: every object of the locking protocol (lock, claim, temporary records) starts with this
LOCK_PREFIX = "nwbzarr.lock"


@dataclass
class Lease:
    """How long a lock holds without renewal, how often the writer renews it, and the clock-skew margin."""

    seconds: float = 120.0
    renew_every: float = 30.0
    skew: float = 30.0


#: the lease of new locks (tests shorten it)
LEASE = Lease()


@dataclass
class LockHooks:
    """Points where a test can pause a real writer (a no-op otherwise): the races are then reproducible."""

    before_takeover: Callable[[], None] = lambda: None  # after a stale lock was read, before it is replaced
    after_acquire: Callable[[], None] = lambda: None  # the lock is held, nothing written yet


hooks = LockHooks()


@dataclass
class Held:
    """A lock this writer created: the exact bytes it stored (and their version), to remove it only if
    they are still there; ``lost`` is set once a renewal found the lock is someone else's."""

    key: str
    data: bytes
    version: str | None = None
    lost: threading.Event = field(default_factory=threading.Event)
    guard: threading.Lock = field(default_factory=threading.Lock)

    def check(self, where: str) -> None:
        """Raise LockLostError if this writer no longer holds the lock (it must not commit)."""
        if self.lost.is_set():
            raise LockLostError(
                f"{where}: this writer lost its write lock {self.key} (its lease expired and another writer "
                "took it over, or it was removed with `nwbzarr unlock`); nothing is committed"
            )


def _local_path(store: Store, key: str) -> Path | None:
    return Path(store.root) / key if isinstance(store, LocalStore) else None


def _is_regular(path: Path) -> bool:
    """A plain file (not a FIFO that would block a read, nor a link pointing out of the store)."""
    try:
        return stat.S_ISREG(path.lstat().st_mode)
    except FileNotFoundError:
        return False


def _read(store: Store, key: str) -> bytes | None:
    buffer = sync(store.get(key, prototype=default_buffer_prototype()))
    return None if buffer is None else buffer.to_bytes()


def create_exclusive(store: Store, key: str, data: bytes) -> bool:
    """Create ``key`` holding ``data`` unless it exists; whether this call created it."""
    return _create(store, key, data) is not None


def _create(store: Store, key: str, data: bytes) -> str | None:
    """:func:`create_exclusive`, returning the new object's version (None if it existed)."""
    return conditional.create_only(store, key, data)  # hard link locally, one If-None-Match put on S3


def delete_if_same(store: Store, key: str, data: bytes) -> bool:
    """Remove ``key`` only if it holds exactly ``data``; whether this call removed it."""
    path = _local_path(store, key)
    if path is not None:
        aside = path.with_name(f"{path.name}.{uuid.uuid4().hex}.tmp")
        try:
            path.rename(aside)  # of two racers, one gets the object, the other FileNotFoundError
        except FileNotFoundError:
            return False
        if _is_regular(aside) and aside.read_bytes() == data:
            aside.unlink()
            return True
        with suppress(FileExistsError):  # someone else's record: put it back where it was
            os.link(aside, path)
        aside.unlink()
        return False
    current = conditional.read_versioned(store, key)
    if current is None or current.data != data:
        return False
    return conditional.delete_seen(store, key, current)  # If-Match on the ETag on S3, no second read


def _owner(data: bytes | None) -> dict[str, object]:
    try:  # bounded: a planted lock of gigabytes or deep nesting is just an unreadable lock
        owner = parse_json(data, what=LOCK_KEY, max_bytes=64 * 1024) if data else {}
    except InvalidStoreError:
        return {}
    return owner if isinstance(owner, dict) else {}


def _mtime(store: Store, key: str) -> float | None:
    path = _local_path(store, key)
    try:
        return path.stat().st_mtime if path is not None else None
    except OSError:
        return None


def _expired(owner: dict[str, object], touched: float | None) -> bool:
    """Whether the lease ran out (local locks are renewed by touching the file: ``touched`` is its mtime)."""
    lease, expires = owner.get("lease"), owner.get("expires")
    if not isinstance(lease, (int, float)) or not isinstance(expires, (int, float)) or isinstance(lease, bool):
        return False  # a lock without a lease (older nwbzarr) never expires by time
    if touched is not None:
        expires = max(expires, touched + lease)
    return time.time() > expires + LEASE.skew


def _is_stale(owner: dict[str, object], touched: float | None = None) -> bool:
    """A lock whose lease expired, or from a process of this machine that no longer exists."""
    if _expired(owner, touched):
        return True
    pid = owner.get("pid")
    if owner.get("host") != socket.gethostname() or not isinstance(pid, int) or not 0 < pid < 2**31:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _record(**extra: object) -> bytes:
    token = {
        "id": uuid.uuid4().hex,
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "since": datetime.now(UTC).isoformat(),
        "lease": LEASE.seconds,
        "expires": time.time() + LEASE.seconds,
        **extra,
    }
    return json.dumps(token).encode()


def _claim_takeover(store: Store, stale: bytes) -> bytes | None:
    """Create the takeover claim (replacing one whose taker died); its bytes, or None if another taker has it."""
    claim = _record(replaces=_owner(stale).get("id"))
    if create_exclusive(store, TAKEOVER_KEY, claim):
        return claim
    other = _read(store, TAKEOVER_KEY)
    if other is not None and _is_stale(_owner(other)) and delete_if_same(store, TAKEOVER_KEY, other):
        return claim if create_exclusive(store, TAKEOVER_KEY, claim) else None
    return None


def _take_over(store: Store, stale: bytes, mine: bytes) -> bool:
    """Replace the lock ``stale`` (left by a dead process) by ``mine``, exclusively; whether it worked."""
    hooks.before_takeover()
    claim = _claim_takeover(store, stale)
    if claim is None:
        return False
    try:
        current = _read(store, LOCK_KEY)
        if current is not None and (current != stale or not delete_if_same(store, LOCK_KEY, stale)):
            return False  # the lock changed since it was judged stale: it belongs to someone alive
        return create_exclusive(store, LOCK_KEY, mine)
    finally:
        delete_if_same(store, TAKEOVER_KEY, claim)


def acquire(store: Store, where: str) -> Held:
    """Create the store's write lock (taking over one whose process died), or raise StoreLockedError."""
    mine = _record()
    version = _create(store, LOCK_KEY, mine)
    if version is not None:
        return Held(LOCK_KEY, mine, version)
    held = _read(store, LOCK_KEY)
    if held is None and (version := _create(store, LOCK_KEY, mine)) is not None:  # released in between
        return Held(LOCK_KEY, mine, version)
    if held is not None and _is_stale(_owner(held), _mtime(store, LOCK_KEY)) and _take_over(store, held, mine):
        return _held(store, mine)
    raise StoreLockedError(
        f"{where} is being written by {holder(_read(store, LOCK_KEY) or held)}; writes are refused while another "
        f"is in progress. A lock left by a killed writer is taken over once its lease expires; to remove it now "
        f"(only if no writer is alive), run `nwbzarr unlock {where}`"
    )


def holder(data: bytes | None) -> str:
    """Who holds a lock, for messages: owner id, process, host, since when, lease expiry."""
    owner = _owner(data)
    expires = owner.get("expires")
    until = (
        datetime.fromtimestamp(expires, UTC).isoformat(timespec="seconds")
        if isinstance(expires, (int, float)) and not isinstance(expires, bool) and 0 < expires < 1e11
        else "?"
    )
    return (
        f"process {owner.get('pid', '?')} on {owner.get('host', '?')} (writer {owner.get('id', '?')}) since "
        f"{owner.get('since', '?')}, lease until {until}"
    )


def _held(store: Store, mine: bytes) -> Held:
    current = conditional.read_versioned(store, LOCK_KEY)
    return Held(LOCK_KEY, mine, current.version if current is not None and current.data == mine else None)


def renew(store: Store, held: Held) -> bool:
    """Extend the lease of a lock this writer holds; False (and ``held.lost`` set) if it is not ours any more."""
    with held.guard:
        if held.lost.is_set():
            return False
        path = _local_path(store, held.key)
        if path is not None:
            ours = _is_regular(path) and path.read_bytes() == held.data
            if ours:
                os.utime(path)  # the lease runs from the file's mtime: no rewrite, never absent
        else:
            owner = _owner(held.data)
            data = json.dumps({**owner, "expires": time.time() + float(str(owner.get("lease", LEASE.seconds)))})
            version = conditional.replace_if_version(store, held.key, data.encode(), held.version)
            ours = version is not None
            if ours:
                held.data, held.version = data.encode(), version
        if not ours:
            held.lost.set()
        return ours


def _renew_until(store: Store, held: Held, stop: threading.Event) -> None:
    while not stop.wait(LEASE.renew_every):
        try:
            if not renew(store, held):
                return
        except OSError:  # a dropped connection: try again at the next tick (the lease has margin)
            continue


def release(store: Store, held: Held) -> bool:
    """Remove the lock if it is still this writer's; whether it was.

    The version this writer got when it created or last renewed the lock is the condition: on S3 over
    s3fs one request (``If-Match``), over obstore a HEAD and a delete; the lock's bytes are not read.
    """
    with held.guard:
        if held.version is not None and _local_path(store, held.key) is None:
            return conditional.delete_if_version(store, held.key, held.version)
        return delete_if_same(store, held.key, held.data)


@contextmanager
def write_lock(store: Store, where: str) -> Iterator[Held]:
    """Hold the store's write lock for the duration of the block (renewing its lease), or raise StoreLockedError."""
    held = acquire(store, where)
    stop = threading.Event()
    renewer = threading.Thread(target=_renew_until, args=(store, held, stop), name="nwbzarr-lock-lease", daemon=True)
    renewer.start()
    try:
        hooks.after_acquire()
        yield held
    finally:
        stop.set()
        renewer.join()
        release(store, held)


def force_unlock(store: Store) -> bytes | None:
    """Remove the store's write lock whoever holds it (``nwbzarr unlock``); the record removed, or None.

    A writer still alive finds at its next lease renewal that the lock is gone, and then cannot commit.
    """
    for _ in range(20):  # a live writer renewing its lease changes the version between read and delete
        current = conditional.read_versioned(store, LOCK_KEY)
        if current is None:
            return None
        if conditional.delete_if_version(store, LOCK_KEY, current.version):
            return current.data
    raise StoreLockedError(f"{LOCK_KEY}: the lock changed 20 times while it was being removed; try again")
