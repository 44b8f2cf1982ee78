"""`R`: which suite, target, prompt version and baseline to run (defaults from config).

The suite box starts with regression.suite; left as it is, the configured suite runs (its path
is relative to llmops.toml); a path typed there (a cases JSONL or a promptfooconfig.yaml) is
relative to the working directory, as --suite is.

Enter checks the choice first (`check`, in a thread worker: the suite file, the registry and
the store are read) and the dialog stays open on a mistake, with what was typed, the message
under the fields and the cursor in the field it names; Esc still cancels while it checks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static
from textual.worker import Worker, WorkerState


@dataclass(frozen=True)
class LaunchChoice:
    target: str | None
    prompt_version: str | None
    baseline: str | None
    suite: str | None = None  # None: regression.suite


# PlanError.field -> the box it is typed in
FIELD_BOXES = {"suite": "launch-suite", "target": "launch-target", "prompt_version": "launch-version",
               "baseline": "launch-baseline"}  # fmt: skip
CHECK_GROUP = "regress-launch-check"


class RegressLaunchModal(ModalScreen[LaunchChoice | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="regress_launch.cancel")]

    DEFAULT_CSS = """
    RegressLaunchModal { align: center middle; }
    RegressLaunchModal > Vertical {
        width: 72; height: auto; max-height: 100%; overflow-y: auto;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    /* wraps: the target's label was cut at 80 columns; no margin: with one the dialog was 25 rows */
    RegressLaunchModal Label { width: 100%; }
    RegressLaunchModal #launch-problem { height: auto; display: none; }
    """

    def __init__(
        self,
        default_target: str | None,
        suite: str,
        prompt_version: str | None = None,
        check: Callable[[LaunchChoice], None] | None = None,
    ) -> None:
        """`check` raises PlanError for a choice that cannot run (None: the dialog closes as it is)."""
        super().__init__()
        self.default_target = default_target
        self.suite = suite
        self.prompt_version = prompt_version
        self.check = check

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
            yield Static(Text(""), id="launch-problem")
            yield Static(Text("enter runs · esc cancels", style="dim"))

    def on_mount(self) -> None:
        self.query_one("#launch-target", Input).focus()

    def choice(self) -> LaunchChoice:
        value = {box.id: box.value.strip() or None for box in self.query(Input)}
        suite = value["launch-suite"]
        return LaunchChoice(value["launch-target"], value["launch-version"], value["launch-baseline"],
                            None if suite == self.suite.strip() else suite)  # fmt: skip

    @on(Input.Submitted)
    def _submitted(self) -> None:
        choice = self.choice()
        if self.check is None:
            self.dismiss(choice)
            return
        if any(worker.group == CHECK_GROUP and not worker.is_finished for worker in self.workers):
            return  # Enter again while checking
        self._say(Text("checking…", style="dim"))
        check = self.check

        def work() -> LaunchChoice:
            check(choice)
            return choice

        self.run_worker(work, thread=True, group=CHECK_GROUP, name="check the run", exit_on_error=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group != CHECK_GROUP or event.state not in (WorkerState.SUCCESS, WorkerState.ERROR):
            return
        if event.state == WorkerState.SUCCESS:
            if worker.result == self.choice():  # not edited while it was checked
                self.dismiss(worker.result)
            else:
                self._say(Text("changed while checked: enter runs", style="dim"))
            return
        error = worker.error
        field = getattr(error, "field", None)
        said = error.dialog_text() if hasattr(error, "dialog_text") else str(error)  # PlanError: the dialog's words
        self._say(Text(said, style="bold red"))  # Text: a path or version typed is not markup
        box = FIELD_BOXES.get(field or "")
        if box is not None:  # the message under the wrong field, the cursor in it
            problem = self.query_one("#launch-problem", Static)
            self.query_one(Vertical).move_child(problem, after=self.query_one(f"#{box}", Input))
            self.query_one(f"#{box}", Input).focus()
            self.call_after_refresh(problem.scroll_visible, animate=False)

    def _say(self, text: Text) -> None:
        problem = self.query_one("#launch-problem", Static)
        problem.update(text)
        problem.display = bool(text.plain)

    def action_cancel(self) -> None:
        self.dismiss(None)
