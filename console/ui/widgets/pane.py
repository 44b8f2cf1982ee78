"""What the monitoring panes share: a titled, focusable, maximizable box."""

from __future__ import annotations

from textual.containers import Vertical
from textual.message import Message


class Pane(Vertical, can_focus=False):
    """A bordered area of the dashboard; `m` maximizes it, Esc restores."""

    ALLOW_MAXIMIZE = True
    DEFAULT_CSS = """
    Pane { border: round $primary 60%; border-title-color: $accent; height: 1fr; }
    Pane:focus-within { border: round $accent; }
    """


def hidden_note(hidden: int) -> str:
    """A pane's subtitle part when its table shows only the columns that fit whole."""
    return f"+{hidden} column{'s' if hidden != 1 else ''}: ← →" if hidden else ""


class FilterRequests(Message):
    """Show the requests pane filtered (Enter on a model or version row)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class CompareRequested(Message):
    """Open Compare for a model or a prompt version row (the dashboard picks the other arm)."""

    def __init__(self, kind: str, name: str, before_after: bool = False) -> None:
        super().__init__()
        self.kind = kind  # "model" or "version"
        self.name = name
        self.before_after = before_after  # before/after its first appearance instead
