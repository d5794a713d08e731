"""Blosc chunks decoded by one direct call into the c-blosc that numcodecs bundles.

``numcodecs.blosc.decompress`` wraps c-blosc's ``blosc_decompress_ctx`` in Python-level work on every
call (its destination through ``ensure_contiguous_ndarray``, a check of the calling thread), all of it
holding the interpreter lock. A whole default shard is 2,688 such calls, and two decoding threads spent
a third of their time waiting on each other for the lock. Calling the same C function through
:mod:`ctypes` releases the lock for the whole call: one shard on two threads decodes in 10.1 ms instead
of 15.1 ms, on one thread in 18.7 ms instead of 22.2 (``benchmarks/RESULTS-remote.md``, issue 15, sixth
round).

The function is the one numcodecs itself calls from a worker thread, with one internal thread, so
values are the same bit for bit. It is looked up in numcodecs' own extension module, which exports
c-blosc's symbols; a numcodecs built without them gives ``None``, and callers use numcodecs as before.

c-blosc trusts the sizes a frame's header declares: the caller checks them against the buffer first
(:func:`nwbzarr.core.blosc_frames.blosc_frame_problem`, or the same checks for many chunks at once).
"""

from __future__ import annotations

import ctypes
import functools
from collections.abc import Callable

__all__ = ["DirectDecompress", "direct_decompress"]

#: ``decompress(source_address, destination_address, nbytes)`` -> bytes written (<= 0: c-blosc refused it)
DirectDecompress = Callable[[int, int, int], int]


@functools.cache
def direct_decompress() -> DirectDecompress | None:
    """c-blosc's ``blosc_decompress_ctx`` with one internal thread, or ``None`` where numcodecs hides it."""
    from numcodecs import blosc

    try:
        function = ctypes.CDLL(blosc.__file__).blosc_decompress_ctx
    except (OSError, AttributeError):  # not a shared object ctypes can open, or the symbol not exported
        return None
    function.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    function.restype = ctypes.c_int

    def decompress(source: int, destination: int, nbytes: int) -> int:
        written: int = function(source, destination, nbytes, 1)
        return written

    return decompress
