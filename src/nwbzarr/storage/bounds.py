"""How many bytes one stored object may have: what a store reads is bounded by what it declares.

Metadata documents (``zarr.json``, the v2 documents, nwbzarr's manifest, lock and journal) are at
most :data:`~nwbzarr.storage.jsonlimits.MAX_JSON_BYTES`. A chunk or shard of a Zarr v3 array is at
most its declared uncompressed size plus what the codecs can add (compressors grow incompressible
data by well under 1%, checksums and shard indexes by a few bytes per chunk). Objects whose array
the store cannot know (variable-length text, unknown codecs, Zarr v2) get a generous fixed cap.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["UNKNOWN_OBJECT_BYTES", "array_object_bound", "is_metadata_key"]

#: the cap on an object whose array declares no fixed size
UNKNOWN_OBJECT_BYTES = 2 * 1024**3

_METADATA_NAMES = frozenset(
    {"zarr.json", ".zarray", ".zgroup", ".zattrs", ".zmetadata", "nwbzarr.json", "nwbzarr.lock"}
)
#: codecs whose worst-case output is the input plus a little (so the declared size bounds an object)
_KNOWN_CODECS = frozenset({"bytes", "transpose", "blosc", "zstd", "gzip", "crc32c", "sharding_indexed"})
_PER_CHUNK_OVERHEAD = 1024  # compressor headers and frames, a checksum, a shard index entry
_SLACK = 64 * 1024


def is_metadata_key(key: str) -> bool:
    """Whether ``key`` is a JSON document (zarr's metadata, nwbzarr's bookkeeping) rather than data."""
    return key.rpartition("/")[2] in _METADATA_NAMES or key.startswith("nwbzarr.")  # journal, lock claims


def _codec_names(codecs: Any) -> set[str] | None:
    names: set[str] = set()
    for codec in codecs if isinstance(codecs, list) else ():
        name = codec.get("name") if isinstance(codec, dict) else codec
        if not isinstance(name, str):
            return None
        names.add(name)
    return names


def _inner_chunks(document: dict[str, Any], outer: tuple[int, ...]) -> int | None:
    """Inner chunks per object (1 unless sharded); ``None`` if a codec could grow data without bound."""
    codecs = document.get("codecs")
    names = _codec_names(codecs)
    if names is None or not names <= _KNOWN_CODECS:
        return None
    assert isinstance(codecs, list)
    first = codecs[0] if codecs else None
    if not (isinstance(first, dict) and first.get("name") == "sharding_indexed"):
        return 1
    config = first.get("configuration")
    if not isinstance(config, dict):
        return None
    inner = config.get("chunk_shape")
    inner_names = _codec_names(config.get("codecs"))
    index_names = _codec_names(config.get("index_codecs"))
    if (
        not isinstance(inner, list)
        or len(inner) != len(outer)
        or not all(isinstance(n, int) and n > 0 for n in inner)
        or inner_names is None
        or index_names is None
        or not (inner_names | index_names) <= _KNOWN_CODECS
    ):
        return None
    return int(math.prod(-(-o // i) for o, i in zip(outer, inner, strict=True)))


def array_object_bound(document: dict[str, Any]) -> int | None:
    """The most bytes one chunk (or shard) of the v3 array ``document`` can take, or ``None`` if unknown."""
    if document.get("node_type") != "array" or document.get("zarr_format") != 3:
        return None
    from zarr.core.metadata import ArrayV3Metadata

    try:
        metadata = ArrayV3Metadata.from_dict(dict(document))
        native = metadata.data_type.to_native_dtype()
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError, IndexError, NotImplementedError):
        return None
    dtype = native if isinstance(native, np.dtype) else None
    grid = document.get("chunk_grid")
    shape = grid.get("configuration", {}).get("chunk_shape") if isinstance(grid, dict) else None
    if dtype is None or dtype.hasobject or dtype.kind == "T" or dtype.itemsize == 0:  # variable-length values
        return None
    if not isinstance(shape, list) or not all(isinstance(n, int) and n >= 0 for n in shape):
        return None
    chunks = _inner_chunks(document, tuple(shape))
    if chunks is None:
        return None
    raw = math.prod(shape) * dtype.itemsize
    return raw + raw // 64 + chunks * _PER_CHUNK_OVERHEAD + _SLACK
