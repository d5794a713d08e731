"""Format-neutral :class:`Compression` <-> zarr v3 codecs."""

from __future__ import annotations

from typing import Any, Literal

from zarr.codecs import BloscCodec, GzipCodec, ZstdCodec

from nwbzarr.tree.layout import Compression

__all__ = ["compression_from_zarr", "zarr_compressors"]

_BLOSC_SHUFFLE: dict[str, Literal["noshuffle", "shuffle", "bitshuffle"]] = {
    "none": "noshuffle",
    "byte": "shuffle",
    "bit": "bitshuffle",
}
_SHUFFLE_OF: dict[str, Literal["none", "byte", "bit"]] = {"noshuffle": "none", "shuffle": "byte", "bitshuffle": "bit"}


def zarr_compressors(compression: Compression | None, itemsize: int) -> list[Any]:
    """The zarr ``compressors`` list for a Compression (``[]`` for none)."""
    if compression is None or compression.codec == "none":
        return []
    if compression.blosc or compression.codec == "lz4" or compression.shuffle != "none":
        if compression.codec == "gzip":
            return [GzipCodec(level=compression.level)]  # gzip has no blosc form; shuffle is dropped
        cname: Literal["zstd", "lz4"] = "zstd" if compression.codec == "zstd" else "lz4"
        return [
            BloscCodec(
                cname=cname,
                clevel=compression.level,
                shuffle=_BLOSC_SHUFFLE[compression.shuffle],
                typesize=max(1, itemsize),
            )
        ]
    if compression.codec == "gzip":
        return [GzipCodec(level=compression.level)]
    return [ZstdCodec(level=compression.level)]


def compression_from_zarr(codecs: list[dict[str, Any]]) -> Compression | None:
    """Read back the first compressor of an array's (or shard's inner) codec list."""
    for codec in codecs:
        name, config = codec.get("name"), codec.get("configuration") or {}
        if name == "sharding_indexed":
            return compression_from_zarr(config.get("codecs", []))
        if name == "blosc":
            shuffle = _SHUFFLE_OF.get(str(config.get("shuffle")), "none")
            cname = config.get("cname")
            if cname == "zstd" or cname == "lz4":  # noqa: PLR1714 - narrows the Literal for mypy
                return Compression(codec=cname, level=int(config.get("clevel", 5)), shuffle=shuffle, blosc=True)
        if name == "zstd":
            return Compression(codec="zstd", level=int(config.get("level", 0)))
        if name == "gzip":
            return Compression(codec="gzip", level=int(config.get("level", 5)))
    return None
