"""Text summaries of a file's tree: what ``nwbzarr info`` and the demo print. Reads no array data."""

from __future__ import annotations

import math
from collections.abc import Iterator

from nwbzarr.abc.array import LazyArray
from nwbzarr.core.dtypes import dtype_name, is_numeric
from nwbzarr.tree.nodes import Dataset, Group, Link

__all__ = ["format_bytes", "tree_lines"]

_HIDDEN = ("specifications",)


def format_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def tree_lines(
    group: Group,
    *,
    name: str = "/",
    depth: int = 0,
    show_specs: bool = False,
    stored: dict[str, int] | None = None,
    path: str = "/",
) -> Iterator[str]:
    """One line per node: name, NWB type, and for datasets shape, dtype, raw and stored size, chunks, codec."""
    pad = "  " * depth
    kind = group.attrs.get("neurodata_type")
    yield f"{pad}{name}" + (f"  <{kind}>" if kind else "")
    for child_name, member in group.members.items():
        if depth == 0 and child_name in _HIDDEN and not show_specs:
            continue
        child_path = f"{path.rstrip('/')}/{child_name}"
        if isinstance(member, Group):
            yield from tree_lines(
                member, name=child_name + "/", depth=depth + 1, show_specs=show_specs, stored=stored, path=child_path
            )
        elif isinstance(member, Link):
            yield f"{pad}  {child_name} -> {member.path}"
        else:
            size = stored.get(child_path) if stored else None
            extra = f"  {format_bytes(size)} stored" if size is not None and member.shape else ""
            yield f"{pad}  {child_name}  {_dataset_summary(member)}{extra}"


def _dataset_summary(ds: Dataset) -> str:
    shape = ds.shape
    parts = [f"{shape if shape else 'scalar'} {dtype_name(ds.dtype)}"]
    if shape and isinstance(ds.data, LazyArray) and is_numeric(ds.dtype):
        parts.append(format_bytes(math.prod(shape) * ds.data.numpy_dtype.itemsize))
    if ds.layout is not None and ds.layout.chunks and math.prod(shape) > 1:
        parts.append(f"chunks {ds.layout.chunks}")
        if ds.layout.shards:
            parts.append(f"shards {ds.layout.shards}")
        if ds.layout.compression is not None:
            c = ds.layout.compression
            parts.append(
                f"{'blosc-' if c.blosc else ''}{c.codec}:{c.level}"
                + (f"+{c.shuffle}shuffle" if c.shuffle != "none" else "")
            )
    kind = ds.attrs.get("neurodata_type")
    if kind:
        parts.insert(0, f"<{kind}>")
    return "  ".join(parts)
