"""Inflate HDF5 deflate chunks (zlib streams) with libdeflate when it is installed, zlib otherwise.

Reading a gzip-compressed movie is bound by inflating its chunks: on the benchmark's gzip-4 frame chunks
libdeflate (PyPI ``deflate``, the ``nwbzarr[inflate]`` extra) gives 591 MB/s of raw output on one thread
against zlib's 297 (1,159 against 584 on two; ISA-L's ``isal`` 454 / 904: ``benchmarks/inflate.py``).
Both release the GIL. libdeflate inflates into a buffer of the size the chunk must have and checks the
Adler-32; anything it refuses (a damaged or truncated stream, or one that inflates to more than that size)
is inflated again by zlib, whose answer is the one given: the same bytes as zlib, or zlib's error.

``NWBZARR_INFLATE=zlib`` (or :func:`use`\\ ``("zlib")``) forces zlib; ``libdeflate`` requires it.
"""

from __future__ import annotations

import os
import zlib
from typing import Any

from nwbzarr.errors import NWBZarrError

__all__ = ["CHOICES", "inflate", "library", "use"]

#: what ``NWBZARR_INFLATE`` and :func:`use` accept
CHOICES = ("auto", "libdeflate", "zlib")

#: "forced": what use() set (None: NWBZARR_INFLATE, else auto); "module": ``deflate`` once imported, False if missing
_state: dict[str, Any] = {"forced": None, "module": None}


def use(name: str | None) -> None:
    """Inflate with ``name`` in this process from now on (``None``: back to ``NWBZARR_INFLATE``, else auto)."""
    if name is not None:
        _check(name, f"use({name!r})")
        if name == "libdeflate":
            _require_libdeflate()
    _state["forced"] = name


def library() -> str:
    """``"libdeflate"`` or ``"zlib"``: what :func:`inflate` uses now."""
    chosen = _state["forced"] or os.environ.get("NWBZARR_INFLATE", "") or "auto"
    _check(chosen, f"NWBZARR_INFLATE={chosen!r}")
    if chosen == "zlib":
        return "zlib"
    if chosen == "libdeflate":
        _require_libdeflate()
        return "libdeflate"
    return "libdeflate" if _load() is not None else "zlib"


def inflate(capacity: int | None, data: bytes | memoryview) -> bytes | bytearray:
    """The bytes the zlib stream ``data`` holds, which should be at most ``capacity`` bytes (``None``: unknown).

    Equal to ``zlib.decompress(data)`` always: libdeflate answers only when it inflated the whole stream
    within ``capacity`` and its Adler-32 matched; otherwise zlib decides (and raises ``zlib.error``).
    """
    # a capacity of 0 is zlib's: the ``deflate`` binding answers an empty bytearray for it, whatever the
    # stream holds (found by hypothesis: one stored byte read as none)
    if capacity and library() == "libdeflate":
        module = _load()
        try:
            out: bytearray = module.zlib_decompress(data, capacity)
            return out
        except module.DeflateError:
            pass  # damaged, truncated or bigger than the chunk: zlib's answer (and its words) are the ones given
    return zlib.decompress(data)


def _check(name: str, typed: str) -> None:
    if name not in CHOICES:
        raise NWBZarrError(f"{typed}: expected one of {list(CHOICES)}")


def _load() -> Any:
    """The ``deflate`` module, or None when it is not installed (imported once, on first use)."""
    if _state["module"] is None:
        from nwbzarr.core.optional import require
        from nwbzarr.errors import MissingDependencyError

        try:
            _state["module"] = require("deflate", "inflating HDF5 chunks with libdeflate")
        except MissingDependencyError:
            _state["module"] = False
    return _state["module"] or None


def _require_libdeflate() -> None:
    if _load() is None:
        from nwbzarr.core.optional import require

        require("deflate", "NWBZARR_INFLATE=libdeflate")  # raises, with the install hint
