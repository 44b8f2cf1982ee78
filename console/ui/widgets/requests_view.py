"""The live requests table, drawn line by line (Textual's Line API).

A DataTable costs ~80 ms to rebuild even at 50 rows; this view only renders the rows on
screen, so appending a batch is a list extend plus a refresh, never a rebuild. It keeps
a bounded ring of the newest rows; older history stays in the store.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from console.analytics.filters import RecordFilter
from console.records import RequestRecord, text_of
from console.sanitize import one_line
from console.ui.formatting import cost_cell, ms


@dataclass(frozen=True)
class Column:
    title: str
    width: int
    justify: str = "left"


WIDE_COLUMNS = (
    Column("time (UTC)", 14),
    Column("model", 18),
    Column("prompt@version", 22),
    Column("tokens in→out", 13, "right"),
    Column("latency", 8, "right"),
    Column("cost", 9, "right"),
    Column("status", 6),
)
# For 80-column terminals: time of day only, narrower names, no room kept for the preview.
NARROW_COLUMNS = (
    Column("UTC", 8),
    Column("model", 12),
    Column("prompt@version", 17),
    Column("tok in→out", 11, "right"),
    Column("latency", 7, "right"),
    Column("cost", 7, "right"),
    Column("status", 6),
)
PREVIEW_MIN_WIDTH = 10
SEPARATOR = " "


def _fixed_width(columns: tuple[Column, ...]) -> int:
    return sum(c.width for c in columns) + len(SEPARATOR) * len(columns)


WIDE_MIN_WIDTH = _fixed_width(WIDE_COLUMNS) + PREVIEW_MIN_WIDTH
MIN_WIDTH = _fixed_width(NARROW_COLUMNS)


def row_cells(record: RequestRecord, narrow: bool = False) -> tuple[str, ...]:
    when = datetime.fromtimestamp(float(record.ts), tz=timezone.utc)
    return (
        when.strftime("%H:%M:%S" if narrow else "%m-%d %H:%M:%S"),
        one_line(record.model),
        one_line(record.prompt_ref),
        f"{record.input_tokens:,}→{record.output_tokens:,}",
        ms(record.latency_ms),
        cost_cell(record.cost_usd),
        record.status,
    )


def preview_of(record: RequestRecord) -> str:
    if record.is_error:
        return one_line(f"{record.error_type or 'error'}: {record.error_message or ''}")
    return one_line(text_of(record.output))


class RequestsView(ScrollView, can_focus=True):
    """Newest rows at the bottom; follows the tail while the cursor sits on the last row."""

    BINDINGS = [
        Binding("down,j", "cursor_down", "Down", show=False, id="requests.down"),
        Binding("up,k", "cursor_up", "Up", show=False, id="requests.up"),
        Binding("pagedown,ctrl+f", "page_down", "Page down", show=False, id="requests.page_down"),
        Binding("pageup,ctrl+b", "page_up", "Page up", show=False, id="requests.page_up"),
        Binding("g,home", "top", "Top", show=False, id="requests.top"),
        Binding("G,end", "bottom", "Bottom", show=False, id="requests.bottom"),
        Binding("enter", "open", "Open", id="requests.open"),
    ]

    DEFAULT_CSS = """
    RequestsView { background: $surface; }
    """

    cursor = reactive(0, always_update=True)

    class Opened(Message):
        def __init__(self, record: RequestRecord) -> None:
            super().__init__()
            self.record = record

    def __init__(self, capacity: int = 5000, **kwargs) -> None:
        super().__init__(**kwargs)
        self.capacity = capacity
        self._ring: deque[RequestRecord] = deque()
        self._ids: set[str] = set()
        self._rows: list[RequestRecord] = []
        self._filter: RecordFilter | None = None
        self._line_cache: dict[tuple[int, int, bool], Strip] = {}

    # -- data ----------------------------------------------------------------------

    @property
    def rows(self) -> list[RequestRecord]:
        """The rows shown (after the filter), oldest first."""
        return self._rows

    @property
    def total(self) -> int:
        return len(self._ring)

    @property
    def following(self) -> bool:
        return not self._rows or self.cursor >= len(self._rows) - 1

    def append(self, records: Iterable[RequestRecord]) -> int:
        """Add new records; returns how many were new to the view."""
        follow = self.following
        fresh = [r for r in records if r.request_id not in self._ids]
        if not fresh:
            return 0
        for record in fresh:
            self._ids.add(record.request_id)
            self._ring.append(record)
        shown = [r for r in fresh if self._filter is None or self._filter(r)]
        self._rows.extend(shown)
        self._trim()
        self._update_size()
        if follow:
            self.cursor = max(len(self._rows) - 1, 0)
        self.refresh()
        return len(fresh)

    def _trim(self) -> None:
        overflow = len(self._ring) - self.capacity
        if overflow <= 0:
            return
        dropped = {self._ring.popleft().request_id for _ in range(overflow)}
        self._ids -= dropped
        self._line_cache.clear()
        before = len(self._rows)
        self._rows = [r for r in self._rows if r.request_id not in dropped]
        removed = before - len(self._rows)
        if removed:
            self.cursor = max(self.cursor - removed, 0)
            self.scroll_to(y=max(self.scroll_y - removed, 0), animate=False, immediate=True)

    def set_filter(self, record_filter: RecordFilter | None) -> None:
        self._filter = record_filter if record_filter else None
        self._rows = [r for r in self._ring if self._filter is None or self._filter(r)]
        self._line_cache.clear()
        self._update_size()
        self.cursor = max(len(self._rows) - 1, 0)
        self.refresh()

    @property
    def current(self) -> RequestRecord | None:
        if 0 <= self.cursor < len(self._rows):
            return self._rows[self.cursor]
        return None

    # -- layout and drawing -------------------------------------------------------

    def _update_size(self) -> None:
        self.virtual_size = Size(MIN_WIDTH, len(self._rows) + 1)

    def _content_width(self) -> int:
        """Rows fill the visible width; below MIN_WIDTH they scroll sideways instead."""
        return max(MIN_WIDTH, self.scrollable_content_region.width)

    @property
    def narrow(self) -> bool:
        return self.scrollable_content_region.width < WIDE_MIN_WIDTH

    @property
    def columns(self) -> tuple[Column, ...]:
        return NARROW_COLUMNS if self.narrow else WIDE_COLUMNS

    def on_resize(self) -> None:
        self._line_cache.clear()
        self._update_size()

    def watch_cursor(self, old: int, new: int) -> None:
        if self._rows:
            clamped = min(max(new, 0), len(self._rows) - 1)
            if clamped != new:
                self.cursor = clamped
                return
            # The new virtual size only bounds scrolling after the next layout.
            self.call_after_refresh(self._scroll_cursor_visible)
        self.refresh()

    def _scroll_cursor_visible(self) -> None:
        row = self.cursor + 1  # line 0 is the header
        height = self.scrollable_content_region.height
        if height <= 1:
            return
        top = self.scroll_y
        if row < top + 1:
            self.scroll_to(y=row - 1, animate=False, immediate=True)
        elif row >= top + height:
            self.scroll_to(y=row - height + 1, animate=False, immediate=True)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        scroll_x, scroll_y = self.scroll_offset
        if y == 0:
            return self._header_strip(width).crop(scroll_x, scroll_x + width)
        index = scroll_y + y - 1
        if index >= len(self._rows):
            return Strip.blank(width, self.rich_style)
        selected = index == self.cursor
        key = (id(self._rows[index]), width, selected and self.has_focus)
        strip = self._line_cache.get(key)
        if strip is None:
            if len(self._line_cache) > 2000:
                self._line_cache.clear()
            strip = self._row_strip(self._rows[index], width, selected)
            self._line_cache[key] = strip
        return strip.crop(scroll_x, scroll_x + width)

    def _header_strip(self, width: int) -> Strip:
        text = Text(style=Style(bold=True, color="bright_white", bgcolor="grey23"))
        for column in self.columns:
            text.append(_fit(column.title, column.width, column.justify) + SEPARATOR)
        text.append(_fit("output / error", max(self._content_width() - text.cell_len, 0), "left"))
        return Strip(text.render(self.app.console), text.cell_len)

    def _row_strip(self, record: RequestRecord, width: int, selected: bool) -> Strip:
        base = Style(bgcolor="grey30" if not self.has_focus else "dark_blue") if selected else Style()
        text = Text(style=base)
        status_style = Style(color="red", bold=True) if record.is_error else Style(color="green")
        for column, cell in zip(self.columns, row_cells(record, self.narrow)):
            style = status_style if column.title == "status" else None
            text.append(_fit(cell, column.width, column.justify), style)
            text.append(SEPARATOR)
        remaining = max(self._content_width() - text.cell_len, 0)
        preview_style = Style(color="red") if record.is_error else Style(dim=True)
        text.append(_fit(preview_of(record), remaining, "left"), preview_style)
        segments = list(text.render(self.app.console))
        return Strip(Segment.adjust_line_length(segments, max(width, text.cell_len), base))

    def on_focus(self) -> None:
        self._line_cache.clear()
        self.refresh()

    def on_blur(self) -> None:
        self._line_cache.clear()
        self.refresh()

    # -- actions -----------------------------------------------------------------------

    def action_cursor_down(self) -> None:
        self.cursor += 1

    def action_cursor_up(self) -> None:
        self.cursor = max(self.cursor - 1, 0)

    def action_page_down(self) -> None:
        self.cursor += max(self.scrollable_content_region.height - 2, 1)

    def action_page_up(self) -> None:
        self.cursor = max(self.cursor - max(self.scrollable_content_region.height - 2, 1), 0)

    def action_top(self) -> None:
        self.cursor = 0

    def action_bottom(self) -> None:
        self.cursor = max(len(self._rows) - 1, 0)

    def action_open(self) -> None:
        if self.current is not None:
            self.post_message(self.Opened(self.current))

    def on_click(self, event) -> None:
        row = event.y + int(self.scroll_y) - 1
        if 0 <= row < len(self._rows):
            if row == self.cursor and event.chain >= 2:
                self.action_open()
            self.cursor = row


def _fit(value: str, width: int, justify: str) -> str:
    """Pad or cut a cell to exactly `width` terminal cells."""
    text = Text(value)
    if text.cell_len > width:
        text.truncate(width, overflow="ellipsis")
        return text.plain
    padding = " " * (width - text.cell_len)
    return padding + value if justify == "right" else value + padding
