"""``nwbzarr unlock URL``: remove a write lock left by a writer that is gone, without waiting for its lease."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from nwbzarr.backends.zarr_v3.lock import LOCK_KEY, force_unlock, holder
from nwbzarr.storage import make_store

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "unlock", help="remove the write lock of a store whose writer was killed (only if no writer is alive)"
    )
    parser.add_argument("path", help="store or URL")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    removed = force_unlock(make_store(args.path, read_only=False))
    if removed is None:
        print(f"{args.path}: no write lock ({LOCK_KEY}) to remove")
        return 0
    print(
        f"warning: removed the write lock of {args.path}, held by {holder(removed)}. If that writer is still "
        "running, it can no longer commit (it fails at its next lease renewal or at its commit), and a new write "
        "replaces its work; if it was killed, its unfinished store reads as incomplete until it is written again",
        file=sys.stderr,
    )
    return 0
