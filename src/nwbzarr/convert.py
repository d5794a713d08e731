"""Lossless conversion between NWB files: HDF5 <-> Zarr v3, Zarr -> Zarr (rechunk, recompress), legacy Zarr v2 -> v3.

Conversion works on the format-neutral tree, so every group, dataset, attribute, link, reference and
cached specification carries over, whatever types the file holds. Arrays stream block by block
(at most :data:`nwbzarr.blocks.DEFAULT_BUDGET` bytes of one array in memory per writer).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

from nwbzarr.backends.open import Format, detect_format, open_backend
from nwbzarr.dtypes import is_numeric
from nwbzarr.errors import IncompleteStoreError, NWBZarrError
from nwbzarr.progress import NO_PROGRESS, Callback
from nwbzarr.specs import with_specifications
from nwbzarr.storage import StoreLike
from nwbzarr.tree.layout import Compression, Layout
from nwbzarr.tree.nodes import Dataset, Group, walk
from nwbzarr.verify import VerifyReport
from nwbzarr.verify import verify as verify_store

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
    progress: Callback | None = None,
    verify: bool = True,
) -> VerifyReport | None:
    """Copy the NWB file ``src`` to ``dst``; formats come from the paths unless given.

    ``chunks``/``compression`` apply to every numeric array of rank ``len(chunks)`` (resp. every numeric
    array); ``layout="keep"`` copies the source's chunking and codecs instead of nwbzarr's defaults.
    A Zarr destination is verified at the end (every object re-read against its CRC-32; ``verify=False``
    skips it); the report is returned, and a failed verification raises.
    """
    if isinstance(compression, str):
        compression = Compression(codec=compression)  # type: ignore[arg-type]
    source = open_backend(src, mode="r", format=src_format, storage_options=storage_options, allow_pickle=allow_pickle)
    try:
        tree = source.read_tree()
        _relayout(tree, layout=layout, chunks=chunks, compression=compression)
        with_specifications(tree)
        destination = open_backend(
            dst, mode="w" if overwrite else "w-", format=dst_format, storage_options=dst_storage_options
        )
        try:
            destination.write_tree(tree, append=False, progress=progress or NO_PROGRESS)
        except BaseException:
            destination.discard()
            raise
        finally:
            destination.close()
    finally:
        source.close()
    if not verify or (dst_format or detect_format(dst)) != "zarr":
        return None
    report = verify_store(dst, storage_options=dst_storage_options)
    if not report.ok:
        raise IncompleteStoreError(f"{dst}: verification after the copy failed: {'; '.join(report.problems[:5])}")
    return report


def _relayout(
    tree: Group, *, layout: LayoutChoice, chunks: tuple[int, ...] | None, compression: Compression | None
) -> None:
    if layout not in ("keep", "default"):
        raise NWBZarrError(f"layout must be 'keep' or 'default', got {layout!r}")
    for _, node in walk(tree):
        if not isinstance(node, Dataset) or not is_numeric(node.dtype) or not node.shape or 0 in node.shape:
            continue
        current = node.layout if layout == "keep" else None
        if chunks is not None and len(chunks) == len(node.shape):
            current = Layout(
                chunks=tuple(min(c, n) for c, n in zip(chunks, node.shape, strict=True)),
                compression=current.compression if current else None,
            )
        if compression is not None:
            current = dataclasses.replace(current or Layout(), compression=compression)
        node.layout = current
