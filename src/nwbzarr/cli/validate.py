"""``nwbzarr validate PATH``: every broken rule with its path (exit 1 if any error)."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from typing import Any

from nwbzarr.cli.inputs import check_input
from nwbzarr.operations.validate import validate

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "validate", help="check a file against the NWB rules nwbzarr enforces"
    )
    parser.add_argument("path", help="file, store or URL (HDF5, Zarr v3, legacy Zarr v2)")
    parser.add_argument("--json", action="store_true", help="print the problems as JSON")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    check_input(args.path, command="validate")
    problems = validate(args.path)
    errors = [p for p in problems if p.severity == "error"]
    if args.json:
        print(json.dumps({"path": args.path, "valid": not errors, "problems": [asdict(p) for p in problems]}, indent=2))
    else:
        for problem in problems:
            print(problem)
        print("valid" if not errors else f"invalid: {len(errors)} error(s)")
    return 0 if not errors else 1
