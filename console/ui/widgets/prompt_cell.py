"""A prompt@version cell cut to a width with its version kept whole.

Cut at its end, 'ticket-classifier@v3' read 'ticket-classifie…' in the requests table and
'support-ans' in the triage queue (found in the user trial): v3 and v4 read the same, so a
filter by version could not be checked by eye. The version is what an on-call engineer
compares; the prompt id is cut instead ('ticket-class…@v3').
"""

from __future__ import annotations

from rich.cells import cell_len, set_cell_size

from console.sanitize import one_line

ELLIPSIS = "…"


def prompt_ref_cell(prompt_id: str, version: str, width: int | None = None) -> str:
    """`prompt_id@version` (both made safe) in at most `width` cells (None: whole): the id cut
    first (at least one of its characters kept), the version only when it alone is wider (then
    its end, where versions differ, is kept)."""
    prompt_id, version = one_line(prompt_id), one_line(version)
    full = f"{prompt_id}@{version}"
    if width is None or cell_len(full) <= width:
        return full
    if width <= 0:
        return ""
    tail = f"@{version}"
    room = width - cell_len(tail) - len(ELLIPSIS)
    if room >= 1:
        return set_cell_size(prompt_id, room).rstrip() + ELLIPSIS + tail
    return ELLIPSIS + last_cells(full, width - len(ELLIPSIS))


def last_cells(text: str, width: int) -> str:
    """The end of `text` that fits in `width` cells."""
    kept, used = [], 0
    for char in reversed(text):
        used += cell_len(char)
        if used > width:
            break
        kept.append(char)
    return "".join(reversed(kept))
