"""One pool of decoding threads a process, shared by every read.

Each read used to start a pool of its own, with as many threads as cores. Two Dask tasks then ran four
decoding threads on two cores. Each of a whole shard's 2,688 chunks hands the interpreter lock over twice
(a Blosc call releases it, and the thread then waits to take it back), and with twice as many threads as
cores those handoffs cost a tenth of the CPU. One pool, as many threads as cores, keeps the decoding at
the number of cores however many reads run at once. A Dask mean ran 11-19% faster
(``benchmarks/RESULTS-remote.md``, issue 15, fourth round). Jobs run first in, first out.

Only decoding runs here, never a read: a job that waited on a read in this pool could wait on itself.
A child process made by ``fork`` starts a pool of its own, since threads do not survive a fork.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

__all__ = ["decode_pool", "decode_workers"]

_pools: list[ThreadPoolExecutor] = []  # the pool, once started (a list: no ``global`` statement)
_lock = [threading.Lock()]  # replaced in a forked child, where a thread of the parent may have held it


def decode_workers() -> int:
    """Threads the pool runs: one a core."""
    return os.cpu_count() or 2


def decode_pool() -> ThreadPoolExecutor:
    """The process's decoding pool, started at its first use."""
    with _lock[0]:
        if not _pools:
            _pools.append(ThreadPoolExecutor(max_workers=decode_workers(), thread_name_prefix="nwbzarr-decode"))
        return _pools[0]


def _forget_after_fork() -> None:
    """In a forked child the pool's threads are gone: the next read starts a new pool."""
    _pools.clear()
    _lock[0] = threading.Lock()


os.register_at_fork(after_in_child=_forget_after_fork)
