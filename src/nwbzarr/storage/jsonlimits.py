"""Bounded JSON from a store: a document's size and nesting depth are checked before it is parsed.

A hostile store can hold a metadata document of gigabytes, or ``[[[[...]]]]`` nested deeper than
Python's recursion limit (``json.loads`` then raises ``RecursionError``, and so does any recursive
walk of what it returned). Every JSON document nwbzarr reads from a store (manifest, lock, journal,
``zarr.json``) goes through :func:`check_json` or :func:`parse_json`, which refuse both with an
:class:`~nwbzarr.errors.InvalidStoreError` naming the document.
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np

from nwbzarr.errors import InvalidStoreError

__all__ = ["MAX_JSON_BYTES", "MAX_JSON_DEPTH", "check_json", "json_depth", "parse_json"]

#: the largest metadata document nwbzarr parses (a consolidated root of thousands of nodes is a few MiB)
MAX_JSON_BYTES = 16 * 1024**2
#: the deepest nesting of arrays and objects (NWB metadata is about 10 deep; Python recurses at ~1000)
MAX_JSON_DEPTH = 128

# a JSON string, unrolled so that the regex engine never backtracks ("..." with escapes)
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_OPEN = np.frombuffer(b"[{", dtype=np.uint8)
_CLOSE = np.frombuffer(b"]}", dtype=np.uint8)


def json_depth(data: bytes) -> int:
    """The deepest nesting of ``[``/``{`` outside strings, in linear time and without recursion."""
    codes = np.frombuffer(_STRING.sub(b'""', data), dtype=np.uint8)
    opens = np.isin(codes, _OPEN)
    brackets = np.flatnonzero(opens | np.isin(codes, _CLOSE))
    if brackets.size == 0:
        return 0
    steps = np.where(opens[brackets], 1, -1).astype(np.int32)
    return int(np.cumsum(steps).max())


def check_json(data: bytes, *, what: str, max_bytes: int = MAX_JSON_BYTES, max_depth: int = MAX_JSON_DEPTH) -> bytes:
    """``data`` unchanged if it is small and shallow enough to parse; else InvalidStoreError naming ``what``."""
    if len(data) > max_bytes:
        raise InvalidStoreError(
            f"{what}: a metadata document of {len(data)} bytes, more than the {max_bytes} nwbzarr reads"
        )
    depth = json_depth(data)
    if depth > max_depth:
        raise InvalidStoreError(f"{what}: JSON nested {depth} levels deep, more than the {max_depth} nwbzarr reads")
    return data


def parse_json(
    data: bytes | str, *, what: str, max_bytes: int = MAX_JSON_BYTES, max_depth: int = MAX_JSON_DEPTH
) -> Any:
    """The JSON value of ``data`` after :func:`check_json`; malformed JSON is an InvalidStoreError too."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else bytes(data)
    check_json(raw, what=what, max_bytes=max_bytes, max_depth=max_depth)
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise InvalidStoreError(f"{what}: not valid JSON ({exc})") from exc
