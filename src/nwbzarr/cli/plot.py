"""``nwbzarr plot PATH -o summary.png``: a one-page summary figure of an imaging session."""

from __future__ import annotations

import argparse
import json
import re
from typing import Any

__all__ = ["add_parser", "parse_size", "run"]

_UNITS = {"": 1, "b": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}


def parse_size(text: str) -> int:
    """``64M``, ``1.5G``, ``500k``, ``1048576`` (binary units: 1M = 2**20 bytes) -> bytes."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgtb]?)(?:i?b)?\s*", text.lower())
    if match is None:
        raise argparse.ArgumentTypeError(f"expected a size such as 64M, 1G or 500000, got {text!r}")
    value = float(match.group(1)) * _UNITS[match.group(2)]
    if value < 1:
        raise argparse.ArgumentTypeError(f"the size must be at least one byte, got {text!r}")
    return int(value)


def add_parser(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "plot",
        help="draw a summary figure of an imaging session (projection, ROIs, traces, raster)",
        description=(
            "Draw a one-page summary of an imaging session: the mean (or max) projection of the movie with "
            "every ROI's outline, a few fluorescence and dF/F traces, and a raster of all ROIs' dF/F. "
            "Reads lazily, at most --max-bytes of array data, and says how many bytes it read."
        ),
    )
    parser.add_argument("path", help="store path or URL (Zarr, or an NWB HDF5 file, local or remote)")
    parser.add_argument("-o", "--output", default="summary.png", help="image to write: .png, .pdf or .svg")
    parser.add_argument("--projection", choices=["mean", "max"], default="mean", help="(default: %(default)s)")
    parser.add_argument("--series", help="the imaging series to project (default: the first with frames)")
    parser.add_argument("--traces", type=int, default=5, help="how many ROIs get traces (default: %(default)s)")
    parser.add_argument(
        "--max-bytes",
        type=parse_size,
        default="64M",
        help="read at most this much array data, e.g. 64M or 1G (default: %(default)s)",
    )
    parser.add_argument("--dpi", type=int, default=150, help="resolution of raster output (default: %(default)s)")
    parser.add_argument("--json", action="store_true", help="print the report (bytes read...) as JSON")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from nwbzarr.cli.inputs import check_input
    from nwbzarr.display.plot import plot_summary

    check_input(args.path, command="plot", reads=("zarr", "zarr-v2", "hdf5"))
    report = plot_summary(
        args.path,
        args.output,
        series=args.series,
        projection=args.projection,
        max_bytes=args.max_bytes,
        n_traces=args.traces,
        dpi=args.dpi,
    )
    print(json.dumps(report.to_json(), indent=2) if args.json else report.describe())
    return 0
