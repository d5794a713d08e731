"""Read an NWB HDF5 file (PyNWB's or ours) into the tree, with lazy datasets.

Soft links become Link members, external links Links with the other file as source; object
references become :class:`Reference` values; text keeps its encoding (PyNWB writes isodatetime as
ASCII) so HDF5 -> Zarr -> HDF5 restores it; chunking and gzip/shuffle become the dataset's Layout.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np

from nwbzarr.abc.array import Index, LazyArray, as_box, drop_integer_axes
from nwbzarr.backends.hdf5.chunks import GzipChunkReader
from nwbzarr.core.dtypes import ASCII, REF, UTF8, Compound, CompoundField, DataType, FieldType, Text
from nwbzarr.core.optional import require
from nwbzarr.errors import InvalidStoreError, NWBZarrError
from nwbzarr.tree.layout import Compression, Layout
from nwbzarr.tree.nodes import Dataset, Group, Link, Reference
from nwbzarr.tree.values import Ascii, canonical_attribute, from_storage

__all__ = ["H5LazyArray", "read_tree"]

_HIDDEN_ATTRS = frozenset({".specloc"})


class H5LazyArray(LazyArray):
    """An h5py dataset seen through the tree's types; slicing reads only what it asks for."""

    def __init__(self, dataset: Any, dtype: DataType) -> None:
        self._dataset = dataset
        self._dtype = dtype
        self.path: str = dataset.name

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self._dataset.shape)

    @property
    def dtype(self) -> DataType:
        return self._dtype

    @property
    def h5py_dataset(self) -> Any:
        """The h5py dataset underneath (a raw copy reads its stored chunks)."""
        return self._dataset

    @property
    def chunks(self) -> tuple[int, ...] | None:
        chunks = self._dataset.chunks
        return tuple(chunks) if chunks else None

    def stored_chunks(self) -> list[tuple[int, ...]] | None:
        """Origins of the allocated chunks (HDF5 allocates them lazily), for copies that skip the rest.

        None when every block must be read: contiguous storage, text or compounds, or a fill value other
        than 0 (a destination fills unwritten chunks with 0).
        """
        ds = self._dataset
        if not ds.chunks or not isinstance(self._dtype, np.dtype) or self._dtype.kind not in "biuf":
            return None
        if ds.fillvalue is not None and np.any(np.asarray(ds.fillvalue) != 0):
            return None
        return list(self._chunk_index)

    @cached_property
    def _chunk_index(self) -> tuple[tuple[int, ...], ...]:
        """Read once: a conversion asks for the chunks to plan the layout, then to copy."""
        ds = self._dataset
        origins: list[tuple[int, ...]] = []
        try:
            ds.id.chunk_iter(lambda info: origins.append(tuple(info.chunk_offset)))
        except (AttributeError, NotImplementedError):  # HDF5 < 1.12.3: one call per chunk
            origins = [tuple(ds.id.get_chunk_info(i).chunk_offset) for i in range(ds.id.get_num_chunks())]
        return tuple(origins)

    @property
    def foreign_storage(self) -> str | None:
        """What holds the data if not this file: external raw files or a virtual dataset's sources."""
        ds = self._dataset
        if ds.is_virtual:
            files = sorted({source.file_name for source in ds.virtual_sources()})
            return f"a virtual dataset mapping {', '.join(files)}"
        if ds.external:
            return f"external raw storage in {', '.join(sorted({str(entry[0]) for entry in ds.external}))}"
        return None

    def _read(self, key: Index) -> np.ndarray:
        try:
            raw = self._inflated(key)
            if raw is None:
                raw = np.asarray(self._dataset.asstr()[key] if isinstance(self._dtype, Text) else self._dataset[key])
        except (OSError, ValueError, TypeError) as exc:
            raise InvalidStoreError(f"{self.path}: cannot read: {exc}") from exc
        return from_storage(self._dtype, raw, lambda ref: _reference(self._dataset.file, ref, self.path))

    @cached_property
    def _gzip(self) -> GzipChunkReader | None:
        """Looked up on the first read: opening a file makes an array for every dataset, most never read."""
        return GzipChunkReader.of(self._dataset) if isinstance(self._dtype, np.dtype) else None

    def _inflated(self, key: Index) -> np.ndarray | None:
        """``key`` read by :class:`GzipChunkReader` (gzip chunks inflated on every core), if it applies."""
        box = as_box(key)
        out = self._gzip.read(box) if self._gzip is not None and box is not None else None
        return None if out is None else drop_integer_axes(out, key)


def _reference(file: Any, ref: Any, where: str) -> Reference:
    if not ref:
        raise InvalidStoreError(f"{where}: a null object reference")
    try:
        name = file[ref].name
    except (KeyError, ValueError) as exc:
        raise InvalidStoreError(f"{where}: a reference to a missing object: {exc}") from exc
    if name is None:
        raise InvalidStoreError(f"{where}: a reference to an anonymous object")
    return Reference(path=name)


def _field_type(h5py: Any, dtype: np.dtype) -> FieldType:
    text = h5py.check_string_dtype(dtype)
    if text is not None:
        return ASCII if text.encoding == "ascii" else UTF8
    if h5py.check_ref_dtype(dtype) is not None:
        return REF
    return dtype


def tree_dtype(h5py: Any, dtype: np.dtype) -> DataType:
    if dtype.names:
        return Compound(fields=tuple(CompoundField(name=n, dtype=_field_type(h5py, dtype[n])) for n in dtype.names))
    return _field_type(h5py, dtype)


def _attr_value(h5py: Any, file: Any, value: Any, ascii: bool, where: str) -> Any:
    """One attribute in the tree's typed form (see :mod:`nwbzarr.tree.values`): text keeps its encoding."""
    if isinstance(value, h5py.Reference):
        return _reference(file, value, where)
    if isinstance(value, (bytes, np.bytes_)):
        text = value.decode("ascii" if ascii else "utf-8", errors="surrogateescape")
        return Ascii(text) if ascii else text
    if isinstance(value, str):
        return Ascii(value) if ascii else str(value)
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "OSU":
            return [_attr_value(h5py, file, v, ascii, where) for v in value.ravel()]
        return value
    return canonical_attribute(value)


def _is_ascii(h5py: Any, node: Any, key: str) -> bool:
    text = h5py.check_string_dtype(node.attrs.get_id(key).dtype)
    return text is not None and text.encoding == "ascii"


def _attrs(h5py: Any, node: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in node.attrs:
        if key in _HIDDEN_ATTRS:
            continue
        try:
            ascii = _is_ascii(h5py, node, key)
            out[key] = _attr_value(h5py, node.file, node.attrs[key], ascii, f"{node.name}@{key}")
        except (OSError, TypeError) as exc:
            raise InvalidStoreError(f"{node.name}@{key}: unreadable attribute: {exc}") from exc
    return out


def _layout(dataset: Any) -> Layout | None:
    if not dataset.chunks:
        return None
    compression = None
    if dataset.compression == "gzip":
        level = int(dataset.compression_opts or 4)
        compression = Compression(codec="gzip", level=level, shuffle="byte" if dataset.shuffle else "none")
    elif dataset.compression is not None:
        compression = Compression(codec="zstd", level=3, shuffle="byte" if dataset.shuffle else "none")
    return Layout(chunks=tuple(dataset.chunks), compression=compression)


def read_tree(file: Any) -> Group:
    """The tree of an open ``h5py.File`` (metadata only; datasets stay in the file)."""
    h5py = require("h5py", "reading HDF5 files")
    try:
        return _group(h5py, file)
    except NWBZarrError:
        raise
    except (OSError, KeyError, ValueError, TypeError) as exc:
        raise InvalidStoreError(f"{file.filename}: unreadable HDF5 structure: {exc}") from exc


def _group(h5py: Any, group: Any) -> Group:
    node = Group(attrs=_attrs(h5py, group))
    for name in group:
        link = group.get(name, getlink=True)
        if isinstance(link, h5py.SoftLink):
            node.members[name] = Link(path=link.path)
        elif isinstance(link, h5py.ExternalLink):
            node.members[name] = Link(path=link.path, source=link.filename)
        else:
            child = group[name]
            if isinstance(child, h5py.Group):
                node.members[name] = _group(h5py, child)
            else:
                dtype = tree_dtype(h5py, child.dtype)
                node.members[name] = Dataset(
                    dtype=dtype, data=H5LazyArray(child, dtype), attrs=_attrs(h5py, child), layout=_layout(child)
                )
    return node
