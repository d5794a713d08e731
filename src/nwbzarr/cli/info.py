"""``nwbzarr info PATH``: the tree of a file with types, shapes, dtypes, chunks and codecs."""

from __future__ import annotations

import argparse
from typing import Any

from nwbzarr.io import NWBZarrIO
from nwbzarr.summary import tree_lines

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser("info", help="show the tree of an NWB Zarr store")
    parser.add_argument("path", help="store path or URL")
    parser.add_argument("--specs", action="store_true", help="also list the cached specifications")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    with NWBZarrIO(args.path, "r") as io:
        tree = io.read_tree()
    for line in tree_lines(tree, show_specs=args.specs):
        print(line)
    return 0
