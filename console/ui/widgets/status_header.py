"""The top line: what is tailed, how fast, what was rejected, where it is stored."""

from __future__ import annotations

import time
from collections import deque
from pathlib import Path

from rich.style import Style
from textual.content import Content
from textual.reactive import reactive
from textual.types import NoActiveAppError
from textual.widgets import Static

from console.analytics.after_now import note
from console.analytics.report_types import AfterNow
from console.sanitize import one_line
from console.live.events import HistoryProgress, ReceiverState, SourceState
from console.ui.widgets.in_place import update_in_place

RATE_WINDOW_S = 5.0
BEHIND_SHOWN = 5000  # lines not read yet before the header says the console is behind
# no line arrived for this long (or since the console started): the header says for how long,
# so a log that stopped (the app down, logging elsewhere) does not read as a quiet minute
QUIET_SHOWN_S = 60.0


def escape(text: str) -> str:
    """Untrusted text made literal inside Textual markup.

    rich.markup.escape (and textual.markup.escape) leave "[$name]" and "[ red]" to be parsed
    as a variable or a style, so every "[" is escaped; a trailing backslash would escape the
    closing tag that follows, so it gets a zero-width space after it.
    """
    text = text.replace("[", "\\[")
    return text + "\u200b" if text.endswith("\\") else text


SEPARATOR = "  ·  "


def arrange(parts: list[str], width: int) -> str:
    """The parts (markup) joined by SEPARATOR, each line broken between two parts, so a part
    never reads across lines ("window" / "1h (w)"). Only when that takes no more lines than
    wrapping anywhere: the header has three lines at most, and a part pushed down whole can
    add one (a whole part may still wrap when it is wider than the header)."""
    joined = SEPARATOR.join(parts)
    if width <= 0:
        return joined
    lines: list[list[str]] = [[]]
    used = 0
    for part in parts:
        cells = Content.from_markup(part).cell_length
        if lines[-1] and used + len(SEPARATOR) + cells > width:
            lines.append([])
        used = cells if not lines[-1] else used + len(SEPARATOR) + cells
        lines[-1].append(part)
    packed = "\n".join(SEPARATOR.join(line) for line in lines)
    fits = len(Content.from_markup(packed).wrap(width)) <= len(Content.from_markup(joined).wrap(width))
    return packed if fits else joined


class StatusHeader(Static):
    """One or two lines of live status, redrawn at most once per received batch."""

    DEFAULT_CSS = """
    StatusHeader { height: auto; max-height: 3; background: $panel; padding: 0 1; }
    """

    paused = reactive(False)
    held = reactive(0)

    @property
    def link_style(self) -> Style:
        """Underlined only: Textual paints a link in its link colour over the span's own, so the
        alert count read near-white on yellow and '13 rejected' lost its red."""
        return Style(underline=True)

    def __init__(self, store_url: str, patterns: list[str], **kwargs) -> None:
        super().__init__(**kwargs)
        self.store_url = store_url
        self.patterns = patterns
        self.sources: list[SourceState] = []
        self.stored = 0
        self.rejected_total = 0
        self.error: str | None = None
        self.store_trouble: str | None = None  # the store refuses writes: ingest paused, retrying
        self.receiver: ReceiverState | None = None  # the OTLP receiver's child: its store trouble, its counts
        self.window = "1h"
        self.clock_note: str | None = None  # the figures' clock, when not the wall's (FiguresClock.note)
        # the requests stamped after the figures' now, in no figure (set on the wall clock only)
        self.after_now: AfterNow | None = None
        self.regress_line: str | None = None
        self.alerts: list = []
        self.undelivered = None  # NotifyPending: alert messages `check --notify` could not deliver yet
        # a replay (console/ui/replay_app.py): the figures are of a past moment, delivery
        # failures are of today, and the header says so rather than mix the two
        self.undelivered_today = False
        self.partial = False  # the figures lack part of the history: budget alerts are withheld
        self.history: str | None = None  # "loading history 40%" while the figures are partial
        self._arrivals: deque[tuple[float, int]] = deque()
        self.last_line_at = time.monotonic()  # when lines last arrived (the start until then)
        self._shown_markup: str | None = None

    def record_arrivals(self, count: int, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        self._arrivals.append((now, count))
        if count > 0:
            self.last_line_at = now
        while self._arrivals and now - self._arrivals[0][0] > RATE_WINDOW_S:
            self._arrivals.popleft()

    @property
    def rows_per_second(self) -> float:
        if not self._arrivals:
            return 0.0
        now = time.monotonic()
        recent = sum(n for t, n in self._arrivals if now - t <= RATE_WINDOW_S)
        return recent / RATE_WINDOW_S

    def show_history(self, progress: HistoryProgress) -> None:
        """The loading share, gone once the whole window is in."""
        if progress.error:
            self.history = f"history not loaded ({progress.error}): figures are partial"
        elif progress.done:
            self.history = None
        else:
            self.history = f"loading history {progress.fraction:.0%}: figures partial"
        self.redraw()

    def watch_paused(self) -> None:
        self.redraw()

    def watch_held(self) -> None:
        self.redraw()

    def redraw(self) -> None:
        """Only when the text changed; a layout (a whole-screen reflow) only when its height
        changed, which at 5,000 rows/s is the difference between a cheap repaint and a
        reflow several times a second."""
        markup = self._markup()
        if markup == self._shown_markup:
            return
        update_in_place(self, markup)
        self._shown_markup = markup

    def on_resize(self) -> None:
        self._shown_markup = None
        self.redraw()

    def _markup(self) -> str:
        parts = [self._sources_markup()]
        rate = self.rows_per_second  # a tenth tells at a trickle, not at a backfill's thousands
        parts.append(f"[b]{rate:,.1f}[/] rows/s" if rate < 100 else f"[b]{rate:,.0f}[/] rows/s")
        behind = sum(source.behind_lines for source in self.sources)
        if behind >= BEHIND_SHOWN:
            parts.append(f"[bold yellow]behind ~{behind:,} lines[/]")
        parts.append(f"{self.stored:,} stored")
        style = "bold red" if self.rejected_total else "green"
        parts.append(
            f"[@click=app.show_rejected][{style}]{self.rejected_total:,} rejected[/][/]"
        )
        ahead = None if self.after_now is None else note(self.after_now, wall_clock=True, short=self.size.width < 140)
        if ahead:
            parts.append(f"[bold yellow]{escape(ahead)}[/]")
        parts.append(f"window [b]{escape(self.window)}[/] (w)")
        if self.clock_note:
            parts.append(f"[b yellow]{escape(one_line(self.clock_note))}[/]")
        if self.history:
            parts.append(f"[yellow]{escape(one_line(self.history))}[/]")
        if self.partial and not self.history:
            parts.append("[yellow]figures partial: catching up[/]")
        if self.alerts:
            # the severity in words beside the colour, and a click (or `a`) lists them
            pages = sum(1 for a in self.alerts if a.severity == "page")
            style = "bold white on red" if pages else "bold black on yellow"
            words = ", ".join(f"{n} {word}" for n, word in ((pages, "PAGE"), (len(self.alerts) - pages, "WARN")) if n)
            parts.append(f"[@click=app.show_alerts][{style}] {len(self.alerts)} alert{'s' if len(self.alerts) != 1 else ''}: "
                         f"{words} [/][/] (a)")
        if self.undelivered is not None:
            count = self.undelivered.count
            today = "[b]today[/], not at the replay's moment: " if self.undelivered_today else ""
            parts.append(f"[bold red]{today}{count} alert message{'s' if count != 1 else ''} not delivered[/] "
                         f"({escape(one_line(self.undelivered.detail or ''))})")
        parts.append(f"store [i]{escape(one_line(self._short_store()))}[/]")
        if self._app_says("read_only"):
            parts.append("[reverse b] read-only [/] no labels or runs")
        if self.paused:
            parts.append(f"[reverse bold yellow] PAUSED [/] {self.held:,} new held")
        else:
            parts.append(self._following_markup() if self.patterns or self._receiving else "[dim]store only[/]")
        if self.regress_line:
            parts.append(f"[b cyan]{escape(one_line(self.regress_line))}[/] (R)")
        line = arrange(parts, self.content_region.width)
        if self.error:
            line += f"\n[bold red]ingest stopped:[/] {escape(one_line(self.error))}"
        else:
            if self.store_trouble:
                line += f"\n[bold red]ingest paused:[/] {escape(one_line(self.store_trouble))}"
            if self.receiver is not None and self.receiver.trouble:
                line += (f"\n[bold red]OTLP receiver paused:[/] {escape(one_line(self.receiver.trouble))} "
                         f"[dim](apps hear 503 and resend until the store takes them)[/]")  # fmt: skip
        return line

    def _following_markup(self) -> str:
        quiet = time.monotonic() - self.last_line_at
        if quiet < QUIET_SHOWN_S:
            return "[green]● following[/]"
        minutes, seconds = divmod(int(quiet), 60)
        hours, minutes = divmod(minutes, 60)
        spell = f"{hours}h {minutes:02d}m" if hours else f"{minutes}m {seconds:02d}s"
        return f"[bold yellow]● following: no new line for {spell}[/]"

    @property
    def _receiving(self) -> bool:
        """The console receives OTLP/HTTP spans (started with --otlp)."""
        return self._app_says("otlp_inbox")

    def _app_says(self, attribute: str) -> bool:
        """The console's attribute is set (otlp_inbox: receiving OTLP; read_only: served read-only)."""
        try:
            value = getattr(self.app, attribute, None)
        except NoActiveAppError:  # a header drawn on its own, outside a console
            return False
        return value is not None and value is not False

    def _sources_markup(self) -> str:
        if self._receiving:
            files = self._files_markup() if self.patterns else ""
            return "receiving [b]OTLP/HTTP[/]" + self._receiver_counts() + (f" · {files}" if files else "")
        return self._files_markup()

    def _receiver_counts(self) -> str:
        """The receiver's exports answered 503 (busy: resent), refused, spans rejected, if any."""
        state = self.receiver
        counts = [] if state is None else [f"{n:,} {what}" for n, what in ((state.busy, "answered 503"),
                  (state.refused, "refused"), (state.rejected, "spans rejected")) if n]  # fmt: skip
        return f" [yellow]({', '.join(counts)})[/]" if counts else ""

    def _files_markup(self) -> str:
        if not self.patterns:
            return "[dim]no log files (store only)[/]"
        if self.size.width and self.size.width < 140:
            count = len(self.sources) or len(self.patterns)
            waiting = sum(1 for s in self.sources if s.state != "following")
            note = f" [yellow]({waiting} not following)[/]" if waiting else ""
            return f"tailing [b]{count}[/] file{'s' if count != 1 else ''}{note}"
        if not self.sources:
            names = ", ".join(escape(one_line(Path(p).name)) for p in self.patterns[:3])
            return f"tailing [b]{names}[/]"
        names = []
        for source in self.sources[:3]:
            name = escape(one_line(Path(source.path).name))
            if source.state != "following":
                name += f" [yellow]({escape(one_line(source.state))})[/]"
            names.append(name)
        more = f" +{len(self.sources) - 3}" if len(self.sources) > 3 else ""
        return f"tailing [b]{len(self.sources)}[/] file{'s' if len(self.sources) != 1 else ''}: {', '.join(names)}{more}"

    def _short_store(self) -> str:
        prefix = "sqlite:///"
        if self.store_url.startswith(prefix):
            path = Path(self.store_url[len(prefix):])
            try:
                return str(path.relative_to(Path.cwd()))
            except ValueError:
                return str(path)
        return self.store_url
