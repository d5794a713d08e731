"""The ``nwbzarr`` command. Errors print one line (``--debug`` for the traceback).

Exit codes: 0 success, 1 an nwbzarr error (bad input, invalid or missing store), 2 bad usage,
3 an unexpected failure. A closed pipe (``nwbzarr info X | head``) ends quietly with 0, as ``head`` expects.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from nwbzarr.cli import convert, demo, info, plot, unlock, validate, verify
from nwbzarr.errors import NWBZarrError

__all__ = ["main"]

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_CRASH = 0, 1, 2, 3


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nwbzarr", description="NWB optical physiology in Zarr v3.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    parser.add_argument("--version", action="version", version=f"nwbzarr {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (demo, info, convert, validate, verify, plot, unlock):
        module.add_parser(sub)
    return parser


def _version() -> str:
    from nwbzarr import __version__

    return __version__


def _quiet_stdout() -> None:
    """After a closed pipe: send what is still buffered nowhere, so the exit does not fail on it."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real stdout (captured): nothing more can be written anyway
        pass


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.run(args)
        sys.stdout.flush()  # a closed pipe shows here, inside the handlers below
        return code
    except BrokenPipeError:
        _quiet_stdout()
        return EXIT_OK
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
