"""The ``nwbzarr`` command. Errors print one line (``--debug`` for the traceback).

Exit codes: 0 success, 1 an nwbzarr error (bad input, invalid or missing store), 2 bad usage,
3 an unexpected failure.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from nwbzarr.cli import convert, demo, info, plot, validate, verify
from nwbzarr.errors import NWBZarrError

__all__ = ["main"]

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_CRASH = 0, 1, 2, 3


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nwbzarr", description="NWB optical physiology in Zarr v3.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (demo, info, convert, validate, verify, plot):
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.run(args)
        return code
    except NWBZarrError as exc:
        if args.debug:
            raise
        print(f"nwbzarr {args.command}: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # one line for the user; --debug shows the traceback
        if args.debug:
            raise
        print(
            f"nwbzarr {args.command}: unexpected error: {type(exc).__name__}: {exc} (rerun with --debug)",
            file=sys.stderr,
        )
        return EXIT_CRASH


if __name__ == "__main__":
    sys.exit(main())
