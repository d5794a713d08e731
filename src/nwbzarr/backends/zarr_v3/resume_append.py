"""Resuming an interrupted ``append_frames``: what the store holds, and where the resumed append starts.

An append with a plan (the series, its length before the append, the frames' count, shape, dtype and a
checksum of a sample of them, the timestamps' checksum) records it in the ``"appending"`` manifest and
notes every object it stores (:class:`~.resume.ResumeLog`). Killed, the store still reads as its last
complete state. ``resume=True`` with the same plan then puts the documents the attempt overwrote back
(:func:`~.recovery.rewind`: the array is its old length again) and writes the frames again, but every
shard whose encoded bytes are the ones recorded is not sent again (:class:`~.manifest.ManifestStore`
compares each object with the record before it stores it): frames are checked by their bytes, not
trusted by position. A different plan is refused before anything is changed; a resume of an append
that committed already is told so and writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from zarr.abc.store import Store
from zarr.core.sync import sync

from nwbzarr.backends.zarr_v3.manifest import Entry, read_manifest
from nwbzarr.backends.zarr_v3.recovery import recover, resumable_append, rewind
from nwbzarr.backends.zarr_v3.resume import check_plan, kept_objects, leftover_sizes, read_progress
from nwbzarr.errors import ResumeRefusedError

__all__ = ["Finished", "Resumed", "resume_append"]


@dataclass
class Resumed:
    """An interrupted append of the same plan: its manifest, what it recorded and kept, the objects to check."""

    manifest: dict[str, Any]
    recorded: dict[str, Entry]
    kept: dict[str, Entry]
    objects: dict[str, Entry]
    leftovers: dict[str, int]


class Finished:
    """The append of this plan committed already: nothing to write."""


def resume_append(store: Store, plan: dict[str, Any], where: str) -> Resumed | Finished | None:
    """Under the writer lock: how to resume the append of ``plan`` (None: nothing to resume, append anew)."""
    manifest = read_manifest(store)
    if manifest is not None and manifest.get("state") == "committing":
        manifest = recover(store, where)  # killed during its commit: finished first, then told below
    if resumable_append(manifest):
        assert manifest is not None
        check_plan(manifest["resume"], plan, where)
        recorded = sync(read_progress(store, where))
        # documents go back to their old bytes below and are written anew: only chunks and shards are kept
        kept = sync(kept_objects(store, {k: e for k, e in recorded.items() if not k.endswith("zarr.json")}))
        # objects of the last complete state are no leftovers of the attempt (rewritten ones are journaled)
        complete = manifest.get("objects") or {}
        leftovers = {k: n for k, n in sync(leftover_sizes(store, recorded)).items() if k not in complete}
        return Resumed(manifest, recorded, kept, rewind(store, manifest, where), leftovers)
    if manifest is not None and manifest.get("state") == "appending":
        raise ResumeRefusedError(
            f"{where}: cannot resume: the interrupted append recorded no plan (it was no append_frames, or an "
            "nwbzarr without resume wrote it); append again without resume=True (it is rolled back first)"
        )
    if manifest is not None and _done(manifest.get("appended"), plan):
        return Finished()
    return None


def _done(appended: Any, plan: dict[str, Any]) -> bool:
    """Whether the last committed append is ``plan``'s: the same frames, and the series now ends after them."""
    if not isinstance(appended, dict) or appended.get("kind") != plan.get("kind"):
        return False
    then, now = dict(appended.get("source") or {}), dict(plan.get("source") or {})
    rows, frames = then.pop("rows", None), then.get("frames")
    if not isinstance(rows, int) or not isinstance(frames, int):
        return False
    return now.pop("rows", None) == rows + frames and then == now and appended.get("options") == plan.get("options")
