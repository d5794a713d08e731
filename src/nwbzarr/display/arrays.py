"""What a view can say about an array without reading it: shape, dtype, chunks, shards, codecs, sizes.

Works on lazy arrays from a store (their backend metadata), numpy arrays and :class:`~nwbzarr.DataIO`
wrappers, by duck typing, so it imports no storage library and never touches array data.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from nwbzarr.abc.array import LazyArray
from nwbzarr.core.dtypes import dtype_name, is_numeric
from nwbzarr.tree.layout import Compression
from nwbzarr.writing.dataio import DataIO

__all__ = ["ArrayInfo", "array_info", "free_value", "stored_dtype"]

#: what :func:`free_value` returns when the value would cost a read
NOT_FREE: Any = object()


@dataclass(frozen=True, kw_only=True, slots=True)
class ArrayInfo:
    """Storage facts of one array. ``None`` means unknown (not chunked, not stored yet...)."""

    shape: tuple[int, ...]
    dtype: str
    lazy: bool  # still in the store: nothing of it has been read
    chunks: tuple[int, ...] | None = None  # the unit a read fetches (the inner chunk when sharded)
    shards: tuple[int, ...] | None = None  # the unit stored as one object
    codecs: tuple[str, ...] = ()
    raw_nbytes: int | None = None  # decoded size (numeric dtypes only)
    stored_nbytes: int | None = None  # bytes in the store, when the backend knows them


def array_info(data: Any) -> ArrayInfo | None:
    """Facts about ``data`` if it is an array (lazy, numpy or wrapped in DataIO), else ``None``."""
    if isinstance(data, DataIO):
        inner = array_info(data.data)
        if inner is None:
            return None
        layout = data.layout
        return ArrayInfo(
            shape=inner.shape,
            dtype=inner.dtype,
            lazy=inner.lazy,
            chunks=layout.chunks or inner.chunks,
            shards=layout.shards or inner.shards,
            codecs=(_compression_name(layout.compression),) if layout.compression else inner.codecs,
            raw_nbytes=inner.raw_nbytes,
        )
    if isinstance(data, LazyArray):
        return _lazy_info(data)
    if isinstance(data, np.ndarray):
        numeric = data.dtype.kind in "biuf"
        return ArrayInfo(
            shape=tuple(data.shape),
            dtype=str(data.dtype) if data.dtype.names is None else "compound{" + ",".join(data.dtype.names) + "}",
            lazy=False,
            raw_nbytes=int(data.nbytes) if numeric or data.dtype.names else None,
        )
    shape, dtype = getattr(data, "shape", None), getattr(data, "dtype", None)
    if isinstance(shape, tuple) and dtype is not None:  # another array-like (a lazy movie source...)
        npdtype = np.dtype(dtype) if isinstance(dtype, (np.dtype, type, str)) else None
        raw = math.prod(shape) * npdtype.itemsize if npdtype is not None and npdtype.kind in "biuf" else None
        return ArrayInfo(shape=tuple(int(n) for n in shape), dtype=str(dtype), lazy=True, raw_nbytes=raw)
    return None


def free_value(data: Any) -> Any:
    """The value of a stored scalar when it costs no read, else :data:`NOT_FREE`.

    A 0-d array keeps its value as its fill value in the consolidated metadata (already in memory) when
    no chunk object was written; the store's manifest, read at open, says so. Without a manifest an
    absent chunk cannot be told from a present one without a request, so the value is not free.
    """
    if not isinstance(data, LazyArray) or data.shape != ():
        return NOT_FREE
    zarr_array = getattr(data, "zarr_array", None)
    metadata = getattr(zarr_array, "metadata", None)
    encode = getattr(metadata, "encode_chunk_key", None)
    objects = _manifest_objects(getattr(zarr_array, "store", None))
    if objects is None or not callable(encode):
        return NOT_FREE
    path = str(getattr(zarr_array, "path", "") or "")
    key = f"{path}/{encode(())}" if path else str(encode(()))
    if key in objects:
        return NOT_FREE  # the value is in a chunk object: reading it is a request
    value = getattr(metadata, "fill_value", None)
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return value if isinstance(value, (str, int, float, bool)) else NOT_FREE


def _manifest_objects(store: Any) -> Any:
    """The objects the manifest lists, from the checking wrapper a complete store is read through."""
    for _ in range(8):  # wrappers of wrappers, never a cycle
        if store is None:
            return None
        objects = getattr(store, "objects", None)
        if isinstance(objects, Mapping | frozenset | set):
            return objects
        store = getattr(store, "_store", None)
    return None


def stored_dtype(data: Any) -> str | None:
    """The dtype as stored (``float64`` where the schema allows float32), without reading."""
    return dtype_name(data.dtype) if isinstance(data, LazyArray) else None


def _lazy_info(data: LazyArray) -> ArrayInfo:
    raw = data.size * data.numpy_dtype.itemsize if is_numeric(data.dtype) or _is_struct(data) else None
    stored = getattr(data, "stored_nbytes", None)  # a backend that knows its object sizes may say
    chunks, shards = data.chunks, None
    codecs: tuple[str, ...] = ()
    zarr_array = getattr(data, "zarr_array", None)
    if zarr_array is not None:
        shards = _shape_or_none(getattr(zarr_array, "shards", None))
        chunks = _shape_or_none(getattr(zarr_array, "chunks", None)) or chunks
        codecs = _zarr_codecs(zarr_array)
    return ArrayInfo(
        shape=tuple(data.shape),
        dtype=dtype_name(data.dtype),
        lazy=True,
        chunks=chunks,
        shards=shards,
        codecs=codecs,
        raw_nbytes=raw,
        stored_nbytes=stored if isinstance(stored, int) else None,
    )


def _is_struct(data: LazyArray) -> bool:
    dt = data.numpy_dtype
    return dt.names is not None and all(dt[n].kind in "biuf" for n in dt.names)


def _shape_or_none(value: Any) -> tuple[int, ...] | None:
    if isinstance(value, tuple) and value and all(isinstance(n, int) for n in value):
        return value
    return None


def _zarr_codecs(zarr_array: Any) -> tuple[str, ...]:
    """The codecs that transform a chunk's bytes (filters and compressors; not the plain byte order)."""
    out: list[str] = []
    for attribute in ("filters", "compressors"):
        for codec in getattr(zarr_array, attribute, ()) or ():
            out.append(_codec_name(codec))
    return tuple(out)


def _codec_name(codec: Any) -> str:
    to_dict = getattr(codec, "to_dict", None)
    spec = to_dict() if callable(to_dict) else None
    if not isinstance(spec, Mapping):
        return type(codec).__name__.removesuffix("Codec").lower()
    name = str(spec.get("name", type(codec).__name__))
    config = spec.get("configuration") or {}
    if not isinstance(config, Mapping):
        return name
    if name == "blosc":
        shuffle = config.get("shuffle")
        extra = f", {shuffle}" if shuffle not in (None, "noshuffle") else ""
        return f"blosc({config.get('cname')}, level {config.get('clevel')}{extra})"
    if "level" in config:
        return f"{name}(level {config['level']})"
    return name


def _compression_name(c: Compression) -> str:
    shuffle = f", {c.shuffle} shuffle" if c.shuffle != "none" else ""
    inner = f"{c.codec}(level {c.level}{shuffle})"
    return f"blosc-{inner}" if c.blosc else inner
