"""glibc's allocator, told to give large blocks back; and the cyclic GC paused over bulk work.

Blocks of 128 KiB and more come from mmap and are unmapped when freed. glibc raises that
threshold after each large free, so a process that keeps making and dropping buffers of a
few MB (numpy temporaries over a million rows, MessagePack batches, column blocks merged)
ends up serving them from a fragmented heap it never returns: ~50 MB more at peak in the
writer process, more in a console that runs for hours.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator

_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 128 * 1024


def fix_mmap_threshold() -> None:
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    except (OSError, AttributeError):
        pass  # not glibc: its allocator, its policy


_M_TRIM_THRESHOLD = -1


def keep_freed_memory(mmap_threshold: int = 32 << 20, trim_threshold: int = 1 << 30) -> None:
    """The other policy, for a short-lived process that makes and drops large arrays (`report`):
    blocks under mmap_threshold come from the heap, and freed memory stays there (up to
    trim_threshold) for the next ones instead of being unmapped or trimmed and faulted in
    again. A 10M-row report: 80k -> 46k page faults, 0.2 -> 0.15 s of system time, +4 MB peak.
    (Setting the trim threshold alone turns glibc's adaptive mmap threshold off: both are set.)"""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(_M_MMAP_THRESHOLD, mmap_threshold)
        libc.mallopt(_M_TRIM_THRESHOLD, trim_threshold)
    except (OSError, AttributeError):
        pass  # not glibc: its allocator, its policy


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic GC passes inside (on again after, if it was on): for work that makes objects
    by the hundred thousand that reference counting frees (row tuples, arrays), where passes
    over them only cost time (a third of a column load's; ~0.04 s of a `report`'s CPU)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
