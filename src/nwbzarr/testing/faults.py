"""A proxy that injects transient faults: 500 and 503 answers, dropped connections, stalls.

Deterministic for a seed, so a failing run can be replayed; counts what it did, so tests can report
how many requests were faulted and how many the client retried.
"""

from __future__ import annotations

import random
from collections import Counter

from nwbzarr.testing.http_proxy import CountingProxy

__all__ = ["FaultyProxy"]


class FaultyProxy(CountingProxy):
    """Faults ``rate`` of the requests (1.0: every one), cycling through ``kinds``."""

    def __init__(
        self,
        target_host: str,
        target_port: int,
        *,
        rate: float,
        kinds: tuple[str, ...] = ("500", "503", "reset", "stall"),
        stall_seconds: float = 2.0,
        seed: int = 0,
    ) -> None:
        super().__init__(target_host, target_port)
        self.rate = rate
        self.kinds = kinds
        self.stall_seconds = stall_seconds
        self.faults: Counter[str] = Counter()
        self._random = random.Random(seed)

    def intercept(self, method: str, path: str) -> tuple[int, bytes] | str | float | None:
        with self._lock:
            if self._random.random() >= self.rate:
                return None
            kind = self._random.choice(self.kinds)
            self.faults[kind] += 1
        if kind == "reset":
            return "reset"
        if kind == "stall":
            return self.stall_seconds
        body = b"<Error><Code>InternalError</Code><Message>injected</Message></Error>"
        return (500 if kind == "500" else 503, body)
