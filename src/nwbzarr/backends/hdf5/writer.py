"""Write a tree as an NWB HDF5 file that PyNWB's NWBHDF5IO reads.

Two passes: first every group and dataset (so every target exists), then soft and external links,
reference attributes and reference datasets. Large numeric datasets are chunked and compressed with
gzip + shuffle (every HDF5 reader has gzip) unless their layout says otherwise, and are written block
by block so memory stays bounded whatever the source.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from nwbzarr.core.dtypes import Compound, DataType, ObjectRef, Text, is_numeric
from nwbzarr.core.optional import require
from nwbzarr.core.progress import Callback
from nwbzarr.tree.layout import Layout
from nwbzarr.tree.nodes import Dataset, Group, Link, Reference
from nwbzarr.tree.paths import join
from nwbzarr.tree.values import Ascii
from nwbzarr.writing import blocks
from nwbzarr.writing.blocks import block_shape, read_region, stored_regions
from nwbzarr.writing.streams import FrameStream

__all__ = ["H5TreeWriter"]

#: numeric datasets from this size on are chunked and compressed
COMPRESS_FROM_BYTES = 1024 * 1024
#: target bytes of one HDF5 chunk (HDF5 reads whole chunks; its chunk cache holds a few MiB)
CHUNK_BYTES = 1024 * 1024
GZIP_LEVEL = 4


class H5TreeWriter:
    """Writes a tree into an open ``h5py.File``; in append mode nodes that exist are left alone."""

    def __init__(self, file: Any, *, existing: set[str], progress: Callback, budget: int | None = None) -> None:
        self.h5py = require("h5py", "writing HDF5 files")
        self.file = file
        self.existing = existing
        self.progress = progress
        self.budget = budget if budget is not None else blocks.DEFAULT_BUDGET  # read now: settable
        self._later: list[tuple[str, Any]] = []  # (kind, payload) for the second pass

    def write(self, tree: Group) -> None:
        self._group(self.file, tree, "/")
        for kind, payload in self._later:
            getattr(self, f"_finish_{kind}")(*payload)
        if "specifications" in tree.members and "/" not in self.existing:
            self.file.attrs[".specloc"] = self.file["specifications"].ref

    # --- pass 1 -------------------------------------------------------------------------------
    def _group(self, h5group: Any, group: Group, path: str) -> None:
        if path not in self.existing:
            self._set_attrs(h5group, group.attrs, path)
        for name, member in group.members.items():
            child_path = join(path, name)
            if child_path in self.existing and not isinstance(member, Group):
                continue
            if isinstance(member, Group):
                sub = h5group[name] if child_path in self.existing else h5group.create_group(name)
                self._group(sub, member, child_path)
            elif isinstance(member, Link):
                self._later.append(("link", (h5group, name, member)))
            elif isinstance(member.dtype, ObjectRef) or _has_ref_fields(member.dtype):
                self._later.append(("references", (h5group, name, member, child_path)))
            else:
                self._dataset(h5group, name, member, child_path)

    def _dataset(self, h5group: Any, name: str, ds: Dataset, path: str) -> None:
        h5py = self.h5py
        shape = ds.shape
        dtype = self._storage_dtype(ds.dtype)
        if isinstance(ds.data, FrameStream):
            self._stream(h5group, name, ds, dtype, path)
            return
        if not shape:
            value = read_region(ds.data, ())[()]
            h5ds = h5group.create_dataset(name, data=value, dtype=dtype)
        else:
            options = self._options(ds, dtype) if is_numeric(ds.dtype) else {}
            h5ds = h5group.create_dataset(name, shape=shape, dtype=dtype, **options)
            if 0 not in shape:
                unit = options.get("chunks") or shape
                block = block_shape(
                    shape,
                    tuple(unit),
                    max(1, np.dtype(dtype).itemsize if not h5py.check_string_dtype(dtype) else 64),
                    self.budget,
                )
                # only what the source stores (its other chunks are fill value): sparse arrays copy fast
                for region in stored_regions(ds.data, shape, block, tuple(unit)):
                    values = read_region(ds.data, region)
                    h5ds[region] = values
                    if is_numeric(ds.dtype):
                        self.progress.advance(values.nbytes)
        self._set_attrs(h5ds, ds.attrs, path)

    def _stream(self, h5group: Any, name: str, ds: Dataset, dtype: Any, path: str) -> None:
        stream: FrameStream = ds.data
        frame = stream.frame_shape
        options = self._options(ds, dtype, shape=(max(stream.n_frames or 0, 1024), *frame))
        h5ds = h5group.create_dataset(name, shape=(0, *frame), maxshape=(None, *frame), dtype=dtype, **options)
        written = 0
        for block in stream.blocks():
            h5ds.resize(written + len(block), axis=0)
            h5ds[written : written + len(block)] = block
            written += len(block)
            self.progress.advance(block.nbytes)
        self._set_attrs(h5ds, ds.attrs, path)

    def _options(self, ds: Dataset, dtype: Any, shape: tuple[int, ...] | None = None) -> dict[str, Any]:
        shape = shape or ds.shape
        if 0 in shape:
            return {}
        layout = ds.layout or Layout()
        nbytes = math.prod(shape) * np.dtype(dtype).itemsize
        if layout.chunks is None and layout.compression is None and nbytes < COMPRESS_FROM_BYTES:
            return {}
        chunks = (
            tuple(min(c, n) for c, n in zip(layout.chunks, shape, strict=True))
            if layout.chunks
            else _chunks(shape, np.dtype(dtype))
        )
        options: dict[str, Any] = {"chunks": tuple(max(1, c) for c in chunks)}
        compression = layout.compression
        if compression is None or compression.codec != "none":
            level = compression.level if compression is not None and compression.codec == "gzip" else GZIP_LEVEL
            options.update(
                compression="gzip",
                compression_opts=min(9, max(0, level)),
                shuffle=compression is None or compression.shuffle != "none",
            )
        return options

    def _storage_dtype(self, dtype: DataType) -> Any:
        h5py = self.h5py
        if isinstance(dtype, Text):
            return h5py.string_dtype("ascii" if dtype.encoding == "ascii" else "utf-8")
        if isinstance(dtype, ObjectRef):
            return h5py.ref_dtype
        if isinstance(dtype, Compound):
            return np.dtype([(f.name, self._storage_dtype(f.dtype)) for f in dtype.fields])
        return dtype

    # --- pass 2 -------------------------------------------------------------------------------
    def _finish_link(self, h5group: Any, name: str, link: Link) -> None:
        if name in h5group:
            return
        if link.source in (".", ""):
            h5group[name] = self.h5py.SoftLink(link.path)
        else:
            h5group[name] = self.h5py.ExternalLink(link.source, link.path)

    def _finish_references(self, h5group: Any, name: str, ds: Dataset, path: str) -> None:
        values = read_region(ds.data, tuple(slice(0, n) for n in ds.shape)) if ds.shape else read_region(ds.data, ())
        dtype = self._storage_dtype(ds.dtype)
        if isinstance(ds.dtype, ObjectRef):
            refs = np.empty(values.shape, dtype=dtype)
            refs.ravel()[:] = [self._ref(r, path) for r in values.ravel()]
            h5ds = h5group.create_dataset(name, data=refs, dtype=dtype)
        else:
            assert isinstance(ds.dtype, Compound)
            out = np.empty(values.shape, dtype=dtype)
            for f in ds.dtype.fields:
                column = values[f.name]
                out[f.name] = [self._ref(r, path) for r in column.ravel()] if isinstance(f.dtype, ObjectRef) else column
            h5ds = h5group.create_dataset(name, data=out, dtype=dtype)
        self._set_attrs(h5ds, ds.attrs, path)

    def _finish_attribute(self, node: Any, key: str, ref: Reference, path: str) -> None:
        node.attrs[key] = self._ref(ref, f"{path}@{key}")

    def _ref(self, ref: Any, where: str) -> Any:
        if not isinstance(ref, Reference):
            raise TypeError(f"{where}: expected a Reference, got {type(ref).__name__}")
        return self.file[ref.path].ref

    # --- attributes ------------------------------------------------------------------------------
    def _set_attrs(self, node: Any, attrs: dict[str, Any], path: str) -> None:
        h5py = self.h5py
        for key, value in attrs.items():
            if isinstance(value, Reference):
                self._later.append(("attribute", (node, key, value, path)))
            elif isinstance(value, (list, tuple)) and value and all(isinstance(v, str) for v in value):
                encoding = "ascii" if all(isinstance(v, Ascii) for v in value) else "utf-8"
                node.attrs.create(
                    key, np.array([str(v) for v in value], dtype=object), dtype=h5py.string_dtype(encoding)
                )
            elif isinstance(value, Ascii):
                node.attrs.create(key, str(value), dtype=h5py.string_dtype("ascii"))
            elif isinstance(value, (list, tuple)):
                node.attrs[key] = np.asarray(value)
            else:
                node.attrs[key] = value  # numpy scalars and arrays keep their type; int/float are int64/float64


def _has_ref_fields(dtype: DataType) -> bool:
    return isinstance(dtype, Compound) and bool(dtype.reference_fields)


def _chunks(shape: tuple[int, ...], dtype: np.dtype) -> tuple[int, ...]:
    """About CHUNK_BYTES: whole rows (frames, for series) along the first axis."""
    row = max(1, math.prod(shape[1:]) * dtype.itemsize)
    if row <= CHUNK_BYTES:
        return (max(1, min(shape[0], CHUNK_BYTES // row)), *shape[1:])
    # a row larger than a chunk (big frames): tile it
    out = [1, *shape[1:]]
    axis = 1
    while math.prod(out) * dtype.itemsize > CHUNK_BYTES and axis < len(out):
        out[axis] = max(1, out[axis] // 2)
        if out[axis] == 1:
            axis += 1
    return tuple(out)
