"""The requests table's columns: which, how wide, and each row's cells in them."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timezone

from rich.cells import cell_len, set_cell_size

from console.formatting import request_usd
from console.records import RequestRecord, text_of
from console.sanitize import one_line
from console.ui.formatting import ms
from console.ui.widgets.prompt_cell import prompt_ref_cell


@dataclass(frozen=True)
class Column:
    title: str
    width: int
    justify: str = "left"


PROMPT = "prompt@version"
WIDE_COLUMNS = (
    Column("time (UTC)", 14),
    Column("model", 18),
    Column(PROMPT, 22),
    Column("tokens in→out", 13, "right"),
    Column("latency", 8, "right"),
    Column("cost", 9, "right"),
    Column("status", 6),
)
# For 80-column terminals: narrower names and no tokens (Enter shows them), so the output keeps
# ten characters (with the tokens, it was cut to '…' at 80x24). The time column is 11 wide for
# every row, whatever the rows on screen (no jitter while scrolling): a row of the figures' UTC
# day (FiguresClock) reads '10:03:15', an older (or later) one '12-01 10:03' (the wide layout's
# month-day). With the time of day alone, 10:03 today and 10:03 five days ago read the same
# after `g` or under a 7-day window.
NARROW_COLUMNS = (
    Column("UTC", 11, "right"),
    Column("model", 12),
    Column(PROMPT, 17),
    Column("latency", 7, "right"),
    Column("cost", 7, "right"),
    Column("status", 6),
)
PREVIEW_MIN_WIDTH = 10
# prompt@version grows past its width above to the longest one read, up to this, while the
# output keeps PREVIEW_MIN_WIDTH: at 160x48 the pane is 94 wide (the narrow columns) and
# 'ticket-classifier@v3' is 20
PROMPT_MAX_WIDTH = 40
SEPARATOR = " "
DAY_S = 86400


def _fixed_width(columns: tuple[Column, ...]) -> int:
    return sum(c.width for c in columns) + len(SEPARATOR) * len(columns)


WIDE_MIN_WIDTH = _fixed_width(WIDE_COLUMNS) + PREVIEW_MIN_WIDTH
MIN_WIDTH = _fixed_width(NARROW_COLUMNS)


def sized_columns(columns: tuple[Column, ...], content_width: int, ref_width: int) -> tuple[Column, ...]:
    """The columns with prompt@version widened to `ref_width` (the longest prompt@version read)
    as far as the output's PREVIEW_MIN_WIDTH and PROMPT_MAX_WIDTH allow; never narrower."""
    spare = content_width - _fixed_width(columns) - PREVIEW_MIN_WIDTH
    sized = []
    for column in columns:
        if column.title == PROMPT:
            wanted = min(ref_width, PROMPT_MAX_WIDTH) - column.width
            column = replace(column, width=column.width + max(min(wanted, spare), 0))
        sized.append(column)
    return tuple(sized)


def utc_day(moment: float) -> int:
    """The UTC day a moment falls on, as days since the epoch."""
    return int(moment // DAY_S)


def row_cells(record: RequestRecord, narrow: bool = False, today: int | None = None,
              prompt_width: int | None = None) -> tuple[str, ...]:  # fmt: skip
    """A row's cells. Narrow, the time of day only for a row on `today` (utc_day of the
    figures' now), else month-day and minute; None: every row dated. prompt@version is cut
    to `prompt_width` keeping its version (prompt_cell), else left whole."""
    ts = float(record.ts)
    when = datetime.fromtimestamp(ts, tz=timezone.utc)
    prompt = prompt_ref_cell(record.prompt_id, record.prompt_version, prompt_width)
    if narrow:
        moment = when.strftime("%H:%M:%S" if today is not None and utc_day(ts) == today else "%m-%d %H:%M")
        return moment, one_line(record.model), prompt, ms(record.latency_ms), request_usd(record.cost_usd), record.status
    return (
        when.strftime("%m-%d %H:%M:%S"),
        one_line(record.model),
        prompt,
        f"{record.input_tokens:,}→{record.output_tokens:,}",
        ms(record.latency_ms),
        request_usd(record.cost_usd),
        record.status,
    )


def preview_of(record: RequestRecord) -> str:
    if record.is_error:
        return one_line(f"{record.error_type or 'error'}: {record.error_message or ''}")
    return one_line(text_of(record.output))


def fit(value: str, width: int, justify: str) -> str:
    """Pad or cut a cell to exactly `width` terminal cells (wide characters counted)."""
    length = cell_len(value)
    if length > width:
        return set_cell_size(value, width - 1) + "…" if width > 0 else ""
    padding = " " * (width - length)
    return padding + value if justify == "right" else value + padding
