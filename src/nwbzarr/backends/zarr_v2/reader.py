"""Read legacy Zarr v2 NWB stores (hdmf-zarr <= 0.13, most ``.nwb.zarr`` assets on DANDI) into the tree.

The store is read as plain JSON metadata (``.zmetadata`` when present, else ``.zgroup``/``.zarray``/
``.zattrs`` found by listing) and chunks decoded with numcodecs, so no Zarr v2 library is needed. The v2
conventions map to the tree: ``zarr_link`` -> Link members, ``{"zarr_dtype": "object", "value": ...}``
attributes -> References, ``zarr_dtype: "scalar"`` shape-[1] arrays -> 0-d datasets, reference arrays
(object dicts) -> Reference arrays. Arrays encoded with **pickle** are listed but never decoded unless
the caller allows it, since decoding pickle runs code from the file.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
from zarr.abc.store import Store
from zarr.core.buffer import default_buffer_prototype
from zarr.core.sync import sync

from nwbzarr.abc.array import Index, LazyArray
from nwbzarr.core.blosc_frames import blosc_frame_problem
from nwbzarr.core.dtypes import ASCII, REF, UTF8, Compound, CompoundField, DataType
from nwbzarr.errors import InvalidStoreError, UnsafeDataError
from nwbzarr.storage.jsonlimits import parse_json
from nwbzarr.tree.layout import Compression, Layout
from nwbzarr.tree.nodes import Dataset, Group, Link, Reference
from nwbzarr.tree.values import from_storage, numbers_as_array

__all__ = ["V2LazyArray", "read_v2_tree"]

_RESERVED = frozenset({"zarr_dtype", "zarr_link", ".specloc", "_ARRAY_DIMENSIONS"})


def _get(store: Store, key: str) -> bytes | None:
    buffer = sync(store.get(key, prototype=default_buffer_prototype()))
    return None if buffer is None else buffer.to_bytes()


def _json(store: Store, key: str) -> Any:
    raw = _get(store, key)
    if raw is None:
        return None
    return parse_json(raw, what=key)  # bounded size and depth: InvalidStoreError, never RecursionError


def _metadata(store: Store) -> dict[str, Any]:
    consolidated = _json(store, ".zmetadata")
    if isinstance(consolidated, dict) and isinstance(consolidated.get("metadata"), dict):
        metadata: dict[str, Any] = consolidated["metadata"]
        return metadata

    async def _keys() -> list[str]:
        return [key async for key in store.list()]

    out: dict[str, Any] = {}
    for key in sync(_keys()):
        if key.rsplit("/", 1)[-1] in (".zgroup", ".zarray", ".zattrs"):
            out[key] = _json(store, key)
    return out


def _uses_pickle(meta: dict[str, Any]) -> bool:
    """Whether any codec slot of a ``.zarray`` (filters, compressor, object codec) is pickle.

    Checked here, whatever numcodecs' own unsafe-codec setting in the environment says: decoding
    pickle runs code from the file.
    """
    filters = meta.get("filters")
    slots: list[Any] = list(filters) if isinstance(filters, list) else [filters]
    slots += [meta.get("compressor"), meta.get("object_codec")]
    return any(isinstance(slot, dict) and "pickle" in str(slot.get("id", "")).lower() for slot in slots)


class V2LazyArray(LazyArray):
    """A v2 array read chunk by chunk with numcodecs; slicing reads only the chunks it touches."""

    def __init__(
        self, store: Store, path: str, meta: dict[str, Any], dtype: DataType, *, scalar: bool, allow_pickle: bool
    ) -> None:
        self._store, self.path, self._meta = store, path, meta
        self._dtype = dtype
        self._scalar = scalar
        self._stored_shape = tuple(int(n) for n in meta["shape"])
        self._chunks = tuple(int(n) for n in meta["chunks"])
        self._separator = meta.get("dimension_separator", ".")
        self.pickled = _uses_pickle(meta)
        self._allow_pickle = allow_pickle

    @property
    def shape(self) -> tuple[int, ...]:
        return () if self._scalar else self._stored_shape

    @property
    def dtype(self) -> DataType:
        return self._dtype

    @property
    def chunks(self) -> tuple[int, ...] | None:
        return None if self._scalar else self._chunks

    @property
    def v2_encoding(self) -> tuple[Store, str, dict[str, Any]] | None:
        """The store, key prefix and ``.zarray`` of the array (a raw copy reads its chunks); None for scalars."""
        return None if self._scalar else (self._store, self.path.lstrip("/"), self._meta)

    def _read(self, key: Index) -> np.ndarray:
        if self._scalar:
            return self._region((slice(0, 1),))[0:1].reshape(())
        return self._region(key)

    def _region(self, key: Index) -> np.ndarray:
        if self.pickled and not self._allow_pickle:
            raise UnsafeDataError(
                f"{self.path}: encoded with pickle, which runs code from the file when decoded; pass "
                "allow_pickle=True (or --allow-pickle) only for files you trust"
            )
        starts = [k if isinstance(k, int) else k.start for k in key]
        stops = [k + 1 if isinstance(k, int) else k.stop for k in key]
        shape = tuple(max(0, b - a) for a, b in zip(starts, stops, strict=True))
        out = np.empty(shape, dtype=self._numpy())
        ranges = [
            range(a // c, -(-b // c)) if b > a else range(0)
            for a, b, c in zip(starts, stops, self._chunks, strict=True)
        ]
        for corner in np.ndindex(*[len(r) for r in ranges]):
            index = [r[i] for r, i in zip(ranges, corner, strict=True)]
            chunk = self._chunk(index)
            src, dst = [], []
            for i, c, a, b, n in zip(index, self._chunks, starts, stops, self._stored_shape, strict=True):
                lo, hi = max(a, i * c), min(b, (i + 1) * c, n)
                src.append(slice(lo - i * c, hi - i * c))
                dst.append(slice(lo - a, hi - a))
            out[tuple(dst)] = chunk[tuple(src)]
        out = out[tuple(0 if isinstance(k, int) else slice(None, None, k.step) for k in key)]
        return self._convert(out)

    def _numpy(self) -> np.dtype:
        raw = self._meta["dtype"]
        return np.dtype([tuple(f) for f in raw]) if isinstance(raw, list) else np.dtype(raw)

    def _chunk(self, index: list[int]) -> np.ndarray:
        import numcodecs

        key = (
            f"{self.path.lstrip('/')}/{self._separator.join(map(str, index))}"
            if index
            else f"{self.path.lstrip('/')}/0"
        )
        raw = _get(self._store, key)
        dtype = self._numpy()
        if raw is None:
            fill = self._meta.get("fill_value")
            return np.full(self._chunks, fill if dtype.kind not in "OV" else None, dtype=dtype)
        try:
            data: Any = raw
            compressor = self._meta.get("compressor")
            if compressor:
                if compressor.get("id") == "blosc" and (problem := blosc_frame_problem(raw)) is not None:
                    raise InvalidStoreError(f"{key}: {problem}")
                data = numcodecs.get_codec(compressor).decode(data)
            for config in reversed(self._meta.get("filters") or []):
                codec = numcodecs.get_codec(config)
                if config.get("id") == "pickle":
                    import pickle

                    data = pickle.loads(bytes(data))
                else:
                    data = codec.decode(data)
            array = (
                np.frombuffer(data, dtype=dtype)
                if isinstance(data, (bytes, bytearray, memoryview))
                else np.asarray(data, dtype=dtype)
            )
            return array.reshape(self._chunks, order=self._meta.get("order", "C"))
        except (ValueError, TypeError, RuntimeError, KeyError) as exc:
            raise InvalidStoreError(f"{key}: cannot decode chunk: {exc}") from exc

    def _convert(self, values: np.ndarray) -> np.ndarray:
        return from_storage(self._dtype, values, _reference)


def _reference(value: Any) -> Reference:
    if isinstance(value, dict) and isinstance(value.get("path"), str):
        return Reference(path=value["path"], source=str(value.get("source") or "."))
    if isinstance(value, str) and value.startswith("/"):
        return Reference(path=value)
    raise InvalidStoreError(f"not an object reference: {value!r}"[:200])


def _attr(value: Any, where: str) -> Any:
    if isinstance(value, dict) and value.get("zarr_dtype") == "object" and "value" in value:
        try:
            return _reference(value["value"])
        except InvalidStoreError as exc:
            raise InvalidStoreError(f"{where}: {exc}") from None
    return numbers_as_array(value)


def _tree_dtype(meta: dict[str, Any], zarr_dtype: Any, where: str) -> DataType:
    raw = meta["dtype"]
    if isinstance(zarr_dtype, list):  # compound: [{"name", "dtype"}, ...]
        fields = []
        native = dict((f[0], f[1]) for f in raw) if isinstance(raw, list) else {}
        for f in zarr_dtype:
            kind = f.get("dtype")
            if kind in ("object", "region"):
                fields.append(CompoundField(name=f["name"], dtype=REF))
            elif kind in ("str", "text", "utf", "utf8", "utf-8", "ascii", "bytes"):
                fields.append(CompoundField(name=f["name"], dtype=UTF8))
            else:
                fields.append(CompoundField(name=f["name"], dtype=np.dtype(native.get(f["name"], kind))))
        return Compound(fields=tuple(fields))
    if isinstance(raw, list):
        return Compound(fields=tuple(CompoundField(name=f[0], dtype=np.dtype(f[1])) for f in raw))
    if zarr_dtype == "object":
        return REF
    dtype: np.dtype = np.dtype(raw)
    if dtype.kind in "OSU":
        # hdmf-zarr <= 0.13 stored ascii/isodatetime text as bytes (vlen-bytes or |S), utf8 as vlen-utf8
        filters = {f.get("id") for f in meta.get("filters") or () if isinstance(f, dict)}
        as_bytes = zarr_dtype in ("ascii", "bytes") or dtype.kind == "S" or "vlen-bytes" in filters
        return ASCII if as_bytes else UTF8
    return dtype


def _layout(meta: dict[str, Any]) -> Layout | None:
    compressor = meta.get("compressor") or {}
    codec = compressor.get("id")
    compression = None
    if codec == "blosc" and compressor.get("cname") in ("zstd", "lz4"):
        shuffles: dict[int, Literal["none", "byte", "bit"]] = {0: "none", 1: "byte", 2: "bit"}
        compression = Compression(
            codec="zstd" if compressor["cname"] == "zstd" else "lz4",
            level=int(compressor.get("clevel", 5)),
            shuffle=shuffles.get(int(compressor.get("shuffle", 0)), "none"),
            blosc=True,
        )
    elif codec in ("zlib", "gzip"):
        compression = Compression(codec="gzip", level=int(compressor.get("level", 5)))
    elif codec == "zstd":
        compression = Compression(codec="zstd", level=int(compressor.get("level", 3)))
    return Layout(chunks=tuple(int(c) for c in meta["chunks"]), compression=compression)


def read_v2_tree(store: Store, *, allow_pickle: bool = False) -> Group:
    """The tree of a v2 store (metadata only; arrays are lazy)."""
    meta = _metadata(store)
    if ".zgroup" not in meta and _json(store, ".zgroup") is None:
        raise InvalidStoreError("no .zgroup at the root: not a Zarr v2 store")
    groups = sorted(
        {k.rsplit("/", 1)[0] if "/" in k else "" for k, v in meta.items() if k.endswith(".zgroup")} | {""},
        key=lambda p: p.count("/") + (p != ""),
    )
    arrays = sorted(k.rsplit("/", 1)[0] for k in meta if k.endswith(".zarray"))
    nodes: dict[str, Group] = {}
    for rel in groups:
        where = "/" + rel
        attrs = meta.get(f"{rel}/.zattrs" if rel else ".zattrs") or {}
        group = Group(attrs={k: _attr(v, f"{where}@{k}") for k, v in attrs.items() if k not in _RESERVED})
        for link in attrs.get("zarr_link") or []:
            if (
                not isinstance(link, dict)
                or not isinstance(link.get("name"), str)
                or not isinstance(link.get("path"), str)
            ):
                raise InvalidStoreError(f"{where}@zarr_link: malformed entry {link!r}"[:200])
            group.members[link["name"]] = Link(path=link["path"], source=str(link.get("source") or "."))
        nodes[rel] = group
        if rel:
            parent, _, name = rel.rpartition("/")
            if parent not in nodes:
                raise InvalidStoreError(f"/{rel}: parent group missing")
            nodes[parent].members[name] = group
    for rel in arrays:
        where = "/" + rel
        array_meta = meta[f"{rel}/.zarray"]
        attrs = meta.get(f"{rel}/.zattrs") or {}
        zarr_dtype = attrs.get("zarr_dtype")
        scalar = zarr_dtype == "scalar"
        dtype = _tree_dtype(array_meta, zarr_dtype if zarr_dtype != "scalar" else None, where)
        data = V2LazyArray(
            store,
            where,
            array_meta,
            dtype,
            scalar=scalar and math.prod(array_meta["shape"]) == 1,
            allow_pickle=allow_pickle,
        )
        dims = attrs.get("_ARRAY_DIMENSIONS")
        parent, _, name = rel.rpartition("/")
        if parent not in nodes:
            raise InvalidStoreError(f"{where}: parent group missing")
        nodes[parent].members[name] = Dataset(
            dtype=dtype,
            data=data,
            attrs={k: _attr(v, f"{where}@{k}") for k, v in attrs.items() if k not in _RESERVED},
            dims=tuple(dims) if isinstance(dims, list) and data.shape != () else None,
            layout=_layout(array_meta) if data.shape else None,
        )
    return nodes[""]
