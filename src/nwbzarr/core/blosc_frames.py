"""A Blosc frame's header checked against its bytes before numcodecs decodes it.

numcodecs (0.17) hands a Blosc frame to c-blosc without its length: c-blosc trusts the ``cbytes`` its
header declares, so a truncated chunk (an upload cut short, a damaged object) is read past its end, and
what lies beyond in memory can decode to wrong numbers as often as to an error. Checking the 16-byte
header against the buffer first makes every truncated frame an error (numcodecs#228, #854).
"""

from __future__ import annotations

__all__ = ["HEADER_SIZE", "blosc_frame_problem"]

#: bytes of a Blosc 1 frame header: version, compressor version, flags, type size, then the
#: uncompressed size, the block size and the frame's own size (header included), little-endian uint32
HEADER_SIZE = 16


def blosc_frame_problem(data: bytes | bytearray | memoryview, *, decoded_size: int | None = None) -> str | None:
    """Why ``data`` cannot be a whole Blosc frame (shorter than its header, or than the size it declares;
    or, given ``decoded_size``, decoding to another number of bytes), or None when it may be decoded.

    ``decoded_size`` guards a decode straight into a preallocated buffer: c-blosc fills only the bytes
    the header declares, so a frame declaring fewer would leave the rest of the buffer as it was.
    """
    view = memoryview(data).cast("B")
    if len(view) < HEADER_SIZE:
        return f"a Blosc chunk of {len(view)} bytes is shorter than its {HEADER_SIZE}-byte header"
    declared = int.from_bytes(view[12:16], "little")
    if declared > len(view):
        return f"a Blosc chunk declares {declared} bytes but holds {len(view)} (cut short)"
    if decoded_size is not None and (size := int.from_bytes(view[4:8], "little")) != decoded_size:
        return f"a Blosc chunk decodes to {size} bytes, not the chunk's {decoded_size}"
    return None
