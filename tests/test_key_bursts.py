"""Keys typed in one burst right after the key that opens a text field go into that field, in order.

Found driving the demo in tmux (`tmux send-keys 'Rstaging'` while the store was loading): the R
dialog opened with the target still `demo` (the characters dropped, or typed over the suite box),
and `n` then `wrong answer` on a labelled request opened an empty note. Textual hands each key to
the focused widget at once, and a key bound on a screen or the app only runs once it has bubbled
back up, so the characters behind `R` or `n` were already on their way to the old screen's
table. `console/ui/key_order.py` (`KeysInOrder`, the app's) routes a key once the one before it
is through. The bursts are posted as the terminal driver posts one read's keys: all queued before
any is handled (`pilot.press` waits for the app between keys, and never showed it)."""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Input

from conftest import wait_until
from console.ui.key_order import KeysInOrder
from console.ui.screens.labelled_detail import LabelledDetailScreen
from console.ui.screens.labelling import NoteModal
from console.ui.screens.regress_launch import RegressLaunchModal
from test_regress_launch_check import console
from test_regress_prompt_version import demo_project  # noqa: F401 (a fixture)
from test_triage import app, cases_file, story  # noqa: F401 (fixtures)

NAMED = {"space": " ", "enter": "\r", "tab": "\t", "ctrl+u": "\x15", "backspace": "\x7f"}
CHARACTER_KEYS = {" ": "space", ":": "colon", "-": "minus", "/": "slash"}


def burst(app, *keys: str) -> None:
    """Each key as the driver posts it; a string of several characters is typed one by one."""
    for key in keys:
        if key in NAMED:
            app.post_message(events.Key(key, NAMED[key]))
        else:
            for char in key:
                app.post_message(events.Key(CHARACTER_KEYS.get(char, char), char))


async def test_the_requests_filter_gets_every_character_typed_after_the_slash(app):  # noqa: F811
    async with app.run_test(size=(200, 60)) as pilot:
        await wait_until(pilot, lambda: len(app.requests_view.rows) == 40)
        burst(app, "/", "status:error model:gpt-4o")
        await wait_until(pilot, lambda: app.dashboard.query_one("#filter", Input).value == "status:error model:gpt-4o")


async def test_the_run_dialog_gets_the_keys_typed_right_after_R(demo_project):  # noqa: F811
    app = console(demo_project)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_until(pilot, lambda: app.screen is app.dashboard and app.focused is not None)
        burst(app, "R", "staging", "tab", "v9")
        await wait_until(pilot, lambda: isinstance(app.screen, RegressLaunchModal))
        await pilot.pause(0.3)
        boxes = {box.id: box.value for box in app.screen.query(Input)}
        assert boxes == {"launch-suite": "regression/cases.jsonl", "launch-target": "staging",
                         "launch-version": "v9", "launch-baseline": ""}  # fmt: skip


async def test_a_note_typed_right_after_n_is_saved_whole_and_its_letters_label_nothing(app):  # noqa: F811
    async with app.run_test(size=(200, 60)) as pilot:
        await wait_until(pilot, lambda: len(app.requests_view.rows) == 40)
        await pilot.press("enter")
        assert isinstance(app.screen, LabelledDetailScreen)
        detail = app.screen
        await pilot.press("o")
        await wait_until(pilot, lambda: "good · by oncall-ana" in str(detail.query_one("#detail-label").render()))
        # b, o and u are the detail's label keys: typed in the note, they are the note's letters
        burst(app, "n", "bug: output cut", "enter")
        await wait_until(pilot, lambda: str(detail.query_one("#detail-label").render()).endswith("note: bug: output cut"))
        assert app.screen is detail
        assert str(detail.query_one("#detail-label").render()).startswith("Label: good · by oncall-ana")


class AskName(ModalScreen[str]):
    def compose(self) -> ComposeResult:
        yield Input(id="first")
        yield Input(id="name")

    def on_mount(self) -> None:
        self.query_one("#name", Input).focus()  # not the first box: focus() lands after a refresh


class Board(Screen):
    BINDINGS = [Binding("a", "ask", "Ask"), Binding("e", "erase", "Erase")]

    def __init__(self) -> None:
        super().__init__()
        self.erased = 0

    def compose(self) -> ComposeResult:
        yield DataTable()

    def action_ask(self) -> None:
        self.app.push_screen(AskName())

    def action_erase(self) -> None:
        self.erased += 1


class Host(KeysInOrder):
    def on_mount(self) -> None:
        self.push_screen(Board())


async def test_a_dialog_opened_by_a_key_gets_the_burst_behind_it_and_its_editing_keys_in_place():
    app = Host()
    async with app.run_test() as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, Board) and app.focused is not None)
        board = app.screen
        burst(app, "a", "eve", "ctrl+u", "stevex", "backspace", "n")
        await wait_until(pilot, lambda: isinstance(app.screen, AskName))
        await pilot.pause(0.3)
        assert app.screen.query_one("#name", Input).value == "steven"
        assert app.screen.query_one("#first", Input).value == ""
        assert board.erased == 0  # `e` typed behind `a` is a character of the name, not the board's key
