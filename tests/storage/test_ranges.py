"""fetch_ranges: small ranges handled on the event loop's thread, large ones in the pool; every range finishes
before the first error is raised; the in-flight bound holds."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from nwbzarr.storage.ranges import fetch_ranges


def _run(
    ranges: list[tuple[int, int, str]], inline_bytes: int, fail: str = "", threads: dict[str, str] | None = None
) -> tuple[dict[str, str], int]:
    threads = {} if threads is None else threads
    peak = [0, 0]

    async def get(start: int, stop: int) -> bytes:
        peak[0] += 1
        peak[1] = max(peak[1], peak[0])
        await asyncio.sleep(0.001)
        peak[0] -= 1
        return bytes(stop - start)

    def handle(start: int, data: bytes, members: str) -> None:
        threads[members] = threading.current_thread().name
        if members == fail:
            raise ValueError(f"bad {members}")

    async def main() -> None:
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="pool") as pool:
            await fetch_ranges(ranges, get, handle, pool=pool, in_flight=3, inline_bytes=inline_bytes)

    asyncio.run(main())
    return threads, peak[1]


def test_small_ranges_stay_on_the_loop_large_ones_go_to_the_pool() -> None:
    ranges = [(0, 100, "small"), (1000, 5000, "large"), (9000, 9100, "small2")]
    threads, _ = _run(ranges, inline_bytes=1000)
    assert threads["small"] == threads["small2"] == threading.current_thread().name
    assert threads["large"].startswith("pool")
    threads, _ = _run(ranges, inline_bytes=0)
    assert all(name.startswith("pool") for name in threads.values())


def test_every_range_finishes_before_the_error_and_the_bound_holds() -> None:
    ranges = [(i * 10, i * 10 + 5, f"r{i}") for i in range(20)]
    handled: dict[str, str] = {}
    with pytest.raises(ValueError, match="bad r3"):
        _run(ranges, inline_bytes=10, fail="r3", threads=handled)
    assert len(handled) == 20  # none was left running (writing) after the error
    threads, peak = _run(ranges, inline_bytes=10)
    assert len(threads) == 20 and peak <= 3
