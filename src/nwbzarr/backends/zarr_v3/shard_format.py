"""The ``sharding_indexed`` layout of one array, as nwbzarr's own shard writer and reader see it.

A shard is the encoded inner chunks one after another, then the index: an ``(offset, nbytes)`` pair
of little-endian uint64 per inner chunk (all ones for a chunk not stored), followed by the index's
CRC-32C. :class:`ShardLayout` describes a sharded array whose inner codec chain nwbzarr can run
itself (bytes, then Blosc, Zstd or gzip, then optionally ``crc32c``) and knows its keys and grid;
arrays it does not describe are read and written through zarr.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import google_crc32c
import numcodecs
import numpy as np
import zarr
from numcodecs import blosc
from zarr.codecs import BloscCodec, BytesCodec, Crc32cCodec, GzipCodec, ShardingCodec, ZstdCodec

from nwbzarr.core.blosc_direct import direct_decompress
from nwbzarr.core.blosc_frames import HEADER_SIZE, blosc_frame_problem
from nwbzarr.errors import InvalidStoreError

__all__ = ["EMPTY", "Region", "ShardLayout", "checked", "with_crc32c"]

#: the index entry (both numbers) of an inner chunk that is not stored
EMPTY = 2**64 - 1
Region = tuple[slice, ...]
_BLOSC_SHUFFLE = {"noshuffle": 0, "shuffle": 1, "bitshuffle": 2}


def with_crc32c(data: bytes) -> bytes:
    """``data`` followed by its CRC-32C, as zarr's ``crc32c`` codec stores it."""
    checksum: int = google_crc32c.value(data)
    return data + checksum.to_bytes(4, "little")


def checked(data: bytes | memoryview, where: str) -> bytes | memoryview:
    """``data`` without its trailing CRC-32C, which must match (a view stays a view: no copy is kept)."""
    body = data[:-4]
    # google_crc32c takes bytes only: a view's chunk is copied for the sum (a microsecond), not kept
    summed = body if isinstance(body, bytes) else bytes(body)
    if len(data) < 4 or google_crc32c.value(summed) != int.from_bytes(data[-4:], "little"):
        raise InvalidStoreError(f"{where}: a chunk's checksum does not match its bytes (the data changed)")
    return body


def _compressor(codecs: Sequence[Any]) -> tuple[Any, bool] | None:
    """(numcodecs compressor or ``None``, whether a CRC-32C follows) for a chain nwbzarr can run."""
    if not codecs or not isinstance(codecs[0], BytesCodec) or codecs[0].endian not in (None, "little"):
        return None
    rest = list(codecs[1:])
    crc = bool(rest) and isinstance(rest[-1], Crc32cCodec)
    rest = rest[:-1] if crc else rest
    if not rest:
        return None, crc
    codec = rest[0] if len(rest) == 1 else None
    if isinstance(codec, BloscCodec):
        return numcodecs.Blosc(
            cname=str(getattr(codec.cname, "value", codec.cname)),
            clevel=codec.clevel,
            shuffle=_BLOSC_SHUFFLE[str(getattr(codec.shuffle, "value", codec.shuffle))],
            blocksize=codec.blocksize,
        ), crc
    if isinstance(codec, ZstdCodec) and not codec.checksum:
        return numcodecs.Zstd(level=codec.level), crc
    if isinstance(codec, GzipCodec):
        return numcodecs.GZip(level=codec.level), crc
    return None


@dataclass(frozen=True, kw_only=True)
class ShardLayout:
    """Inner chunk and shard shapes, dtype, fill value and inner codecs of one sharded array."""

    array: zarr.Array[Any]
    inner: tuple[int, ...]
    shard: tuple[int, ...]
    dtype: np.dtype
    fill: Any
    compressor: Any  # a numcodecs codec, or None for raw bytes
    crc: bool

    @classmethod
    def of(cls, array: zarr.Array[Any]) -> ShardLayout | None:
        """The layout of ``array``, or ``None`` if it is not a sharded array nwbzarr encodes itself."""
        codecs = array.metadata.codecs if array.metadata.zarr_format == 3 else ()
        sharding = codecs[0] if len(codecs) == 1 and isinstance(codecs[0], ShardingCodec) else None
        dtype = array.dtype if isinstance(array.dtype, np.dtype) else None
        if sharding is None or dtype is None or dtype.kind not in "biuf" or array.shards is None:
            return None
        location = getattr(sharding.index_location, "value", sharding.index_location)
        if location != "end" or [type(c) for c in sharding.index_codecs] != [BytesCodec, Crc32cCodec]:
            return None
        chain = _compressor(sharding.codecs)
        if chain is None:
            return None
        return cls(
            array=array,
            inner=tuple(sharding.chunk_shape),
            shard=tuple(array.shards),
            dtype=dtype.newbyteorder("<"),
            fill=array.metadata.fill_value,
            compressor=chain[0],
            crc=chain[1],
        )

    @property
    def grid(self) -> tuple[int, ...]:
        """Inner chunks per shard along each axis."""
        return tuple(n // c for n, c in zip(self.shard, self.inner, strict=True))

    @property
    def index_size(self) -> int:
        """Bytes of a shard's index, its CRC-32C included."""
        return math.prod(self.grid) * 16 + 4

    def cut(self, block: np.ndarray) -> np.ndarray:
        """A whole shard's values as ``(chunks, *inner)``, chunks in C order of the grid, each contiguous."""
        split = [n for pair in zip(self.grid, self.inner, strict=True) for n in pair]
        order = [*range(0, 2 * block.ndim, 2), *range(1, 2 * block.ndim, 2)]
        return np.ascontiguousarray(block.reshape(split).transpose(order)).reshape(-1, *self.inner)

    def encode(self, chunk: np.ndarray) -> bytes:
        data = bytes(self.compressor.encode(chunk)) if self.compressor is not None else chunk.tobytes()
        return with_crc32c(data) if self.crc else data

    def decode(self, data: bytes | memoryview, where: str, *, proven: bool = False) -> np.ndarray:
        """One inner chunk's values from its stored bytes (checksum checked, size checked)."""
        out = np.empty(self.inner, dtype=self.dtype)
        self.decode_into(data, out, where, proven=proven)
        return out

    def decode_into(self, data: bytes | memoryview, out: np.ndarray, where: str, *, proven: bool = False) -> None:
        """Decode one inner chunk's stored bytes into ``out`` (C-contiguous, the inner shape and dtype),
        checksum and size checked first. ``proven``: the bytes are known to be the writer's (the whole shard
        matched the write manifest's CRC-32), so the chunk's own CRC-32C is not computed again.

        Blosc writes straight into ``out``: no buffer allocated, no copy, and only c-blosc's call between
        two holds of the interpreter lock, which is what lets a whole shard decode on every core.
        """
        body = (data[:-4] if proven else checked(data, where)) if self.crc else data
        if isinstance(self.compressor, numcodecs.Blosc):
            if (problem := blosc_frame_problem(body, decoded_size=out.nbytes)) is not None:
                raise InvalidStoreError(f"{where}: {problem}")
            try:
                blosc.decompress(body, out)
            except RuntimeError as error:  # numcodecs: "error during blosc decompression: -1"
                raise InvalidStoreError(f"{where}: Blosc could not decode a chunk (the data is damaged)") from error
            return
        decoded = self.compressor.decode(body) if self.compressor is not None else body
        flat = np.frombuffer(decoded, dtype=self.dtype)
        if flat.size != out.size:
            raise InvalidStoreError(f"{where}: a chunk decodes to {flat.size} values, not {out.size}")
        out[...] = flat.reshape(out.shape)

    def decode_many(
        self,
        raw: memoryview,
        entries: np.ndarray,
        data_end: int,
        block: np.ndarray,
        where: str,
        *,
        proven: bool = False,
    ) -> bool:
        """Decode the Blosc chunks that ``entries`` (``(offset, nbytes)`` rows of a shard's index) point at in
        ``raw`` into ``block[i]``, each chunk's checks done for all of them at once; ``False`` (nothing
        decoded) when the codec is not Blosc or a check fails, for :meth:`decode_into` to say which and why.

        A whole shard is thousands of chunks: per-chunk header parsing in Python cost as much as c-blosc's
        own work, and it holds the interpreter lock that the decoding threads share. So does each chunk's
        CRC-32C, skipped when the shard is ``proven`` (see :meth:`decode_into`): two decoding threads then
        take 20% less time (``benchmarks/RESULTS-remote.md``, issue 15, fifth round). And so did numcodecs'
        Python around each c-blosc call, which :mod:`nwbzarr.core.blosc_direct` skips (sixth round).
        """
        if not isinstance(self.compressor, numcodecs.Blosc) or len(entries) != len(block):
            return False
        offsets, sizes = entries[:, 0], entries[:, 1]
        empty = (offsets == EMPTY) & (sizes == EMPTY)
        stored = np.flatnonzero(~empty)
        start, size = offsets[stored].astype(np.int64), sizes[stored].astype(np.int64)
        trailer = 4 if self.crc else 0
        body = size - trailer
        if ((offsets[stored] > data_end) | (sizes[stored] > data_end) | (start + size > data_end)).any():
            return False
        if (body < HEADER_SIZE).any():
            return False
        buffer = np.frombuffer(raw, dtype=np.uint8)
        headers = buffer[start[:, None] + np.arange(HEADER_SIZE)].view("<u4")  # (chunks, 4) uint32 words
        if ((headers[:, 1] != block[0].nbytes) | (headers[:, 3] > body)).any():
            return False
        checking = self.crc and not proven
        sums = buffer[(start + body)[:, None] + np.arange(4)].view("<u4")[:, 0].tolist() if checking else None
        block[empty] = self.fill
        # c-blosc called directly where it can be (the interpreter lock released for the whole call): the
        # headers' sizes were checked above, and ``buffer`` and ``block`` stay alive through the loop
        direct = direct_decompress() if block.flags.c_contiguous else None
        source, destination, size = buffer.ctypes.data, block.ctypes.data, block[0].nbytes
        for n, (i, first, length) in enumerate(zip(stored.tolist(), start.tolist(), body.tolist(), strict=True)):
            if sums is not None and google_crc32c.value(bytes(raw[first : first + length])) != sums[n]:
                raise InvalidStoreError(f"{where}: a chunk's checksum does not match its bytes (the data changed)")
            if direct is None:
                self.decode_into(raw[first : first + length + trailer], block[i], where, proven=True)  # summed above
            elif direct(source + first, destination + i * size, size) != size:
                raise InvalidStoreError(f"{where}: Blosc could not decode a chunk (the data is damaged)")
        return True

    def key(self, coords: tuple[int, ...]) -> str:
        """The store key of the shard at grid position ``coords``."""
        key = self.array.metadata.encode_chunk_key(coords)
        return f"{self.array.store_path.path}/{key}" if self.array.store_path.path else key

    def extent(self, coords: tuple[int, ...]) -> Region:
        """The part of the array that shard ``coords`` holds (the last shard along an axis may be cut)."""
        return tuple(
            slice(c * n, min((c + 1) * n, extent))
            for c, n, extent in zip(coords, self.shard, self.array.shape, strict=True)
        )

    def shards_touching(self, region: Region) -> Iterator[tuple[tuple[int, ...], Region]]:
        """Each shard that ``region`` touches: its grid position and the part of ``region`` inside it."""
        spans = [range(s.start // n, -(-s.stop // n)) for s, n in zip(region, self.shard, strict=True)]
        for coords in itertools.product(*spans):
            yield (
                coords,
                tuple(
                    slice(max(s.start, c * n), min(s.stop, (c + 1) * n))
                    for c, n, s in zip(coords, self.shard, region, strict=True)
                ),
            )
