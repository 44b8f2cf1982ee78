"""One full-screen view of one thing, read top to bottom: a title, then titled sections, in a
column that scrolls (Esc or q back, j/k or the arrows to scroll). A request's detail and a
regression case's result are both this screen, with their own sections and binding ids."""

from __future__ import annotations

from typing import ClassVar, Iterator

import orjson
from rich.console import RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Static

from console.sanitize import shown
from console.ui.widgets.key_footer import KeyFooter


def safe(value: object) -> Text:
    """Untrusted text as a Text object: markup is never parsed, control codes are stripped;
    a value that is not a string is shown as JSON, and a missing one as a dim dash."""
    if value is None:
        return Text("—", style="dim")
    if not isinstance(value, str):
        value = orjson.dumps(value).decode()
    return Text(shown(value))  # removed escapes marked ␛


def section(title: str, body: RenderableType, *, id: str | None = None, classes: str = "body") -> tuple[Static, Static]:
    """A section's title line and its bordered body."""
    return Static(title, classes="section-title"), Static(body, classes=classes, id=id)


def scroll_bindings(prefix: str) -> list[Binding]:
    """Back and scroll, with ids under the screen's own prefix (so each is remappable on its own)."""
    return [
        Binding("escape,q", "app.pop_screen", "Back", id=f"{prefix}.back"),
        Binding("j,down", "scroll_down", "Scroll down", show=False, id=f"{prefix}.scroll_down"),
        Binding("k,up", "scroll_up", "Scroll up", show=False, id=f"{prefix}.scroll_up"),
    ]


class SectionsScreen(Screen):
    """Subclasses name their scrolling column (BODY_ID) and yield its widgets from sections()."""

    BODY_ID: ClassVar[str]

    DEFAULT_CSS = """
    SectionsScreen VerticalScroll { padding: 0 1; }
    SectionsScreen .section-title { margin-top: 1; text-style: bold; color: $accent; }
    SectionsScreen .body { border: round $primary 50%; padding: 0 1; }
    SectionsScreen .error-body { border: round $error; padding: 0 1; }
    """

    def compose(self) -> ComposeResult:
        with VerticalScroll(id=self.BODY_ID):
            yield from self.sections()
        yield KeyFooter()

    def sections(self) -> Iterator[Widget]:
        raise NotImplementedError

    # immediate, as the help screen's: each key of a burst moves a line
    def action_scroll_down(self) -> None:
        self.query_one(f"#{self.BODY_ID}", VerticalScroll).scroll_down(immediate=True)

    def action_scroll_up(self) -> None:
        self.query_one(f"#{self.BODY_ID}", VerticalScroll).scroll_up(immediate=True)
