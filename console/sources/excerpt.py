"""What a rejected line keeps of itself: the line whole when it is short enough, else its start
and the stretch around what the reason names, each cut said in the text.

The rejected-line view (x, Enter) shows the excerpt under the reason, so the excerpt must hold
what the reason complains about: `Expected 'float | null', got 'str' - at 'cost_usd'` is no
help beside a line cut before cost_usd (the old 120-character head was). A line up to
EXCERPT_CHARS characters is kept whole: most log lines are. A longer one keeps its first
HEAD_CHARS (ts, request_id, model: which request it was) and the rest of the budget centred
on the field the reason names (msgspec's path `at 'input[2].content'`) or the byte it gives
(`(byte 471)`, `at byte 12`); a reason naming neither keeps the start. Each cut is a
`«… n characters cut …»` in the text, so no excerpt passes for the whole line.

The excerpt is untrusted text like the line: the UI shows it as rich Text, control
characters stripped (console/sanitize.py).
"""

from __future__ import annotations

import re

# Whole up to this; a cut excerpt is at most this plus its cut marks. Rejected lines are kept
# in the store, every one: this bounds each to the size of a short log line.
EXCERPT_CHARS = 2000
HEAD_CHARS = 300  # a long line's start kept before the stretch around the field
CUT_MARK = "«…"  # how every cut mark starts ('«… 1,234 characters cut …»')

_FIELD = re.compile(r"\bat '([^']+)'")  # msgspec's path, '$.' taken off by records.py
_BYTE = re.compile(r"\(byte (\d+)\)|\bat byte (\d+)")
_SEGMENT = re.compile(r"[^.\[\]]+")  # 'input[2].content' -> input, 2, content


def _cut(characters: int) -> str:
    return f"{CUT_MARK} {characters:,} characters cut …»"


def anchor_byte(line: bytes, reason: str) -> int | None:
    """Where in the line the reason points: the byte it gives, or the last key of the path it
    names found in order (`"input"`, then `"content"` after it); None when it names neither
    (a missing field, a line that is not an object)."""
    found = _BYTE.search(reason)
    if found:
        return min(int(found.group(1) or found.group(2)), len(line))
    field = _FIELD.search(reason)
    if field is None:
        return None
    anchor, start = None, 0
    for segment in _SEGMENT.findall(field.group(1)):
        if segment.isdigit():
            continue  # an index into a list: its key was found already
        key = re.compile(rb'"' + re.escape(segment.encode()) + rb'"\s*:')
        match = key.search(line, start)
        if match is None:
            break
        anchor, start = match.start(), match.end()
    return anchor


def excerpt(line: bytes, reason: str, line_bytes: int | None = None) -> str:
    """The line as the rejected-line view shows it. line_bytes: the whole line's length when
    `line` is only its first bytes (a line over the size limit is never held whole)."""
    text = line.decode("utf-8", "replace")
    if line_bytes is not None and line_bytes > len(line):
        return f"{text[:EXCERPT_CHARS]} {CUT_MARK} the rest of its {line_bytes:,} bytes was not kept …»"
    if len(text) <= EXCERPT_CHARS:
        return text
    anchor = anchor_byte(line, reason)
    at = None if anchor is None else len(line[:anchor].decode("utf-8", "replace"))
    stretch = EXCERPT_CHARS - HEAD_CHARS
    if at is None or at < EXCERPT_CHARS - stretch // 4:  # no field, or near enough to the start
        return f"{text[:EXCERPT_CHARS]} {_cut(len(text) - EXCERPT_CHARS)}"
    start = min(at - stretch // 4, len(text) - stretch)  # the field a quarter into the stretch
    end = start + stretch
    kept = f"{text[:HEAD_CHARS]} {_cut(start - HEAD_CHARS)} {text[start:end]}"
    return f"{kept} {_cut(len(text) - end)}" if end < len(text) else kept
