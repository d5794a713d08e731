"""What raw copies (:mod:`.raw_copy`) did, for ``convert``'s ``explain``; and the switch that turns them off."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

__all__ = ["SESSION", "RawCopy", "describe", "raw_copies"]


@dataclass
class RawCopy:
    """What one array's raw copy did: ``objects`` stored, their bytes, the values they hold, time taken."""

    path: str
    how: str  # "zarr objects" or "hdf5 deflate -> gzip"
    objects: int = 0
    stored_bytes: int = 0
    value_bytes: int = 0
    decoded: int = 0  # chunks that had to take the decode path (an HDF5 chunk stored with a filter skipped)
    checked: int = 0  # objects no checksum covered, decoded once to prove they decode
    seconds: float = 0.0


@dataclass
class Session:
    """The raw copies collected by one :func:`raw_copies` block, and whether they are allowed."""

    enabled: bool
    records: list[RawCopy] = field(default_factory=list)


SESSION: ContextVar[Session | None] = ContextVar("nwbzarr_raw_copies", default=None)


@contextmanager
def raw_copies(*, enabled: bool | None = None) -> Iterator[list[RawCopy]]:
    """Collect the raw copies of the writes inside; ``enabled=False`` forces the decode/encode path.

    ``None`` keeps the enclosing setting (on by default), so a caller's ``raw_copies(enabled=False)``
    holds through ``convert``'s own collection; an enclosing collector sees the records too.
    """
    outer = SESSION.get()
    session = Session(enabled if enabled is not None else (outer.enabled if outer is not None else True))
    token = SESSION.set(session)
    try:
        yield session.records
    finally:
        SESSION.reset(token)
        if outer is not None:
            outer.records.extend(session.records)


def describe(records: list[RawCopy], *, most: int = 10) -> list[str]:
    """Lines for ``explain``: a total, then the largest arrays copied raw."""
    if not records:
        return []
    stored = sum(r.stored_bytes for r in records)
    values = sum(r.value_bytes for r in records)
    seconds = sum(r.seconds for r in records)
    lines = [
        f"copied {len(records)} array(s) without re-encoding ({sum(r.objects for r in records)} objects, "
        f"{_size(stored)} stored for {_size(values)} of values, {seconds:.2f} s): their source chunks and codecs "
        "match the destination's"
    ]
    for r in sorted(records, key=lambda r: -r.stored_bytes)[:most]:
        extra = f"; {r.decoded} chunk(s) decoded (a filter was skipped)" if r.decoded else ""
        extra += f"; {r.checked} object(s) decode-checked (no checksum)" if r.checked else ""
        lines.append(
            f"  {r.path}: {r.how}, {r.objects} objects, {_size(r.stored_bytes)} for {_size(r.value_bytes)} "
            f"of values in {r.seconds:.2f} s{extra}"
        )
    return lines


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 100_000 else f"{n} B"
