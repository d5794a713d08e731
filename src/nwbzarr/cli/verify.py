"""``nwbzarr verify URL``: every object present and its checksum right (exit 1 if not)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from nwbzarr.cli.inputs import check_input
from nwbzarr.core.progress import terminal_progress
from nwbzarr.operations.summary import format_bytes
from nwbzarr.operations.verify import verify

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser("verify", help="check a store against its write manifest")
    parser.add_argument("path", help="store path or URL")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    check_input(args.path, command="verify", reads=("zarr",))
    progress = terminal_progress("verifying", quiet=args.quiet or args.json)
    try:
        report = verify(args.path, progress=progress)
    finally:
        progress.close()
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
    else:
        listed = report.objects_checked
        # the manifest is an object of the store too: count it, so `info` and `verify` give one number
        objects = f"{listed + 1} objects (the manifest and the {listed} it lists)" if listed else "0 objects"
        print(
            f"{report.target}: {report.state}; {objects}, "
            f"{format_bytes(report.bytes_checked)} checked, {report.arrays_checked} arrays"
        )
        for problem in report.problems:
            print(f"  PROBLEM {problem}")
        print("OK" if report.ok else f"FAILED: {len(report.problems)} problem(s)")
    return 0 if report.ok else 1
