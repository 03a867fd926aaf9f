"""Work spread over forked processes, where forking is safe: one policy for the offline tools.

Forking copies the parent's memory for free (no pickling of inputs), which is what makes
it worth it for the report's figures and the reader's second half of a long log; it is
safe only where it is the platform's default (Linux) and the process runs no other
Python thread (a lock held by another thread would stay locked in the child).
"""

from __future__ import annotations

import os
import sys
import threading
from concurrent.futures import Executor


def fork_workers(jobs: int, limit: int) -> int:
    """How many processes to use for ``jobs`` jobs: one per CPU this process may use, at
    most ``limit`` and ``jobs``; 1 (no forking) off Linux or with other threads running."""
    if jobs < 2 or not sys.platform.startswith("linux") or threading.active_count() > 1:
        return 1
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, jobs, limit))


def forked_pool(workers: int) -> Executor:
    """A ``ProcessPoolExecutor`` of ``workers`` forked processes (output flushed first, so
    that no child flushes a copy of what is pending)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    sys.stdout.flush()
    sys.stderr.flush()
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))
