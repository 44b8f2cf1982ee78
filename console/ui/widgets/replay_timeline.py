"""The replay's timeline: one line under the header, where the replay is in [from, to] and
where the alert rules fired (the backtest's episodes, console/live/replay.py).

    ▶ 10x  11:41:20 UTC ━━━━━━━━━━━━●━━━━━━━━━━ 11:30 → 12:00 · labels are real

The bar's cells are slices of the period: red where a rule pages, yellow where one warns,
dim where none fires; ● is the moment. It reads the driver's state a few times a second
(a lock and a few floats: the UI thread never waits on the store).
"""

from __future__ import annotations

from datetime import datetime, timezone

from rich.text import Text
from textual.widget import Widget

from console.live.replay import ReplayDriver, ReplayState

POLL_INTERVAL = 0.2
LEAD_WIDTH = 24  # "▶ 600x  12:00:00 UTC "
PAGE_STYLE, WARN_STYLE, QUIET_STYLE = "bold red", "yellow", "grey50"


def clock_text(moment: float, seconds: bool = True) -> str:
    return datetime.fromtimestamp(moment, tz=timezone.utc).strftime("%H:%M:%S" if seconds else "%H:%M")


def day_text(moment: float) -> str:
    return datetime.fromtimestamp(moment, tz=timezone.utc).strftime("%Y-%m-%d")


def bar_styles(state: ReplayState, width: int) -> list[str]:
    """One style per cell of the bar: the worst alert firing during the cell's slice."""
    styles = [QUIET_STYLE] * width
    if not state.marks or width <= 0:
        return styles
    span = state.end - state.start
    for mark in state.marks:
        end = state.end if mark.end is None else mark.end
        first = int((mark.start - state.start) / span * width)
        last = int((end - state.start) / span * width)
        for cell in range(max(first, 0), min(max(last, first + 1), width)):
            if mark.severity == "page" or styles[cell] != PAGE_STYLE:
                styles[cell] = PAGE_STYLE if mark.severity == "page" else WARN_STYLE
    return styles


def timeline_text(state: ReplayState, width: int) -> Text:
    line = Text(no_wrap=True, overflow="crop")
    if state.error:
        line.append(f"replay stopped: {state.error}", style="bold red")
        return line
    mode = "❚❚" if state.paused else "▶"
    if state.done:
        mode = "■ end (space: again)"
    line.append(f"{mode} {state.speed:g}x ", style="bold")
    line.append(f"{clock_text(state.moment)} UTC ", style="bold yellow")
    tail = (f" {clock_text(state.start, False)} → {clock_text(state.end, False)} {day_text(state.end)}"
            f" · {'alerts…' if state.marks is None else _marks_word(state)} · labels are real")
    bar_width = max(width - line.cell_len - len(tail), 10)
    cursor = min(int((state.moment - state.start) / (state.end - state.start) * bar_width), bar_width - 1)
    for cell, style in enumerate(bar_styles(state, bar_width)):
        line.append("●" if cell == cursor else "━", style="bold white" if cell == cursor else style)
    line.append(tail, style="dim")
    return line


def _marks_word(state: ReplayState) -> str:
    pages = sum(mark.severity == "page" for mark in state.marks or ())
    warns = len(state.marks or ()) - pages
    if not pages and not warns:
        return "no alert fired"
    return ", ".join(f"{n} {word}" for n, word in ((pages, "page"), (warns, "warn")) if n)


class ReplayTimeline(Widget):
    """Drawn by render() and refreshed in place (one line, a fixed height: no layout pass;
    a Static's update() asked for one five times a second, most of the UI thread's time)."""

    DEFAULT_CSS = """
    ReplayTimeline { height: 1; background: $boost; }
    """

    def __init__(self, driver: ReplayDriver, **kwargs) -> None:
        super().__init__(**kwargs)
        self.driver = driver
        self.shown: ReplayState | None = None

    def on_mount(self) -> None:
        self.set_interval(POLL_INTERVAL, self.poll)
        self.poll()

    def poll(self) -> None:
        state = self.driver.state()
        if state != self.shown:
            self.shown = state
            self.refresh()

    def render(self) -> Text:
        if self.shown is None:
            return Text("replay: loading…")
        return timeline_text(self.shown, max(self.size.width, 40))
