"""`R`: which suite, target, prompt version and baseline to run (defaults from config).

The suite box starts with regression.suite; left as it is, the configured suite runs (its path
is relative to llmops.toml); a path typed there (a cases JSONL or a promptfooconfig.yaml) is
relative to the working directory, as --suite is."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static


@dataclass(frozen=True)
class LaunchChoice:
    target: str | None
    prompt_version: str | None
    baseline: str | None
    suite: str | None = None  # None: regression.suite


class RegressLaunchModal(ModalScreen[LaunchChoice | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="regress_launch.cancel")]

    DEFAULT_CSS = """
    RegressLaunchModal { align: center middle; }
    RegressLaunchModal > Vertical {
        width: 72; height: auto; border: thick $primary; background: $surface; padding: 0 1;
    }
    RegressLaunchModal Label { margin-top: 1; width: 100%; }  /* wraps: the target's label was cut at 80 columns */
    """

    def __init__(self, default_target: str | None, suite: str, prompt_version: str | None = None) -> None:
        super().__init__()
        self.default_target = default_target
        self.suite = suite
        self.prompt_version = prompt_version

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text("Run the regression suite", style="bold"))
            yield Label("suite (a cases JSONL or a promptfooconfig.yaml)")
            yield Input(value=self.suite, id="launch-suite")
            yield Label("target (a name from [regression.targets], python:mod:fn or replay:PATH)")
            yield Input(value=self.default_target or "", id="launch-target")
            yield Label("prompt version to try (empty: the target's own)")
            yield Input(value=self.prompt_version or "", placeholder="e.g. v9", id="launch-version")
            yield Label("baseline run id (empty: the marked baseline; none: no comparison)")
            yield Input(placeholder="e.g. 3", id="launch-baseline")
            yield Static(Text("enter runs · esc cancels", style="dim"))

    def on_mount(self) -> None:
        self.query_one("#launch-target", Input).focus()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        value = {box.id: box.value.strip() or None for box in self.query(Input)}
        suite = value["launch-suite"]
        self.dismiss(LaunchChoice(value["launch-target"], value["launch-version"], value["launch-baseline"],
                                  None if suite == self.suite.strip() else suite))

    def action_cancel(self) -> None:
        self.dismiss(None)
