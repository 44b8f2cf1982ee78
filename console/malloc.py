"""glibc's allocator, told to give large blocks back.

Blocks of 128 KiB and more come from mmap and are unmapped when freed. glibc raises that
threshold after each large free, so a process that keeps making and dropping buffers of a
few MB (numpy temporaries over a million rows, MessagePack batches, column blocks merged)
ends up serving them from a fragmented heap it never returns: ~50 MB more at peak in the
writer process, more in a console that runs for hours.
"""

from __future__ import annotations

_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 128 * 1024


def fix_mmap_threshold() -> None:
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    except (OSError, AttributeError):
        pass  # not glibc: its allocator, its policy
