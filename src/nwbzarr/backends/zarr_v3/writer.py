"""Write a tree as a Zarr v3 NWB store (the convention hdmf-zarr >= 0.14 and LINDI share)."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import zarr
from zarr.codecs import Crc32cCodec
from zarr.core.sync import sync

from nwbzarr.abc.array import LazyArray
from nwbzarr.backends.zarr_v3.attributes import NonFinite, encode_attrs, links_attr
from nwbzarr.backends.zarr_v3.codecs import zarr_compressors
from nwbzarr.backends.zarr_v3.dtypes import dtype_hint, storage_dtype, to_storage
from nwbzarr.backends.zarr_v3.manifest import ManifestStore
from nwbzarr.backends.zarr_v3.parallel import is_dask_array, write_dask_shards
from nwbzarr.backends.zarr_v3.raw_copy import copy_raw
from nwbzarr.backends.zarr_v3.resume import reusable
from nwbzarr.backends.zarr_v3.shard_format import ShardLayout
from nwbzarr.backends.zarr_v3.shards import region_writer
from nwbzarr.core.dtypes import Compound, DataType, ObjectRef, Text, is_numeric
from nwbzarr.core.progress import Callback
from nwbzarr.errors import ValidationError
from nwbzarr.tree.layout import Layout
from nwbzarr.tree.nodes import Dataset, Group, Link, walk
from nwbzarr.tree.paths import join
from nwbzarr.writing import blocks
from nwbzarr.writing.blocks import block_shape, read_region, stored_regions
from nwbzarr.writing.policy import default_compression, default_layout
from nwbzarr.writing.streams import FrameStream

__all__ = ["TreeWriter", "dimension_names", "payload_bytes"]

#: stores ``values`` at a region of one array (sharded arrays by nwbzarr, shard by shard; others by zarr)
PutRegion = Callable[[tuple[slice, ...], np.ndarray], None]

#: the length a stream of unknown length is laid out for (chunk and shard shapes only)
_STREAM_FRAMES = 100_000


def dimension_names(group: Group) -> dict[str, tuple[str, ...]]:
    """Zarr v3 ``dimension_names`` of every array in ``group``: the schema's dims, made unique where sizes differ.

    xarray (``open_zarr``, ``open_datatree``) needs every array named by dimension, and a name shared by
    arrays of one group must have one size. The schema reuses names (``num_items`` is 4 keywords and 2
    experimenters in ``general/``), so a name that has more than one size in a group becomes
    ``{dim}_{array}`` on every array that uses it; a repeat inside one array gets ``_{axis}``; an array
    without schema dims gets ``{array}_dim_{axis}``. ``_ARRAY_DIMENSIONS`` keeps the schema's names.
    """
    arrays = {n: m for n, m in group.members.items() if isinstance(m, Dataset) and m.shape}
    base: dict[str, list[str]] = {}
    for name, ds in arrays.items():
        schema = ds.dims is not None and len(ds.dims) == len(ds.shape)
        dims = list(ds.dims) if schema and ds.dims else [f"{name}_dim_{i}" for i in range(len(ds.shape))]
        base[name] = [d if dims.count(d) == 1 else f"{d}_{i}" for i, d in enumerate(dims)]
    sizes: dict[str, set[int]] = {}
    for name, dims in base.items():
        for dim, n in zip(dims, arrays[name].shape, strict=True):
            sizes.setdefault(dim, set()).add(n)
    return {name: tuple(f"{d}_{name}" if len(sizes[d]) > 1 else d for d in dims) for name, dims in base.items()}


def payload_bytes(tree: Group) -> int:
    """Bytes of array data a write moves (for progress bars)."""
    total = 0
    for _, node in walk(tree):
        if isinstance(node, Dataset) and is_numeric(node.dtype):
            total += math.prod(node.shape) * np.dtype(node.dtype).itemsize  # type: ignore[arg-type]
    return total


class TreeWriter:
    """Creates groups and arrays under an open zarr group; in append mode skips what exists."""

    def __init__(
        self,
        root: zarr.Group,
        *,
        existing: set[str],
        progress: Callback,
        budget: int | None = None,
        nonfinite: NonFinite = "strict",
    ) -> None:
        self.root = root
        self.nonfinite = nonfinite  # how NaN/infinite attributes are stored (attributes.NonFinite)
        self.existing = existing
        self.progress = progress
        self.budget = budget if budget is not None else blocks.DEFAULT_BUDGET  # read now: settable
        #: the shard writer of the last array filled, whose uploads may still be in flight (see ``write``)
        self._in_flight = contextlib.ExitStack()

    def write(self, tree: Group) -> None:
        """Write every node; return once every object is stored.

        The shards of an array still uploading when its last one was encoded are waited for only when the
        next sharded array starts, or at the end: the rest of the tree (metadata, small arrays) is written
        while they go, instead of after them (on object storage, the tail of a movie's upload). The memory
        bound is that of one array's shards in flight, as before.
        """
        try:
            self._attrs_of_group(self.root, tree, "/")
            self._members(self.root, tree, "/")
        finally:
            self._in_flight.close()  # waits for the last uploads (and raises the first failure)

    def _attrs_of_group(self, zgroup: zarr.Group, group: Group, path: str) -> None:
        attrs = encode_attrs(group.attrs, nonfinite=self.nonfinite)
        links = {n: m for n, m in group.members.items() if isinstance(m, Link)}
        if path in self.existing:
            stored: list[Any] = list(zgroup.attrs.get("_LINKS") or [])  # type: ignore[arg-type]
            known = {entry.get("name") for entry in stored if isinstance(entry, dict)}
            new_links = {n: m for n, m in links.items() if n not in known}
            if new_links:  # an append adds links into an existing group: extend, never rewrite
                zgroup.attrs["_LINKS"] = [*stored, *links_attr(new_links)]
            return
        if links:
            attrs["_LINKS"] = links_attr(links)
        if path == "/" and "specifications" in group.members:
            attrs[".specloc"] = "specifications"
        zgroup.attrs.update(attrs)

    def _members(self, zgroup: zarr.Group, group: Group, path: str) -> None:
        names = dimension_names(group)  # from the whole group, so an append names new arrays as a write would
        for name, member in group.members.items():
            child_path = join(path, name)
            if isinstance(member, Group):
                if child_path in self.existing:
                    sub = zgroup[name]
                    assert isinstance(sub, zarr.Group)
                else:
                    sub = zgroup.create_group(name, overwrite=True)  # leftovers of a broken append go
                self._attrs_of_group(sub, member, child_path)
                self._members(sub, member, child_path)
            elif isinstance(member, Dataset) and child_path not in self.existing:
                self._dataset(zgroup, name, member, names.get(name))

    def _dataset(self, zgroup: zarr.Group, name: str, ds: Dataset, dims: tuple[str, ...] | None = None) -> None:
        shape = ds.shape
        attrs = encode_attrs(ds.attrs, nonfinite=self.nonfinite)
        hint = dtype_hint(ds.dtype)
        if hint is not None:
            attrs["_DTYPE"] = hint
        if isinstance(ds.dtype, Compound) and ds.dtype.reference_fields:
            attrs["_REFERENCE_FIELDS"] = list(ds.dtype.reference_fields)
        if ds.dims and len(ds.dims) == len(shape):
            attrs["_ARRAY_DIMENSIONS"] = list(ds.dims)
        stream = ds.data if isinstance(ds.data, FrameStream) else None
        # only compounds with text or reference fields need their values to size the stored type
        needs_values = isinstance(ds.dtype, Compound) and any(
            not isinstance(f.dtype, np.dtype) for f in ds.dtype.fields
        )
        sample = ds.data.read() if needs_values and isinstance(ds.data, LazyArray) else ds.data
        zdtype = storage_dtype(ds.dtype, sample) if stream is None else stream.dtype
        if not shape:
            self._scalar(zgroup, name, ds, zdtype, attrs)
            return
        # a stream of unknown length is laid out as a long movie; the array grows as frames arrive
        layout = self._layout(ds, shape if stream is None or stream.n_frames else (_STREAM_FRAMES, *shape[1:]))
        arr = zgroup.create_array(
            name,
            shape=shape,
            dtype=zdtype,
            chunks=layout.chunks or "auto",
            shards=layout.shards,
            compressors=self._compressors(ds, layout),
            fill_value=_fill(ds.dtype),
            attributes=attrs,
            dimension_names=dims,
            overwrite=True,  # only nodes absent from the last complete state are created
        )
        if stream is not None:
            self._fill_stream(arr, stream, layout)
        else:
            self._fill_data(arr, ds, zdtype, layout)

    @staticmethod
    def _compressors(ds: Dataset, layout: Layout) -> Any:
        """The array's codec chain: the compression, then a CRC-32C of every chunk for numbers.

        The checksum (Zarr's standard ``crc32c`` codec, 4 bytes a chunk) makes a read of a chunk whose
        bytes changed since they were written an error instead of silently wrong numbers: Blosc and LZ4
        frames carry no checksum of their own.
        """
        if layout.compression is None:
            return "auto"
        chain = zarr_compressors(layout.compression, _itemsize(ds.dtype))
        return [*chain, Crc32cCodec()] if is_numeric(ds.dtype) else chain

    def _scalar(self, zgroup: zarr.Group, name: str, ds: Dataset, zdtype: Any, attrs: dict[str, Any]) -> None:
        """A 0-d dataset keeps its value as the fill value and stores no chunk: reading it costs no request."""
        value = np.asarray(read_region(ds.data, ()))
        stored = to_storage(ds.dtype, value.reshape(1), zdtype)[0] if isinstance(ds.dtype, ObjectRef) else value[()]
        if isinstance(ds.dtype, Compound):  # compounds cannot be fill values portably: write a chunk
            arr = zgroup.create_array(name, shape=(), dtype=zdtype, attributes=attrs, overwrite=True)
            arr[()] = to_storage(ds.dtype, value, zdtype)
            return
        if isinstance(stored, np.generic):
            stored = stored.item()
        zgroup.create_array(name, shape=(), dtype=zdtype, fill_value=stored, attributes=attrs, overwrite=True)

    def _layout(self, ds: Dataset, shape: tuple[int, ...]) -> Layout:
        given = ds.layout or Layout()
        if not is_numeric(ds.dtype):
            chunks = given.chunks or tuple(max(1, n) for n in shape)
            return Layout(chunks=chunks, compression=None)
        dtype = np.dtype(ds.dtype)  # type: ignore[arg-type]
        policy = default_layout(shape, dtype, given.access)
        chunks = given.chunks or policy.chunks or shape
        shards = given.shards if given.chunks else (given.shards or policy.shards)
        if chunks is not None and shards is not None and any(s % c for s, c in zip(shards, chunks, strict=True)):
            shards = None
        return Layout(chunks=chunks, shards=shards, compression=given.compression or default_compression(dtype))

    def _fill_data(self, arr: zarr.Array[Any], ds: Dataset, zdtype: Any, layout: Layout) -> None:
        if 0 in ds.shape:
            return
        unit = layout.shards or layout.chunks or ds.shape
        itemsize = np.dtype(zdtype).itemsize if not isinstance(zdtype, type) else 64
        if is_dask_array(ds.data) and self._write_dask(arr, ds.data):
            return
        if copy_raw(arr, ds.data, self.progress, self.budget):  # source chunks encoded as ours: bytes copied as-is
            return
        block = block_shape(ds.shape, tuple(unit), itemsize, self.budget)
        if ShardLayout.of(arr) is None:  # zarr writes it, chunk by chunk: nothing left in flight
            with region_writer(arr) as put:
                self._fill_regions(arr, ds, zdtype, block, tuple(unit), itemsize, put)
            return
        self._in_flight.close()  # the previous array's last shards are stored before this one's start
        put = self._in_flight.enter_context(region_writer(arr))  # left open: see ``write``
        self._fill_regions(arr, ds, zdtype, block, tuple(unit), itemsize, put)

    def _fill_regions(
        self,
        arr: zarr.Array[Any],
        ds: Dataset,
        zdtype: Any,
        block: tuple[int, ...],
        unit: tuple[int, ...],
        itemsize: int,
        put: PutRegion,
    ) -> None:
        # only what the source stores: the rest stays the fill value (sparse arrays copy fast)
        for region in stored_regions(ds.data, ds.shape, block, unit):
            if reusable(arr, region):  # its shards are kept from an interrupted attempt (convert --resume)
                if is_numeric(ds.dtype):
                    self.progress.advance(math.prod(s.stop - s.start for s in region) * itemsize)
                continue
            values = read_region(ds.data, region)
            stored = to_storage(ds.dtype, values, zdtype)
            put(region, stored)
            if is_numeric(ds.dtype):
                self.progress.advance(values.nbytes)
            del values, stored  # one block in memory at a time, not two while the next is read

    def _write_dask(self, arr: zarr.Array[Any], data: Any) -> bool:
        """Shards written by Dask tasks (on a cluster, by its workers); False if the array is not sharded."""
        recorder = arr.store_path.store
        if not isinstance(recorder, ManifestStore):
            return False
        sync(recorder.flush())  # the workers open the array from the store underneath
        objects = write_dask_shards(arr, data, recorder.wrapped, progress=self.progress.advance)
        if objects is None:
            return False
        recorder.add(objects)
        return True

    def _fill_stream(self, arr: zarr.Array[Any], stream: FrameStream, layout: Layout) -> None:
        """Write frames as they arrive, one storage unit (shard or chunk depth) at a time.

        Holds at most one unit of frames plus the block being split; grows the array geometrically when
        the length was not announced and trims it to the frames that came.
        """
        depth = (layout.shards or layout.chunks or arr.shape)[0]
        pending: list[np.ndarray] = []
        held = written = 0
        with region_writer(arr) as put:
            for block in stream.blocks():
                pending.append(block)
                held += len(block)
                while held >= depth:
                    rows = np.concatenate(pending)
                    pending.clear()  # the frames now live in ``rows`` only
                    written = self._put_rows(arr, written, rows[:depth], put)
                    # a copy of the remainder, so that the shard's rows are freed now
                    pending, held = ([rows[depth:].copy()], len(rows) - depth) if len(rows) > depth else ([], 0)
                    del rows
            if held:
                written = self._put_rows(arr, written, np.concatenate(pending), put)
        if arr.shape[0] != written:
            arr.resize((written, *arr.shape[1:]))

    def append_rows(self, arr: zarr.Array[Any], rows: Any) -> None:
        """Add ``rows`` (array-like or FrameStream) after the last row of ``arr``."""
        written = arr.shape[0]
        if isinstance(rows, FrameStream):
            blocks = rows.blocks()
        else:
            rows = rows if hasattr(rows, "shape") else np.asarray(rows)
            step = block_shape(tuple(rows.shape), tuple(arr.shards or arr.chunks), arr.dtype.itemsize, self.budget)[0]
            blocks = (read_region(rows, (slice(i, min(i + step, len(rows))),)) for i in range(0, len(rows), step))
        with region_writer(arr) as put:
            for item in blocks:
                block = np.asarray(item)
                if block.shape[1:] != arr.shape[1:]:
                    raise ValidationError(
                        f"{arr.path}: new rows have shape {block.shape[1:]}, the array's are {arr.shape[1:]}"
                    )
                end = written + len(block)
                arr.resize((end, *arr.shape[1:]))
                put((slice(written, end), *(slice(0, n) for n in arr.shape[1:])), block.astype(arr.dtype, copy=False))
                self.progress.advance(block.nbytes)
                written = end

    def _put_rows(self, arr: zarr.Array[Any], start: int, rows: np.ndarray, put: PutRegion) -> int:
        end = start + len(rows)
        if arr.shape[0] < end:
            arr.resize((max(end, 2 * arr.shape[0]), *arr.shape[1:]))
        put((slice(start, end), *(slice(0, n) for n in arr.shape[1:])), rows)
        self.progress.advance(rows.nbytes)
        return end


def _itemsize(dtype: DataType) -> int:
    return dtype.itemsize if isinstance(dtype, np.dtype) else 1


def _fill(dtype: DataType) -> Any:
    if isinstance(dtype, (Text, ObjectRef)):
        return ""
    if isinstance(dtype, Compound):
        return None
    return 0 if dtype.kind != "b" else False
