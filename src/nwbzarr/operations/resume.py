"""``convert(..., resume=True)``: what the destination holds, and what a resume does with each state.

The conversion records its *plan* (the source's fingerprint and the options that shape the copy) in the
destination's manifest from its first write on (:mod:`nwbzarr.backends.zarr_v3.resume`). A resume reads
the manifest first: nothing there means a plain conversion; ``"writing"`` is continued by the backend
(which checks the plan again under the writer lock); ``"committing"`` (killed during its commit) is
rolled forward; ``"complete"`` is said to be complete and only verified; an interrupted append is no
conversion.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from zarr.abc.store import Store

from nwbzarr.backends.zarr_v3.manifest import read_manifest
from nwbzarr.backends.zarr_v3.resume import check_plan
from nwbzarr.errors import IncompleteStoreError, NWBZarrError
from nwbzarr.storage.fingerprint import fingerprint
from nwbzarr.storage.resolve import StoreLike, make_store, store_exists

if TYPE_CHECKING:
    from nwbzarr.backends.zarr_v3.backend import ZarrBackend
    from nwbzarr.operations.verify import VerifyReport

__all__ = ["conversion_plan", "finished_target", "resume_target", "resumed_note"]


def conversion_plan(src: StoreLike, storage_options: dict[str, Any] | None, options: dict[str, Any]) -> dict[str, Any]:
    """What a resume must find unchanged: the source's fingerprint and the conversion's options."""
    return {"source": fingerprint(src, storage_options), "options": options}


def _typed(target: StoreLike) -> str:
    return os.fspath(target) if not isinstance(target, Store) else repr(target)


def resume_target(dst: StoreLike, fmt: str, overwrite: bool, options: dict[str, Any] | None) -> dict[str, Any] | None:
    """The manifest of the write to resume at ``dst``, or None when nothing is there (a plain conversion)."""
    if overwrite:
        raise NWBZarrError(
            f"{_typed(dst)}: resume continues the copy there and overwrite replaces it; pass one of them, not both"
        )
    if fmt != "zarr":
        raise NWBZarrError(f"{_typed(dst)}: only a conversion to Zarr can be resumed (HDF5 files are written whole)")
    if isinstance(dst, Store) and type(dst).__module__.split(".")[0] == "icechunk":
        raise NWBZarrError(
            f"{_typed(dst)}: an icechunk session is not resumed: an interrupted one was never committed; convert "
            "into a new session (docs/icechunk.md)"
        )
    store = dst if isinstance(dst, Store) else make_store(dst, read_only=True, storage_options=options)
    try:
        manifest = read_manifest(store)
    except FileNotFoundError:
        manifest = None
    if manifest is None and store_exists(store):
        raise NWBZarrError(
            f"{_typed(dst)}: holds a Zarr store without nwbzarr's write manifest: no conversion by nwbzarr to "
            "resume (pass --overwrite to replace it)"
        )
    if manifest is not None and manifest.get("state") == "appending":
        raise NWBZarrError(
            f"{_typed(dst)}: an append to this store was interrupted, not a conversion: open it in mode 'a' to "
            "repair it, or pass --overwrite to replace it"
        )
    return manifest


def finished_target(
    manifest: dict[str, Any],
    dst: StoreLike,
    plan: dict[str, Any] | None,
    options: dict[str, Any] | None,
    verify: bool,
    explain: Callable[[str], None] | None,
) -> VerifyReport | None:
    """A resume of a conversion that got through (complete, or killed during its commit): nothing to write.

    A commit that was cut off is finished first (rolled forward under the writer lock). The copy must
    be of the same plan; then it is verified (unless ``verify=False``) and nothing else is done.
    """
    from nwbzarr.backends.open import open_backend
    from nwbzarr.operations.verify import verify as verify_store

    where = _typed(dst)
    if plan is not None and manifest.get("resume") is not None:
        check_plan(manifest.get("resume"), plan, where)
    if manifest.get("state") == "committing":
        backend = open_backend(dst, mode="a", format="zarr", storage_options=options)
        try:
            backend.recover()  # type: ignore[attr-defined]  # a ZarrBackend: format="zarr"
        finally:
            backend.close()
        store = dst if isinstance(dst, Store) else make_store(dst, read_only=True, storage_options=options)
        state = (read_manifest(store) or {}).get("state")
        if state != "complete":
            raise IncompleteStoreError(f"{where}: its commit is unfinished and another writer holds the store now")
    if explain is not None:
        explain(
            f"{where}: the conversion is complete already; nothing to resume" + (", verifying it" if verify else "")
        )
    if not verify:
        return None
    report = verify_store(dst, storage_options=options)
    if not report.ok:
        raise IncompleteStoreError(f"{where}: the complete copy fails verification: {'; '.join(report.problems[:5])}")
    return report


def resumed_note(backend: ZarrBackend, explain: Callable[[str], None] | None) -> None:
    """Tell what a resumed write kept of the earlier attempt."""
    if explain is None or backend.resumed is None:
        return
    recorded, kept, nbytes = backend.resumed
    found = backend.read_back
    unnoted = (
        f", and {found.objects} stored as it was killed but not recorded ({found.object_bytes / 1e6:.1f} MB, read "
        "back and equal)"
        if found.objects
        else ""
    )
    continued = (
        f", and {found.parts} parts of uploads it cut off ({found.part_bytes / 1e6:.1f} MB, their MD5s equal to "
        "the bytes encoded again)"
        if found.parts
        else ""
    )
    explain(
        f"{backend.where}: resumed: kept {kept} of the {recorded} objects the interrupted attempt recorded "
        f"({nbytes / 1e6:.1f} MB, checked by size; every CRC-32 is checked by the verification){unnoted}"
        f"{continued}, wrote the rest"
    )
