"""Lossless conversion between NWB files: HDF5 <-> Zarr v3, Zarr -> Zarr (rechunk, recompress), legacy Zarr v2 -> v3.

Conversion works on the format-neutral tree, so every group, dataset, attribute, link, reference and
cached specification carries over, whatever types the file holds. Arrays stream block by block
(at most :data:`nwbzarr.writing.blocks.DEFAULT_BUDGET` bytes of one array in memory per writer).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Literal

from zarr.abc.store import Store

from nwbzarr.abc.backend import Backend
from nwbzarr.backends.open import Format, detect_format, open_backend
from nwbzarr.backends.zarr_v3 import ZarrBackend
from nwbzarr.backends.zarr_v3.icechunk_dst import is_icechunk, write_icechunk
from nwbzarr.backends.zarr_v3.raw_record import describe, raw_copies
from nwbzarr.core.dtypes import is_numeric
from nwbzarr.core.progress import NO_PROGRESS, Callback
from nwbzarr.errors import IncompleteStoreError, NWBZarrError
from nwbzarr.operations.external_links import ExternalLinks, LinkResolver, refuse_foreign_storage
from nwbzarr.operations.resume import (
    conversion_plan,
    finished_target,
    resume_target,
    resumed_note,
)
from nwbzarr.operations.source_checks import require_nwb_root, source_format
from nwbzarr.operations.unsigned_types import apply_unsigned_types
from nwbzarr.operations.verify import VerifyReport
from nwbzarr.operations.verify import verify as verify_store
from nwbzarr.schema.specifications import with_specifications
from nwbzarr.storage import StoreLike, make_store
from nwbzarr.storage.destination import HDF5_SUFFIXES, Existing, check_destination, locate
from nwbzarr.storage.swap import written_beside
from nwbzarr.tree.layout import Compression, Layout
from nwbzarr.tree.nodes import Dataset, Group, walk
from nwbzarr.writing.blocks import sparse_chunks

__all__ = ["LayoutChoice", "convert"]

#: "keep" the source's chunking and compression where the destination can; "default" use nwbzarr's policy
LayoutChoice = Literal["keep", "default"]


def convert(
    src: StoreLike,
    dst: StoreLike,
    *,
    src_format: Format | None = None,
    dst_format: Format | None = None,
    layout: LayoutChoice = "default",
    chunks: tuple[int, ...] | None = None,
    compression: Compression | str | None = None,
    overwrite: bool = False,
    storage_options: dict[str, Any] | None = None,
    dst_storage_options: dict[str, Any] | None = None,
    allow_pickle: bool = False,
    raw: bool = False,
    external_links: ExternalLinks = "keep",
    allow_external_data: bool = False,
    progress: Callback | None = None,
    verify: bool = True,
    explain: Callable[[str], None] | None = None,
    resume: bool = False,
) -> VerifyReport | None:
    """Copy the NWB file ``src`` to ``dst``; formats come from the paths unless given.

    ``chunks``/``compression`` apply to every numeric array of rank ``len(chunks)`` (resp. every numeric
    array); ``layout="keep"`` copies the source's chunking and codecs instead of nwbzarr's defaults.
    A Zarr destination is verified at the end (every object re-read against its CRC-32; ``verify=False``
    skips it); the report is returned, and a failed verification raises.

    A source whose root is no NWBFile (``neurodata_type``, ``nwb_version``) is refused unless ``raw=True``,
    which copies it as it is (no cached specification added). External links are kept and rewritten to
    resolve from ``dst`` (``external_links="keep"``, said through ``explain``), copied in (``"copy"``) or
    refused (``"refuse"``). HDF5 datasets stored in external raw files or virtual datasets are refused
    unless ``allow_external_data=True``. Sparse arrays copy only their stored chunks, keeping their chunk
    shape (see :func:`nwbzarr.writing.blocks.stored_regions`). An array whose destination encoding equals its
    source's (Zarr objects, HDF5 deflate chunks, v2 chunks; see :mod:`nwbzarr.backends.zarr_v3.raw_copy`)
    has its stored bytes copied without re-encoding, said through ``explain``.

    Nothing is touched when ``dst`` is the source, lies in it or holds it, is a non-empty folder or a file
    that is not an NWB file of the destination format, or (format taken from the name) has no NWB suffix.
    ``overwrite`` replaces a local file or store only after the new copy is complete and verified (written
    beside it, then swapped in); on object storage the old store is replaced in place, and ``explain``
    is told so first.

    ``resume=True`` continues a conversion into a Zarr ``dst`` that was interrupted (killed, a dropped
    connection, Ctrl-C): the objects it stored and recorded are kept (checked by size), the rest is written,
    then the usual commit and verification. It is refused (:class:`~nwbzarr.errors.ResumeRefusedError`,
    naming what changed, the partial copy untouched) if the source changed since (path, size, time or
    ETag) or the options differ. On an absent or empty ``dst`` it simply converts; on a complete copy of
    the same conversion it says so through ``explain`` and only verifies. See
    :mod:`nwbzarr.backends.zarr_v3.resume`.

    ``dst`` may be an icechunk session's store (``repo.writable_session("main").store``): the file is
    written as plain Zarr v3 nodes, without nwbzarr's manifest or verification (icechunk refuses other
    keys), and the caller commits the session; see ``docs/icechunk.md``.
    """
    if isinstance(compression, str):
        compression = Compression(codec=compression)  # type: ignore[arg-type]
    fmt = dst_format or _destination_format(dst)
    if fmt == "zarr-v2":
        if dst_format is not None:
            raise NWBZarrError(f"{_typed(dst)}: nwbzarr writes Zarr v3 stores, not legacy v2 ones; use --to zarr")
        fmt = "zarr"  # an existing legacy store: replaced by a v3 one if asked
    shaping: dict[str, Any] = {"layout": layout}  # formats aside: the destination is Zarr, the source fingerprinted
    shaping |= {"chunks": chunks, "compression": compression, "raw": raw, "external_links": external_links}
    shaping["allow_external_data"] = allow_external_data
    plan = conversion_plan(src, storage_options, _options(shaping)) if fmt == "zarr" else None
    unfinished = resume_target(dst, fmt, overwrite, dst_storage_options) if resume else None
    if unfinished is not None and unfinished.get("state") != "writing":
        return finished_target(unfinished, dst, plan, dst_storage_options, verify, explain)
    versioned = is_icechunk(dst)  # an icechunk session: its commit is the transaction (docs/icechunk.md)
    here = locate(dst) if not isinstance(dst, Store) else None
    checking = _checked(
        lambda: (
            "nothing"
            if versioned
            else check_destination(
                dst,
                format=fmt,
                overwrite=overwrite or unfinished is not None,
                sources=[src],
                named=dst_format is None,
                storage_options=dst_storage_options,
                how="pass --overwrite (overwrite=True)",
            )
        ),
        remote=here is None or here.local is None,
    )
    try:
        source = open_backend(
            src, mode="r", format=src_format, storage_options=storage_options, allow_pickle=allow_pickle
        )
        src_fmt = src_format or source_format(src, storage_options)
        linked = LinkResolver(external_links, src, src_fmt, dst, fmt, explain)
    except BaseException:
        checking.result()  # a refused destination is said first, as when it was checked before the source
        raise
    try:
        try:
            tree = source.read_tree()
        finally:
            existing = checking.result()  # nothing is written before the destination passed its check
        if not raw:
            require_nwb_root(tree, _typed(src))
        if not allow_external_data:
            refuse_foreign_storage(tree, _typed(src))
        linked.apply(tree)
        _relayout(tree, layout=layout, chunks=chunks, compression=compression)
        if not raw:
            with_specifications(tree)
            if src_fmt != "hdf5":  # JSON attributes: unsigned types a store did not record come from the schema
                apply_unsigned_types(tree)
        if versioned:
            assert isinstance(dst, Store)
            write_icechunk(tree, dst, progress or NO_PROGRESS, overwrite=overwrite)
            return None
        if unfinished is not None:  # convert --resume: continue the interrupted write in place
            return _write(
                tree, dst, fmt, dst_storage_options, progress, verify, mode="a", explain=explain, plan=plan, resume=True
            )
        if existing != "nothing" and here is not None and here.local is not None:
            # a local file or store is replaced only once its successor is complete and verified
            with written_beside(here.local) as beside:
                report = _write(tree, beside, fmt, None, progress, verify, explain=explain)
            if report is not None:
                report.target = _typed(dst)
            return report
        if existing != "nothing" and explain is not None:
            explain(
                f"{_typed(dst)}: replacing the existing store in place (object storage has no rename): "
                "its objects are removed before the copy is written"
            )
        return _write(
            tree,
            dst,
            fmt,
            dst_storage_options,
            progress,
            verify,
            mode="w" if overwrite else "w-",
            explain=explain,
            plan=plan,
        )
    finally:
        linked.close()
        source.close()


def _write(
    tree: Group,
    dst: StoreLike,
    fmt: Literal["zarr", "hdf5"],
    options: dict[str, Any] | None,
    progress: Callback | None,
    verify: bool,
    *,
    mode: Literal["w", "w-", "a"] = "w-",
    explain: Callable[[str], None] | None = None,
    plan: dict[str, Any] | None = None,
    resume: bool = False,
) -> VerifyReport | None:
    """Write ``tree`` to ``dst`` (removing what a failed write left), then verify a Zarr copy."""
    destination: Backend = (
        _zarr_destination(dst, options, mode)
        if fmt == "zarr"
        else open_backend(dst, mode=mode, format=fmt, storage_options=options)
    )
    try:
        with raw_copies() as copied:  # arrays whose stored bytes were copied as they are (see raw_copy)
            if plan is not None and isinstance(destination, ZarrBackend):  # resumable (see convert's resume)
                destination.write_tree(tree, append=False, progress=progress or NO_PROGRESS, plan=plan, resume=resume)
                resumed_note(destination, explain)
            else:
                destination.write_tree(tree, append=False, progress=progress or NO_PROGRESS)
        if explain is not None:
            for line in describe(copied):
                explain(line)
    except BaseException:
        destination.discard()
        raise
    finally:
        destination.close()
    if not verify or fmt != "zarr":
        return None
    report = verify_store(dst, storage_options=options)
    if not report.ok:
        raise IncompleteStoreError(
            f"{_typed(dst)}: verification after the copy failed: {'; '.join(report.problems[:5])}"
        )
    return report


def _checked(check: Callable[[], Existing], *, remote: bool) -> Future[Existing]:
    """The destination's check, run while the source is opened and read when the destination is remote.

    On object storage the check is a round trip (and the probe of conditional writes, three); reading
    the source's tree needs none of its answers, so both go at once. The write waits for the verdict,
    and a refusal is raised before anything the source said.
    """
    if not remote:  # a local check is a few system calls: now, refusing at once
        done: Future[Existing] = Future()
        done.set_result(check())
        return done
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nwbzarr-check")
    try:
        return pool.submit(check)
    finally:
        pool.shutdown(wait=False)  # the check runs on; its thread ends with it


def _zarr_destination(dst: StoreLike, options: dict[str, Any] | None, mode: str) -> ZarrBackend:
    """The Zarr backend of a destination :func:`check_destination` just checked, without asking again.

    ``open_backend`` would look for the store's markers once more (on S3, another round trip before the
    first shard); a new write (``"w-"``) instead refuses an existing store under its lock, where no other
    writer can create one between the check and the write.
    """
    store = make_store(dst, read_only=False, storage_options=options)
    backend = ZarrBackend(store, where=_typed(dst))
    backend.refuse_existing = mode == "w-"
    return backend


def _options(options: dict[str, Any]) -> dict[str, Any]:
    """The options that shape the copy, as JSON values (what the manifest records and a resume compares)."""
    options["chunks"] = list(options["chunks"]) if options["chunks"] is not None else None
    if isinstance(options["compression"], Compression):
        options["compression"] = dataclasses.asdict(options["compression"])
    return options


def _typed(target: StoreLike) -> str:
    return os.fspath(target) if not isinstance(target, Store) else repr(target)


def _destination_format(dst: StoreLike) -> Format:
    """The destination's format: what an existing NWB file is, else what its name says (Zarr by default)."""
    try:
        return detect_format(dst)
    except NWBZarrError:  # an existing file that is not HDF5: the guard refuses it with the reason
        return "hdf5" if _typed(dst).lower().endswith(HDF5_SUFFIXES) else "zarr"


def _sparse_layout(node: Dataset) -> Layout | None:
    """A sparse source keeps its chunk shape, so that only its stored chunks are written (see blocks)."""
    chunks = sparse_chunks(node.data)
    if chunks is None:
        return None
    if node.layout is not None and node.layout.shards == chunks:  # a sharded Zarr source: its shards, inner chunks
        return Layout(chunks=node.layout.chunks, shards=node.layout.shards)
    return Layout(chunks=chunks)


def _relayout(
    tree: Group, *, layout: LayoutChoice, chunks: tuple[int, ...] | None, compression: Compression | None
) -> None:
    if layout not in ("keep", "default"):
        raise NWBZarrError(f"layout must be 'keep' or 'default', got {layout!r}")
    for _, node in walk(tree):
        if not isinstance(node, Dataset) or not is_numeric(node.dtype) or not node.shape or 0 in node.shape:
            continue
        current = node.layout if layout == "keep" else _sparse_layout(node)
        if chunks is not None and len(chunks) == len(node.shape):
            current = Layout(
                chunks=tuple(min(c, n) for c, n in zip(chunks, node.shape, strict=True)),
                compression=current.compression if current else None,
            )
        if compression is not None:
            current = dataclasses.replace(current or Layout(), compression=compression)
        node.layout = current
