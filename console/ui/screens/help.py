"""Every key binding, where it works, and the id that remaps it in llmops.toml."""

from __future__ import annotations

from typing import Iterable, Mapping, Sequence

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

BindingScope = tuple[str, Sequence[Binding]]

FILTER_HELP = """\
Filter (/): terms are ANDed, case-insensitive; -term negates.
  model:gpt-4o  prompt:support-answer@v8  version:v8  status:error
    exactly that name (not gpt-4o-mini, not v80); * is any characters:
    model:gpt-4o*  model:*mini  prompt:support*@v8
  user:u_12  env:staging  provider:openai  finish:length  variant:B
    a part of the value (so are id: and error:)
  latency>2s  latency<500ms  ttft>0.5s  tokens>4k  cost>0.01
    also <, >=, <=, =; a latency needs its unit (s or ms)
  since:1h  since:90m  since:2026-12-07T10:00Z
    from then on; 1h is counted back from now once, when applied
    (a pane's Enter adds its window: model:gpt-4o since:1h)
  any other word must appear in the input, output, error or request id;
  "a:word" in quotes is a word even with a colon."""


def display_keys(keys: str) -> str:
    names = {"question_mark": "?", "slash": "/", "space": "space", "escape": "esc"}
    return " ".join(names.get(k.strip(), k.strip()) for k in keys.split(","))


def does(binding: Binding) -> Text:
    """What a key does, and when, for one of two bindings of a key in a scope (its tooltip:
    the regression run's two escapes read "Back (the run goes on)" and "Back", with no when)."""
    what = binding.description or binding.action
    return Text(f"{what}, {binding.tooltip}" if binding.tooltip else what)


IDS_FROM = 100  # terminal columns from which the help shows the bindings' ids


def bindings_table(scopes: Iterable[BindingScope], keymap: Mapping[str, str], ids: bool = True) -> Table:
    """ids=False below IDS_FROM columns: at 80 the ids, kept whole, squeezed "does" to nothing."""
    table = Table(expand=True, show_edge=False, header_style="bold")
    table.add_column("where", style="cyan", no_wrap=True)
    table.add_column("keys", style="bold yellow", no_wrap=True)
    table.add_column("does", min_width=None if ids else 20)
    if ids:
        table.add_column("id (remap in \\[keys])", style="dim", no_wrap=True)
    for scope, bindings in scopes:
        for binding in bindings:
            keys = keymap.get(binding.id or "", binding.key)
            row = [scope, display_keys(keys), does(binding)]
            table.add_row(*row, *([binding.id or ""] if ids else []))
    return table


class HelpScreen(ModalScreen):
    BINDINGS = [
        Binding("escape,q,question_mark", "app.pop_screen", "Close help", id="help.close"),
        # the keys that move in every table move the help too (it is four screens long at 80x24)
        Binding("j,down", "scroll_help('down')", "Scroll down", show=False, id="help.scroll_down"),
        Binding("k,up", "scroll_help('up')", "Scroll up", show=False, id="help.scroll_up"),
        Binding("g,home", "scroll_help('home')", "Top", show=False, id="help.top"),
        Binding("G,end", "scroll_help('end')", "Bottom", show=False, id="help.bottom"),
    ]

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 96%; max-width: 130; height: 92%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    """

    def __init__(self, scopes: list[BindingScope], keymap: Mapping[str, str]) -> None:
        super().__init__()
        self.scopes = scopes
        self.keymap = keymap

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(Text("llmops-console — keys", style="bold"))
            ids = self.app.size.width >= IDS_FROM
            yield Static(bindings_table(self.scopes, self.keymap, ids), id="help-bindings")
            if not ids:
                yield Static(Text(f"a wider terminal ({IDS_FROM}+ columns) lists each key's id, to remap it", style="dim"))
            yield Static(Text(FILTER_HELP), id="help-filter")
            yield Static(Text("esc or ? closes this help.", style="dim"))

    def action_scroll_help(self, where: str) -> None:
        scroll = self.query_one(VerticalScroll)
        moves = {"down": scroll.scroll_down, "up": scroll.scroll_up, "home": scroll.scroll_home, "end": scroll.scroll_end}
        # immediate: a deferred scroll is aimed from where the last one ended only once it has
        # run, so j j j j j in one burst (key repeat, tmux send-keys) moved one or two lines
        moves[where](animate=False, immediate=True)
