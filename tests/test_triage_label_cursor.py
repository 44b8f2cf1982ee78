"""Labels go to the request the user means: the user trial of the demo's triage (160x48, 80x24).

1. `b 1` then `n`: the cursor had moved on to the next request, unlabelled, so `n` refused
   ("req_… has none: mark it bad (b) or good (o) first"), and following the advice moved it on
   again. `n` right after a label now writes on the request just labelled, and says which.
2. While scores arrived, the request just labelled went below the unlabelled ones, so `k` landed
   on another request. It now keeps its place, and the table keeps the cursor on its row by key
   as rows come and go above it (DiffTable.sync).
3. At 80x24, after a refused `n`, the note typed went on as keys: requests marked good, `e`
   fired. `n` now always opens the note field, saying why a note cannot be kept there.
4. `e`, then quitting the editor without a change, said the case was saved: it says the file
   was left as it was, and does not rewrite it.
"""

from __future__ import annotations

import sys
import time

import pytest
from rich.text import Text
from textual.app import App, ComposeResult

from conftest import line_of, make_record, wait_until
from console.ui.screens.labelling import NoteModal, ReasonModal
from console.ui.widgets.diff_table import DiffTable
from test_triage import app, cases_file, cases_in, open_queue, story  # noqa: F401 (fixtures)


def notified(app, text: str) -> bool:
    return any(text in str(n.message) for n in app._notifications)


async def mark_bad(pilot, app, digit: str = "1") -> None:
    await pilot.press("b")
    await wait_until(pilot, lambda: isinstance(app.screen, ReasonModal))
    await pilot.press(digit)


@pytest.mark.parametrize("size", [(160, 48), (80, 24)])  # at 80 the label changes the columns
async def test_n_right_after_a_label_writes_on_the_request_just_labelled(app, cases_file, size):
    async with app.run_test(size=size) as pilot:
        screen = await open_queue(pilot, app)
        marked = screen.current_item.request_id
        await mark_bad(pilot, app)
        await wait_until(pilot, lambda: app.screen is screen and screen.current_item.request_id != marked)
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, NoteModal))
        note = app.screen
        assert note.request_id == marked and note.refusal is None
        heading = str(note.query_one("#note-heading").render())
        assert marked in heading and "just marked bad: wrong answer" in heading
        await pilot.press(*"says refunds are instant", "enter")
        await wait_until(pilot, lambda: cases_in(cases_file) and cases_in(cases_file)[0]["source"].get("note"))
        assert cases_in(cases_file)[0]["source"]["request_id"] == marked
        assert cases_in(cases_file)[0]["source"]["note"] == "says refunds are instant"
        # once the user moves, n is about the request under the cursor again
        await pilot.press("j", "k")
        assert screen.note_target()[0].request_id == screen.current_item.request_id != marked


async def test_k_goes_back_to_the_request_just_labelled_while_new_rows_arrive(app, story):
    path, _ = story
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_queue(pilot, app)
        await pilot.press("j")
        marked = screen.current_item.request_id
        await mark_bad(pilot, app)
        await wait_until(pilot, lambda: screen.current_item.request_id != marked)
        on = screen.current_item.request_id
        with path.open("a") as handle:  # errors score 0: inserted above the cursor
            for _ in range(3):
                error = {"status": "error", "error_type": "BadRequestError", "error_message": "too long", "output": None}
                handle.write(line_of(make_record(ts=time.time() - 5, prompt_version="v8", **error)))
        # the thread's queue has the label, and the new rows
        await wait_until(pilot, lambda: len(screen.items) == 9 and any(
            i.request_id == marked and i.verdict == "bad" for i in screen.items))
        await pilot.pause(0.1)
        assert screen.current_item.request_id == on  # the cursor stayed on its request
        assert screen.table.current_key == on
        await pilot.press("k")
        assert screen.current_item.request_id == marked


class TableApp(App):
    def compose(self) -> ComposeResult:
        yield DiffTable(["name", "value"])


def rows(*keys: str, same_first_cell: bool = False):
    return [(key, [Text("same" if same_first_cell else key), Text(key.upper())]) for key in keys]


async def test_the_table_keeps_the_cursor_on_its_row_by_key():
    app = TableApp()
    async with app.run_test(size=(60, 20)) as pilot:
        table = app.query_one(DiffTable)
        table.sync(rows("a", "b", "c", "d"))
        table.move_cursor(row=2)
        assert table.current_key == "c"
        table.sync(rows("x", "y", "a", "b", "c", "d"))  # two rows above
        await pilot.pause()
        assert table.current_key == "c"
        table.action_cursor_up()
        assert table.current_key == "b"
        table.sync(rows("x", "a", "c", "d"))  # its row gone, and one above it: the one that followed it
        await pilot.pause()
        assert table.current_key == "c"
        table.sync(rows("x", "a"))  # nothing after it left: the one before
        assert table.current_key == "a"


async def test_rows_whose_first_cells_read_the_same_stay_in_the_order_given():
    app = TableApp()
    async with app.run_test(size=(60, 20)) as pilot:
        table = app.query_one(DiffTable)
        table.sync(rows("a", "b", "c", same_first_cell=True))
        table.sync(rows("c", "a", "b", same_first_cell=True))
        await pilot.pause()
        shown = [table.coordinate_to_cell_key((row, 0)).row_key.value for row in range(table.row_count)]
        assert shown == ["c", "a", "b"]


async def test_a_refused_note_takes_what_is_typed_after_it(app, cases_file):
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_queue(pilot, app)
        first = screen.current_item.request_id
        await pilot.press("n")  # unlabelled: the field opens, saying why nothing is kept
        await wait_until(pilot, lambda: isinstance(app.screen, NoteModal))
        assert app.screen.refusal is not None and first in app.screen.refusal
        await pilot.press(*"good one, see ticket", "enter")  # g, o, e… were keys on the queue
        await wait_until(pilot, lambda: app.screen is screen)
        assert notified(app, "the note was not kept: “good one, see ticket”")
        await pilot.pause(0.3)
        assert not screen.pending and all(item.verdict is None for item in screen.items)
        assert cases_in(cases_file) == []
        assert screen.current_item.request_id == first
        assert not notified(app, "Edit") and not notified(app, "undid")


async def test_an_editor_quit_without_a_change_leaves_the_case_file_as_it_was(app, cases_file, tmp_path, monkeypatch):
    editor = tmp_path / "quit-editor"
    editor.write_text(f"#!{sys.executable}\nimport sys\n")  # :q! — the file as it came
    editor.chmod(0o755)
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", str(editor))
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_queue(pilot, app)
        marked = screen.current_item.request_id
        await mark_bad(pilot, app)
        await wait_until(pilot, lambda: len(cases_in(cases_file)) == 1)
        before = cases_file.stat()
        content = cases_file.read_bytes()
        screen.table.move_cursor(row=screen.table.get_row_index(marked))
        await pilot.pause()
        assert screen.current_item.request_id == marked
        await pilot.press("e")
        await wait_until(pilot, lambda: notified(app, f"case {marked} unchanged"))
        assert notified(app, "left as it was") and not notified(app, "saved in")
        assert cases_file.read_bytes() == content
        assert cases_file.stat().st_ino == before.st_ino  # not rewritten
