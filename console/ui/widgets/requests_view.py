"""The requests table, drawn line by line (Textual's Line API).

A DataTable costs ~80 ms to rebuild even at 50 rows, and 15 s to show 100k; this view
only renders the rows on screen, from a page of rows read from the store, so it scrolls a
million-row history, and appending a batch is an array append plus a refresh.
"""

from __future__ import annotations

import time
from typing import Callable

import numpy as np
from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from console.analytics.filters import RecordFilter
from console.records import RequestRecord
from console.ui.messages import RequestIdsLoaded, RequestPageLoaded, RequestsPagerFailed, poster
from console.live.requests_pager import RequestsPager
from console.ui.widgets.request_columns import (
    MIN_WIDTH, NARROW_COLUMNS, PROMPT, SEPARATOR, WIDE_COLUMNS, WIDE_MIN_WIDTH, Column, fit, preview_of, row_cells, sized_columns,
    utc_day,
)
from console.ui.widgets.row_ids import RowIds

PLAIN = Style()
CURSOR = Style(bgcolor="grey30")
CURSOR_FOCUSED = Style(bgcolor="dark_blue")
HEADER = Style(bold=True, color="bright_white", bgcolor="grey23")
DIM = Style(dim=True)
OK_STATUS = Style(color="green")
ERROR_STATUS = Style(color="red", bold=True)
ERROR_PREVIEW = Style(color="red")
# Drawn rows kept (a few screens: cursor moves redraw two rows, not the screen). No more:
# each Strip holds ~20 objects the cyclic GC walks, and a full collection over 2,000 of
# them stalled every thread for tens of ms; following the tail, old strips are never reused.
LINE_CACHE = 300
REVEAL_TRIES = 20  # refreshes the cursor's reveal waits for the scroll range to reach it
REVEAL_LATE_TRIES, REVEAL_LATE_S = 50, 0.1  # then tries this many more times, this far apart
DAY_CHECK_S = 30.0  # how often an idle view looks whether the figures' UTC day turned (rows then dated)


class RequestsView(ScrollView, can_focus=True):
    """The whole history in time order (ts, then id), newest rows at the bottom, wherever
    and whenever each was committed; follows the tail while the cursor sits on the last row.

    It keeps only row ids (console.ui.widgets.row_ids) and a cache of the rows near the
    screen; a pager thread (console.live.requests_pager) finds the ids, filter included, and
    reads the rows about to be drawn. A row not read yet is drawn as a placeholder for the
    frame or two it takes.
    """

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

    class Counted(Message):
        """The number of rows shown changed, or how much history is left to scan."""

    def __init__(self, capacity: int = 5000, **kwargs) -> None:
        """capacity: how many rows are kept in memory around the screen."""
        super().__init__(**kwargs)
        self.capacity = max(capacity, 500)
        self._ids = RowIds()
        self._cache: dict[int, RequestRecord] = {}
        self._asked: set[int] = set()
        self._ask_scheduled = False
        self._filter: RecordFilter | None = None
        self._generation = 0
        self._pager: RequestsPager | None = None
        self.until = None  # a replay's moment (console/live/replay.py): rows up to it only
        # The figures' now, whose UTC day's rows show the time of day only (narrow); None: the
        # app's FiguresClock (app.feed.clock, read at each use: a test or a replay may swap or
        # move it), else the wall clock
        self.now: Callable[[], float] | None = None
        self._today: int | None = None  # the UTC day the cached lines were drawn for
        self.paused = False
        self.history_left = 1.0  # share of the history not scanned yet
        self._line_cache: dict[tuple[int, int, bool], Strip] = {}
        self._header_cache: tuple[tuple[tuple[Column, ...], int], Strip] | None = None
        # The longest prompt@version read since the filter was set: prompt@version is that wide
        # where the pane has room (sized_columns); it never narrows while scrolling
        self._ref_width = 0
        self._columns: tuple[tuple[bool, int, int], tuple[Column, ...]] | None = None
        # The cursor moved while the view could not scroll to it (no height yet: the pager's
        # first page can arrive before the first layout, which left the oldest rows on screen
        # with the cursor on the newest): done when it has a size
        self._reveal_pending = False

    # -- data ----------------------------------------------------------------------

    def start(self, store_url: str) -> None:
        """Begin reading the store (once its tables exist)."""
        if self._pager is not None:
            return
        self._pager = RequestsPager(poster(self), store_url, until=self.until)
        self._pager.set_filter(self._filter, self._generation)
        self.run_worker(self._run_pager, thread=True, exclusive=True, name="requests pager", group="pager")

    def _run_pager(self) -> None:
        from textual.worker import get_current_worker

        worker = get_current_worker()
        self._pager.run(lambda: worker.is_cancelled)

    def on_mount(self) -> None:
        self.set_interval(DAY_CHECK_S, self._check_day)

    def on_unmount(self) -> None:
        if self._pager is not None:
            self._pager.stop()

    @property
    def row_count(self) -> int:
        """Rows shown (matching the filter), loaded or not."""
        return len(self._ids)

    @property
    def rows(self) -> list[RequestRecord]:
        """The rows shown that are in memory, oldest first (all of them in a small store)."""
        return [self._cache[i] for i in self._ids.slice(0, len(self._ids)).tolist() if i in self._cache]

    @property
    def filtered(self) -> bool:
        return self._filter is not None

    @property
    def following(self) -> bool:
        return not len(self._ids) or self.cursor >= len(self._ids) - 1

    def rows_committed(self) -> None:
        """New rows are in the store (shown at once unless paused). Thread-safe: it only
        reads two attributes and pokes the pager (a queue and an Event)."""
        if self._pager is not None and not self.paused:
            self._pager.rows_committed()

    def set_paused(self, paused: bool) -> None:
        self.paused = paused
        if not paused:
            self.rows_committed()

    def on_request_ids_loaded(self, message: RequestIdsLoaded) -> None:
        message.stop()
        loaded = message.event
        if loaded.generation != self._generation:
            return
        self._cache.update(loaded.records)
        self._measure_refs(loaded.records)
        self._asked.difference_update(loaded.records)
        self.history_left = loaded.history_left
        if loaded.at_end:
            follow = self.following
            if loaded.positions is None:
                self._ids.append(loaded.ids)
            else:  # some are older than rows shown: each at its place by time
                self._ids.insert(loaded.positions, loaded.ids)
            self._update_size()
            if follow:
                self.cursor = max(len(self._ids) - 1, 0)
            elif loaded.positions is not None:
                self._keep_in_place(loaded.positions)
        else:
            follow = self.following
            self._ids.prepend(loaded.ids)
            self._update_size()
            if follow:
                self.cursor = max(len(self._ids) - 1, 0)
            elif len(loaded.ids):
                self.cursor += len(loaded.ids)  # the same row stays under the cursor
                self.scroll_to(y=self.scroll_y + len(loaded.ids), animate=False, immediate=True)
        self._trim_cache()
        self.refresh()
        self.post_message(self.Counted())

    def _measure_refs(self, records: dict[int, RequestRecord]) -> None:
        widest = max((cell_len(record.prompt_ref) for record in records.values()), default=0)
        if widest > self._ref_width:
            self._ref_width = widest
            self._line_cache.clear()  # redrawn in the wider column (the header's key has the columns)

    def _keep_in_place(self, positions) -> None:
        """Rows inserted above the cursor or the top of the screen: the same row stays under
        the cursor and the screen shows the same rows (as for a prepended stretch)."""
        top = int(self.scroll_y)
        above_cursor = int(np.searchsorted(positions, self.cursor, side="right"))
        above_top = int(np.searchsorted(positions, top, side="right"))
        if above_cursor:
            self.cursor += above_cursor
        if above_top:
            self.scroll_to(y=self.scroll_y + above_top, animate=False, immediate=True)

    def on_request_page_loaded(self, message: RequestPageLoaded) -> None:
        message.stop()
        self._cache.update(message.event.records)
        self._measure_refs(message.event.records)
        self._asked.difference_update(message.event.records)
        self._trim_cache()
        self.refresh()

    def on_requests_pager_failed(self, message: RequestsPagerFailed) -> None:
        message.stop()
        self._asked.clear()  # asked again on the next frame
        self.notify(message.event.reason, title="Requests", severity="error", markup=False)

    def _visible_range(self) -> tuple[int, int]:
        top = int(self.scroll_y)
        return top, top + max(self.scrollable_content_region.height, 1)

    def _trim_cache(self) -> None:
        if len(self._cache) <= self.capacity:
            return
        top, bottom = self._visible_range()
        keep = set(self._ids.slice(top - self.capacity // 4, bottom + self.capacity // 4).tolist())
        self._cache = {i: r for i, r in self._cache.items() if i in keep}
        self._line_cache.clear()

    def _ask_for_missing(self) -> None:
        """Ask the pager for the rows on screen and a screenful either side."""
        self._ask_scheduled = False
        if self._pager is None:
            return
        top, bottom = self._visible_range()
        height = bottom - top
        wanted = [
            i for i in self._ids.slice(top - height, bottom + height).tolist()
            if i not in self._cache and i not in self._asked
        ]  # fmt: skip
        if wanted:
            self._asked.update(wanted)
            self._pager.want(wanted)

    def set_filter(self, record_filter: RecordFilter | None) -> None:
        self._filter = record_filter if record_filter else None
        self._generation += 1
        self._ids.clear()
        self.history_left = 1.0
        self._ref_width = 0
        self._line_cache.clear()
        self._update_size()
        self.cursor = 0
        if self._pager is not None:
            self._pager.set_filter(self._filter, self._generation)
        self.refresh()
        self.post_message(self.Counted())

    @property
    def current(self) -> RequestRecord | None:
        if 0 <= self.cursor < len(self._ids):
            return self._cache.get(self._ids[self.cursor])
        return None

    # -- layout and drawing -------------------------------------------------------

    def _update_size(self) -> None:
        size = Size(MIN_WIDTH, len(self._ids) + 1)
        current = self.virtual_size
        if size.width == current.width and size.height > current.height and self.show_vertical_scrollbar:
            # Only longer, the scrollbar already shown: nothing else on screen moves, so no
            # layout pass (setting virtual_size reflows the whole screen: a third of the UI
            # thread's time at 5,000 rows/s, py-spy); the scrollbar is resized in place.
            self.set_reactive(RequestsView.virtual_size, size)
            self._scroll_update(size)
            self.refresh()
        else:
            self.virtual_size = size

    def _figures_now(self) -> float:
        if self.now is not None:
            return self.now()
        clock = getattr(getattr(self.app, "feed", None), "clock", None)
        return clock.now() if clock is not None else time.time()

    def _check_day(self) -> None:
        """Lines drawn for another UTC day than the figures' are drawn again (dated now)."""
        today = utc_day(self._figures_now())
        if today != self._today:
            self._today = today
            self._line_cache.clear()
            self.refresh()

    def _content_width(self) -> int:
        """Rows fill the visible width; below MIN_WIDTH they scroll sideways instead."""
        return max(MIN_WIDTH, self.scrollable_content_region.width)

    @property
    def narrow(self) -> bool:
        return self.scrollable_content_region.width < WIDE_MIN_WIDTH

    @property
    def columns(self) -> tuple[Column, ...]:
        narrow, width = self.narrow, self._content_width()
        key = (narrow, width, self._ref_width)
        if self._columns is None or self._columns[0] != key:
            self._columns = (key, sized_columns(NARROW_COLUMNS if narrow else WIDE_COLUMNS, width, self._ref_width))
        return self._columns[1]

    def on_resize(self) -> None:
        self._line_cache.clear()
        self._update_size()
        if self._reveal_pending or self.following:
            # a first size, or a shorter view (the header grew a line): the cursor stays on screen
            self._reveal_pending = True
            self.call_after_refresh(self._reveal_cursor)

    def watch_cursor(self, old: int, new: int) -> None:
        if len(self._ids):
            clamped = min(max(new, 0), len(self._ids) - 1)
            if clamped != new:
                self.cursor = clamped
                return
            # A new virtual size only bounds scrolling after the next layout; without one
            # pending (the tail growing the view, a key), scrolling now draws the batch in
            # one frame instead of two (following the tail, the second was half the view's
            # frames at 5,000 rows/s)
            if self._layout_required or not self._scroll_cursor_visible():
                self._reveal_pending = True
                self.call_after_refresh(self._reveal_cursor)
        self.refresh()

    def _reveal_cursor(self, tries: int = 0) -> None:
        if self._scroll_cursor_visible():
            self._reveal_pending = False  # else on_resize tries again once the view has a height
        elif self.scrollable_content_region.height > 1:
            # laid out, but the scroll range lags the new virtual size (the scroll was clamped
            # short of the cursor): once more after the next refresh, then by the clock. On a
            # loaded machine 20 refreshes came and went before the range reached the newest row,
            # and the view stayed short of it, the newest rows below the screen (the dashboard
            # snapshot test failed 2 runs in 3 beside three busy processes)
            if tries < REVEAL_TRIES:
                self.call_after_refresh(self._reveal_cursor, tries + 1)
            elif tries < REVEAL_TRIES + REVEAL_LATE_TRIES:
                self.set_timer(REVEAL_LATE_S, lambda: self._reveal_cursor(tries + 1))

    def _scroll_cursor_visible(self) -> bool:
        """False when the view has no height yet (not laid out), or when its scroll range does
        not reach the cursor yet or it cannot scroll yet (a new virtual size not laid out, the
        scrollbar not shown yet): the cursor is not shown."""
        row = self.cursor + 1  # line 0 is the header
        height = self.scrollable_content_region.height
        if height <= 1:
            return False
        top = self.scroll_y
        if row < top + 1:
            target = row - 1
        elif row >= top + height:
            target = row - height + 1
        else:
            return True
        if target > self.max_scroll_y:
            self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True)
            return False
        self.scroll_to(y=target, animate=False, immediate=True)
        # Textual scrolls only once the layout has shown the scrollbar (allow_vertical_scroll):
        # before that, the range above already reached the cursor but scroll_to did nothing, and
        # the view stayed at its oldest rows (the dashboard snapshot test timed out 4 runs in 10)
        return self.scroll_y == target

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        scroll_x, scroll_y = self.scroll_offset
        if y == 0:
            return self._header_strip(width).crop(scroll_x, scroll_x + width)
        index = scroll_y + y - 1
        if index >= len(self._ids):
            return Strip.blank(width, self.rich_style)
        selected = index == self.cursor
        row_id = self._ids[index]
        record = self._cache.get(row_id)
        if record is None:
            if not self._ask_scheduled:
                self._ask_scheduled = True
                self.call_later(self._ask_for_missing)
            return self._placeholder_strip(width, selected).crop(scroll_x, scroll_x + width)
        self._check_day()  # a replay's clock crossing midnight: the rows before it dated at once
        key = (row_id, width, selected and self.has_focus)
        strip = self._line_cache.get(key)
        if strip is None:
            if len(self._line_cache) > LINE_CACHE:
                self._line_cache.clear()
            strip = self._row_strip(record, width, selected)
            self._line_cache[key] = strip
        return strip.crop(scroll_x, scroll_x + width)

    def _base_style(self, selected: bool) -> Style:
        if not selected:
            return PLAIN
        return CURSOR_FOCUSED if self.has_focus else CURSOR

    def _placeholder_strip(self, width: int, selected: bool) -> Strip:
        base = self._base_style(selected)
        line_width = max(width, self._content_width())
        return Strip([Segment(fit("  …", line_width, "left"), base + DIM)], line_width)

    def _header_strip(self, width: int) -> Strip:
        columns = self.columns
        key = (columns, self._content_width())
        if self._header_cache is None or self._header_cache[0] != key:
            cells = "".join(fit(c.title, c.width, c.justify) + SEPARATOR for c in columns)
            rest = fit("output / error", max(self._content_width() - cell_len(cells), 0), "left")
            line = cells + rest
            self._header_cache = (key, Strip([Segment(line, HEADER)], cell_len(line)))
        return self._header_cache[1]

    def _row_strip(self, record: RequestRecord, width: int, selected: bool) -> Strip:
        """Segments built directly (no Text layout): at 5,000 rows/s every row on screen is
        new at each frame, so this runs for the whole screen several times a second."""
        base = self._base_style(selected)
        status_style = base + (ERROR_STATUS if record.is_error else OK_STATUS)
        segments = []
        used = 0
        columns = self.columns
        prompt_width = next(c.width for c in columns if c.title == PROMPT)
        for column, cell in zip(columns, row_cells(record, self.narrow, self._today, prompt_width)):
            fitted = fit(cell, column.width, column.justify) + SEPARATOR
            segments.append(Segment(fitted, status_style if column.title == "status" else base))
            used += column.width + len(SEPARATOR)
        remaining = max(self._content_width() - used, 0)
        preview_style = base + (ERROR_PREVIEW if record.is_error else DIM)
        segments.append(Segment(fit(preview_of(record), remaining, "left"), preview_style))
        used += remaining
        if used < width:
            segments.append(Segment(" " * (width - used), base))
            used = width
        return Strip(segments, used)

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
        self.cursor = max(len(self._ids) - 1, 0)

    def action_open(self) -> None:
        if self.current is not None:
            self.post_message(self.Opened(self.current))

    def on_click(self, event) -> None:
        row = event.y + int(self.scroll_y) - 1
        if 0 <= row < len(self._ids):
            if row == self.cursor and event.chain >= 2:
                self.action_open()
            self.cursor = row

