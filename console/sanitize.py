"""Untrusted text (model output, user input, anything from a log) made safe to display.

Rich markup is never parsed from these strings: callers wrap them in rich.text.Text, or
escape them with rich.markup.escape when they must sit inside markup. What this module
removes is what a terminal would act on: escape sequences (CSI, OSC with BEL or ST
terminators, including OSC 8 links and OSC 52 clipboard writes, DCS/APC/PM/SOS strings,
bare ESC), C0 and C1 control characters, and carriage returns that would overwrite a
line. Rich's own ANSI decoder does not cover BEL-terminated OSC or C1 controls, hence
this small regex.
"""

from __future__ import annotations

import re

_ESCAPE_SEQUENCE = re.compile(
    r"""
    \x1b\[[0-?]*[ -/]*[@-~]                      # CSI ... final byte
  | \x9b[0-?]*[ -/]*[@-~]                        # 8-bit CSI
  | (?:\x1b[\]P_^X]|[\x90\x9d\x9e\x9f\x98])      # OSC, DCS, APC, PM, SOS (7- or 8-bit) ...
    [^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c|$)       # ... up to BEL or ST (or the end)
  | \x1b[ -/]*[0-~]?                             # other ESC sequences, or a bare ESC
    """,
    re.VERBOSE,
)
# C0 controls except tab and newline, DEL, and C1 controls.
_CONTROL_CHARS = dict.fromkeys(
    [*range(0x00, 0x09), *range(0x0B, 0x20), 0x7F, *range(0x80, 0xA0)], None
)
_ONE_LINE = str.maketrans({"\n": "⏎", "\t": " "})
# Shown where an escape sequence or a control character was taken out of a field on screen,
# so a reader knows something was there (files and exports drop them without a trace).
REMOVED = "␛"


def strip_control(text: str, mark: str = "") -> str:
    """Remove terminal escape sequences and control characters; keep newlines and tabs.
    Each sequence or character removed becomes `mark` (nothing by default)."""
    if text.isprintable():
        return text
    text = _ESCAPE_SEQUENCE.sub(mark, text.replace("\r\n", "\n"))
    if not mark:
        return text.translate(_CONTROL_CHARS)
    return text.translate(dict.fromkeys(_CONTROL_CHARS, mark))


def shown(text: str) -> str:
    """Safe text for the screen: what was removed is marked with REMOVED."""
    return strip_control(text, REMOVED)


def one_line(text: str) -> str:
    """Safe text squeezed onto one table row (removed sequences marked)."""
    return shown(text).translate(_ONE_LINE)


_JSON_UNSAFE = re.compile(r"[\x7f-\x9f]")


def json_for_terminal(encoded: str) -> str:
    """Encoded JSON with DEL and C1 controls (which JSON encoders leave raw) as \\u escapes.

    The same JSON value, but a terminal printing it never sees an 8-bit CSI or OSC. Those
    characters can only occur inside JSON strings, where an escape means the same thing.
    """
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", encoded)
