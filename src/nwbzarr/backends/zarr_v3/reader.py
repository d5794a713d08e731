"""Read a Zarr v3 NWB store into a tree whose datasets are lazy arrays.

With consolidated metadata (which nwbzarr and hdmf-zarr write) the whole hierarchy comes from the
root ``zarr.json``: opening costs one request and lists nothing.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import zarr
from zarr.core.metadata import ArrayV3Metadata

from nwbzarr.abc.array import Index, LazyArray
from nwbzarr.backends.zarr_v3.attributes import decode_attrs, parse_links
from nwbzarr.backends.zarr_v3.codecs import compression_from_zarr
from nwbzarr.backends.zarr_v3.dtypes import tree_dtype
from nwbzarr.backends.zarr_v3.shard_format import ShardLayout
from nwbzarr.backends.zarr_v3.shard_reader import COALESCE_GAP, ShardReader
from nwbzarr.backends.zarr_v3.stored import stored_chunk_origins
from nwbzarr.core.dtypes import DataType
from nwbzarr.errors import InvalidStoreError, NWBZarrError, UnsafeDataError
from nwbzarr.storage.jsonlimits import parse_json
from nwbzarr.storage.keys import check_node_path, check_store_key
from nwbzarr.tree.layout import Layout
from nwbzarr.tree.nodes import Dataset, Group, Reference
from nwbzarr.tree.values import from_storage

__all__ = ["ZarrLazyArray", "read_tree"]


def _read_config(array: zarr.Array[Any]) -> zarr.Array[Any]:
    """Strided reads of sharded arrays go through zarr: merge ranges as nwbzarr's reader does."""
    if array.shards is None:
        return array
    return array.with_config({"sharding_coalesce_max_gap_bytes": COALESCE_GAP})


def _shard_reader(array: zarr.Array[Any], where: str) -> ShardReader | None:
    layout = ShardLayout.of(array)  # from the metadata in memory: no request
    return ShardReader(layout, where) if layout is not None else None


class ZarrLazyArray(LazyArray):
    """A zarr array seen through the tree's types; slicing reads only the chunks it touches."""

    def __init__(self, array: zarr.Array[Any], dtype: DataType, path: str) -> None:
        self._array = _read_config(array)
        self._shard_reader = _shard_reader(self._array, path)
        self._dtype = dtype
        self.path = path

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self._array.shape)

    @property
    def dtype(self) -> DataType:
        return self._dtype

    @property
    def chunks(self) -> tuple[int, ...] | None:
        shards = self._array.shards
        return tuple(shards) if shards else tuple(self._array.chunks)

    def stored_chunks(self) -> list[tuple[int, ...]] | None:
        """Origins of the chunks the store holds (a sparse copy writes only these); None if unknown."""
        return stored_chunk_origins(self._array, self.path)

    def rebind(self, array: zarr.Array[Any]) -> None:
        """Point at ``array`` (the same node after it grew)."""
        self._array = _read_config(array)
        self._shard_reader = _shard_reader(self._array, self.path)

    def _by_nwbzarr(self, key: Index) -> np.ndarray | None:
        """Sharded arrays nwbzarr can decode are read by it: all requests at once, decoded in threads."""
        return self._shard_reader.read(key) if self._shard_reader is not None else None

    @property
    def zarr_array(self) -> zarr.Array[Any]:
        return self._array

    def _read(self, key: Index) -> np.ndarray:
        try:
            direct = self._by_nwbzarr(key)
            out = direct if direct is not None else np.asarray(self._array[key])
        except NWBZarrError:
            raise
        except (ValueError, KeyError, OSError, RuntimeError, TypeError, SystemError, IndexError, OverflowError) as exc:
            raise InvalidStoreError(f"{self.path}: cannot read {_show(key)}: {type(exc).__name__}: {exc}") from exc
        return _from_storage(self._dtype, out)


def _show(key: Index) -> str:
    return "[" + ", ".join(f"{k.start}:{k.stop}" if isinstance(k, slice) else str(k) for k in key) + "]"


def _from_storage(dtype: DataType, out: np.ndarray) -> np.ndarray:
    return from_storage(dtype, out, _reference)


def _reference(value: Any) -> Reference:
    text = str(value)
    if text.startswith("{"):  # pre-release v3 files stored {"source", "path"} as JSON text
        parsed = parse_json(text, what="an object reference")
        if not isinstance(parsed, dict) or not isinstance(parsed.get("path"), str):
            raise InvalidStoreError(f"an object reference without a path: {text[:200]!r}")
        path = check_node_path(parsed["path"], what="an object reference")
        return Reference(path=path, source=str(parsed.get("source", ".")))
    return Reference(path=check_node_path(text, what="an object reference"))


def read_tree(root: zarr.Group) -> Group:
    """The tree of an open zarr group (all metadata at once, from consolidated metadata if present)."""
    tree = _group_node(root, "/")
    nodes: dict[str, Group] = {"/": tree}
    for rel, node in sorted(root.members(max_depth=None), key=lambda item: item[0].count("/")):
        path = "/" + check_store_key(rel, what="a node of the consolidated metadata")
        parent_path, _, name = path.rpartition("/")
        parent = nodes.get(parent_path or "/")
        if parent is None:
            raise InvalidStoreError(f"{path}: parent group missing from the metadata")
        if isinstance(node, zarr.Group):
            child = _group_node(node, path)
            nodes[path] = child
            parent.members[name] = child
        else:
            parent.members[name] = _dataset_node(node, path)
    for path, group in nodes.items():  # links after the real members, so a name clash is visible
        raw_attrs = _raw_attrs(root if path == "/" else root[path.lstrip("/")], path)
        for name, link in parse_links(raw_attrs.get("_LINKS"), path).items():
            if name in group.members:
                raise InvalidStoreError(f"{path}: link {name!r} has the name of a member")
            group.members[name] = link
    return tree


def _codec_names(codecs: list[Any]) -> set[str]:
    names: set[str] = set()
    for codec in codecs:
        if isinstance(codec, dict):
            names.add(str(codec.get("name")))
            config = codec.get("configuration") or {}
            if isinstance(config, dict):
                names |= _codec_names(list(config.get("codecs") or []) + list(config.get("index_codecs") or []))
    return names


def _raw_attrs(node: zarr.Group | zarr.Array[Any], path: str) -> dict[str, Any]:
    attrs = node.attrs.asdict()
    if not isinstance(attrs, dict):
        raise InvalidStoreError(f"{path}: attributes are not a JSON object")
    return attrs


def _group_node(group: zarr.Group, path: str) -> Group:
    return Group(attrs=decode_attrs(_raw_attrs(group, path), path))


def _dataset_node(array: zarr.Array[Any], path: str) -> Dataset:
    raw = _raw_attrs(array, path)
    metadata = array.metadata
    if not isinstance(metadata, ArrayV3Metadata):
        raise InvalidStoreError(f"{path}: a Zarr v2 array inside a v3 store")
    codec_names = _codec_names([c.to_dict() for c in metadata.codecs])
    unsafe = sorted(n for n in codec_names if "pickle" in n)
    if unsafe:
        raise UnsafeDataError(
            f"{path}: encoded with {', '.join(unsafe)}, which runs code from the file when decoded; nwbzarr refuses it"
        )
    native = metadata.data_type.to_native_dtype()
    dtype = tree_dtype(np.dtype(native) if not isinstance(native, np.dtype) else native, raw, path)
    dims = raw.get("_ARRAY_DIMENSIONS")
    layout = (
        Layout(
            chunks=tuple(array.chunks) if array.shape else None,
            shards=tuple(array.shards) if array.shards else None,
            compression=compression_from_zarr([c.to_dict() for c in metadata.codecs]),
        )
        if array.shape
        else None
    )
    return Dataset(
        dtype=dtype,
        data=ZarrLazyArray(array, dtype, path),
        attrs=decode_attrs(raw, path),
        dims=tuple(dims) if isinstance(dims, list) else None,
        layout=layout,
    )
