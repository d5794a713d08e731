"""A long-lived writer process for tests/storage/test_writer_pairs.py: runs one operation per input line.

Each line is a JSON command ``{"op", "target", "options", "name", "pause", "signals"}``:

- ``op``: ``write`` (mode 'w': :func:`new_file`), ``append`` (mode 'a': a series called ``name`` added)
  or ``append_frames`` (mode 'a': :func:`new_frames` added to ``movie``);
- ``pause``: lock hooks (``after_acquire``, ``before_takeover``) at which the writer creates
  ``signals/<name>.<hook>`` and waits for ``signals/<name>.<hook>.go`` (so a test holds it there).

Answers one JSON line per command: ``{"ok": true}`` or ``{"error": "<class>", "message": "..."}``. One
process serves many commands, so that a test pays Python's start-up once, not once per writer.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from nwbzarr import NWBZarrIO
from nwbzarr.backends.zarr_v3 import lock
from nwbzarr.model import NWBFile, TimeSeries
from nwbzarr.testing.tutorial import SESSION_START

_WAIT_SECONDS = 120


def old_file() -> NWBFile:
    """What a store holds before the writers meet (written by the test): small, so S3 runs stay quick."""
    nwbfile = NWBFile("before", "OLD", SESSION_START)
    nwbfile.add_acquisition(TimeSeries(name="movie", data=np.ones((10, 4, 4), dtype=np.uint16), unit="n", rate=2.0))
    return nwbfile


def new_file() -> NWBFile:
    """What ``write`` writes."""
    nwbfile = NWBFile("after", "NEW", SESSION_START)
    nwbfile.add_acquisition(TimeSeries(name="written", data=np.arange(30.0), unit="V", rate=3.0))
    return nwbfile


def new_series(name: str) -> TimeSeries:
    return TimeSeries(name=name, data=np.full(25, float(len(name))), unit="V", rate=1.0)


def new_frames() -> np.ndarray:
    return np.full((3, 4, 4), 5, dtype=np.uint16)


def _pause(signals: Path, name: str, hook: str) -> Callable[[], None]:
    def wait() -> None:
        (signals / f"{name}.{hook}").touch()
        deadline = time.monotonic() + _WAIT_SECONDS
        while not (signals / f"{name}.{hook}.go").exists():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{name}: nobody released {hook}")
            time.sleep(0.005)

    return wait


def run(command: dict[str, Any]) -> None:
    op, target, options, name = command["op"], command["target"], command.get("options"), command.get("name", "x")
    signals = Path(command.get("signals") or ".")
    lock.hooks.after_acquire = lambda: None
    lock.hooks.before_takeover = lambda: None
    for hook in command.get("pause") or ():
        setattr(lock.hooks, hook, _pause(signals, name, hook))
    if op == "write":
        with NWBZarrIO(target, "w", storage_options=options) as io:
            io.write(new_file())
    elif op == "append":
        with NWBZarrIO(target, "a", storage_options=options) as io:
            nwbfile = io.read()
            nwbfile.add_acquisition(new_series(name))
            io.write(nwbfile)
    elif op == "append_frames":
        with NWBZarrIO(target, "a", storage_options=options) as io:
            io.append_frames(io.read().acquisition["movie"], new_frames())  # type: ignore[arg-type]
    else:
        raise ValueError(f"unknown operation {op!r}")


def main() -> None:
    for line in sys.stdin:
        try:
            run(json.loads(line))
            answer: dict[str, Any] = {"ok": True}
        except Exception as exc:  # noqa: BLE001 - every outcome goes back to the test
            answer = {"error": type(exc).__name__, "message": str(exc)}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
    from places import exit_after_work

    exit_after_work()
