"""Which cores a benchmark's processes run on (Linux `sched_setaffinity`; a no-op where it is missing).

The bench modules run one after another in one process, so a module that pins this process puts it back
(`pinned_here`) for the modules after it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator


def pin(pid: int, cpu: int) -> None:
    """Run process `pid` on core `cpu` only (when the machine has that core)."""
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > cpu:
        os.sched_setaffinity(pid, {cpu})


def unpin(pid: int) -> None:
    """Let process `pid` run on every core (undoes the affinity a child inherited from a pinned parent)."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(pid, set(range(os.cpu_count() or 1)))


@contextlib.contextmanager
def pinned_here(cpu: int) -> Iterator[None]:
    """This process on core `cpu` for the block; its affinity as before afterwards."""
    before = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    pin(os.getpid(), cpu)
    try:
        yield
    finally:
        if before is not None:
            os.sched_setaffinity(0, before)
