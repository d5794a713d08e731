"""``nwbzarr convert SRC DST``: HDF5 <-> Zarr, Zarr -> Zarr (rechunk/recompress), Zarr v2 -> v3."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from nwbzarr.cli.inputs import check_input
from nwbzarr.core.progress import terminal_progress
from nwbzarr.errors import NWBZarrError, StorageError
from nwbzarr.operations.convert import convert

__all__ = ["add_parser", "run"]


def _shape(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None


def add_parser(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "convert", help="copy an NWB file between HDF5 and Zarr (or Zarr to Zarr), losslessly"
    )
    parser.add_argument("src", help="source file, store or URL")
    parser.add_argument("dst", help="destination file, store or URL")
    parser.add_argument("--from", dest="src_format", choices=["zarr", "zarr-v2", "hdf5"], help="source format")
    parser.add_argument("--to", dest="dst_format", choices=["zarr", "hdf5"], help="destination format")
    parser.add_argument(
        "--layout",
        choices=["default", "keep"],
        default="default",
        help="nwbzarr's default chunking/sharding, or keep the source's (default: %(default)s)",
    )
    parser.add_argument("--chunks", type=_shape, help="chunk shape for arrays of that rank, e.g. 8,64,64")
    parser.add_argument("--compression", choices=["zstd", "lz4", "gzip", "none"], help="codec for numeric arrays")
    parser.add_argument("--overwrite", action="store_true", help="replace DST if it exists")
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue an interrupted conversion into DST: what it stored is kept, the rest is written (the "
        "same SRC, unchanged, and the same options are required); on nothing, a plain conversion",
    )
    parser.add_argument(
        "--allow-pickle",
        action="store_true",
        help="decode pickle-coded arrays of legacy Zarr v2 stores (runs code from the file)",
    )
    parser.add_argument(
        "--raw",
        action="store_true",
        help="copy a source that is no NWB file (no NWBFile root) as it is, instead of refusing it",
    )
    parser.add_argument(
        "--external-links",
        choices=["keep", "copy", "refuse"],
        default="keep",
        help="external links to other files: keep them (rewritten to resolve from DST), copy the linked "
        "objects in, or refuse the file (default: %(default)s)",
    )
    parser.add_argument(
        "--allow-external-data",
        action="store_true",
        help="copy HDF5 datasets stored in external raw files or virtual datasets (reads those files)",
    )
    parser.add_argument("--no-verify", action="store_true", help="skip re-reading the copy against its checksums")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    check_input(args.src, command="convert")
    progress = terminal_progress("converting", quiet=args.quiet)
    try:
        report = convert(
            args.src,
            args.dst,
            src_format=args.src_format,
            dst_format=args.dst_format,
            layout=args.layout,
            chunks=args.chunks,
            compression=args.compression,
            overwrite=args.overwrite,
            allow_pickle=args.allow_pickle,
            raw=args.raw,
            external_links=args.external_links,
            allow_external_data=args.allow_external_data,
            progress=progress,
            verify=not args.no_verify,
            explain=lambda text: print(f"nwbzarr convert: {text}", file=sys.stderr),
            resume=args.resume,
        )
    except (OSError, KeyboardInterrupt) as exc:
        progress.close()
        if _resumable(exc):
            print(
                f"nwbzarr convert: interrupted; what was copied to {args.dst} is kept: run the same command with "
                "--resume to continue (Zarr destinations)",
                file=sys.stderr,
            )
        raise
    finally:
        progress.close()
    print(f"converted {args.src} -> {args.dst}")
    if report is not None:
        print(
            f"verified: {report.objects_checked + 1} objects (the manifest and the {report.objects_checked} it "
            f"lists), {report.bytes_checked} bytes, every CRC-32 right "
            f"(rerun with `nwbzarr verify {args.dst}`)"
        )
    return 0


def _resumable(exc: BaseException) -> bool:
    """A failure of the connection or of the disk (not of the input): the partial copy is worth resuming."""
    return isinstance(exc, KeyboardInterrupt | StorageError) or not isinstance(exc, NWBZarrError)
