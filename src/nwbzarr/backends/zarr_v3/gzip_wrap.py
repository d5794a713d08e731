"""Re-wrap an HDF5 deflate chunk (a zlib stream, RFC 1950) as a gzip member (RFC 1952) without recompressing.

HDF5's deflate filter stores a zlib stream; Zarr v3's core ``gzip`` codec, which every Zarr v3 reader
implements (zarr-python, tensorstore, zarrita.js), reads a gzip member. Both carry the same raw deflate
data, only the frame differs: a 2-byte header and an Adler-32 trailer against a 10-byte header and a
CRC-32 + length trailer. The gzip trailer needs the CRC-32 of the uncompressed bytes, so the stream is
inflated once (about ten times cheaper than deflating it again): that also checks its Adler-32, so a
damaged chunk raises here, as the decode path would, instead of being copied.
"""

from __future__ import annotations

import zlib

from nwbzarr.errors import InvalidStoreError

__all__ = ["zlib_to_gzip"]

#: gzip magic, CM=deflate, FLG=0 (no name, comment or extra field), MTIME=0, XFL=0, OS=255 (unknown)
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"


def zlib_to_gzip(stream: bytes, expected: int, where: str) -> bytes:
    """The gzip member holding the deflate data of the zlib ``stream``, which must inflate to ``expected`` bytes.

    Anything but one well-formed zlib stream with no preset dictionary whose Adler-32 matches raises
    :class:`~nwbzarr.errors.InvalidStoreError` naming ``where`` (the chunk): a damaged chunk is never passed on.
    """
    if len(stream) < 6:
        raise InvalidStoreError(f"{where}: {len(stream)} bytes are too short for a zlib stream")
    cmf, flg = stream[0], stream[1]
    if cmf & 0x0F != 8 or cmf >> 4 > 7 or (cmf << 8 | flg) % 31:
        raise InvalidStoreError(f"{where}: no zlib header (compression method, window or check bits are wrong)")
    if flg & 0x20:
        raise InvalidStoreError(f"{where}: a zlib stream with a preset dictionary (gzip has no such thing)")
    inflater = zlib.decompressobj(-15)  # the raw deflate data: its end tells where the trailer starts
    try:
        values = inflater.decompress(stream[2:], expected + 1)
    except zlib.error as exc:
        raise InvalidStoreError(f"{where}: the deflate data is damaged: {exc}") from exc
    if not inflater.eof:
        raise InvalidStoreError(
            f"{where}: the deflate data is cut short or inflates to more bytes than the chunk holds"
        )
    if len(values) != expected:
        raise InvalidStoreError(f"{where}: inflates to {len(values)} bytes, not the chunk's {expected}")
    trailer = inflater.unused_data
    if len(trailer) != 4 or int.from_bytes(trailer, "big") != zlib.adler32(values):
        raise InvalidStoreError(f"{where}: the Adler-32 checksum does not match the inflated bytes (damaged)")
    deflated = stream[2 : len(stream) - 4]
    return b"".join(
        (
            _GZIP_HEADER,
            deflated,
            zlib.crc32(values).to_bytes(4, "little"),
            (expected & 0xFFFFFFFF).to_bytes(4, "little"),
        )
    )
