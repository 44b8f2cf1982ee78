"""The console through Textual's Pilot: live rows, filter, detail, help, pause, rejects."""

from __future__ import annotations

import html
import io

import pytest
from rich.text import Text
from textual.command import CommandPalette
from textual.widgets import OptionList

from conftest import line_of, make_record, wait_until
from console.ui.app import ConsoleApp
from console.ui.screens.detail import RequestDetailScreen
from console.ui.screens.help import HelpScreen
from console.ui.screens.rejected import RejectedLinesScreen




def append(path, *records) -> None:
    with path.open("a", encoding="utf-8") as handle:
        for record in records:
            handle.write(record if isinstance(record, str) else line_of(record))


@pytest.fixture
def log(tmp_path):
    path = tmp_path / "app.jsonl"
    append(path, make_record(model="gpt-4o"), make_record(model="claude-sonnet-4-5", status="error",
           error_type="RateLimitError", error_message="429 slow down", output=None), make_record())
    return path


@pytest.fixture
def app(tmp_path, log):
    return ConsoleApp(sources=[str(log)], store_url=f"sqlite:///{tmp_path / 'store.db'}")


def screen_text(app) -> str:
    """What the terminal shows, as plain text (the SVG export escapes spaces)."""
    return html.unescape(app.export_screenshot()).replace("\xa0", " ")


def help_text(screen) -> str:
    """Everything the help screen holds, scrolled into view or not."""
    from rich.console import Console
    from textual.widgets import Static

    console = Console(width=250, record=True, file=io.StringIO())
    for static in screen.query(Static):
        console.print(static.content)
    return console.export_text()


def shown(app) -> list[str]:
    return [r.request_id for r in app.requests_view.rows]


async def test_rows_appear_live_as_lines_are_appended(app, log):
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_until(pilot, lambda: len(shown(app)) == 3)
        extra = [make_record(prompt_version="v8") for _ in range(5)]
        append(log, *extra)
        await wait_until(pilot, lambda: len(shown(app)) == 8)
        assert shown(app)[-5:] == [r["request_id"] for r in extra]
        assert app.requests_view.cursor == 7, "the cursor follows the newest row"


async def test_filter_narrows_the_rows_and_escape_clears_it(app):
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_until(pilot, lambda: len(shown(app)) == 3)
        await pilot.press("slash")
        await pilot.press(*"status:error")
        await pilot.press("enter")
        assert [r.status for r in app.requests_view.rows] == ["error"]
        assert "status:error" in app.requests_view.border_title
        await pilot.press("escape")
        assert len(shown(app)) == 3


async def test_a_bad_filter_says_why_and_keeps_the_rows(app):
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_until(pilot, lambda: len(shown(app)) == 3)
        await pilot.press("slash", *"model:", "enter")
        assert len(shown(app)) == 3
        assert any("needs a value" in str(n.message) for n in app._notifications)


async def test_enter_opens_the_request_and_escape_goes_back(app):
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_until(pilot, lambda: len(shown(app)) == 3)
        await pilot.press("k", "enter")
        assert isinstance(app.screen, RequestDetailScreen)
        assert app.screen.record.status == "error"
        error = app.screen.query_one("#detail-error").content
        assert "429 slow down" in str(error)
        await pilot.press("escape")
        assert not isinstance(app.screen, RequestDetailScreen)


async def test_model_output_markup_and_escape_sequences_are_shown_safely(tmp_path):
    log = tmp_path / "evil.jsonl"
    evil = "[red]x[/red] \x1b[2J\x1b]0;pwned\x07 done"
    append(log, make_record(output=evil, model="[b]m[/b]"))
    app = ConsoleApp(sources=[str(log)], store_url=f"sqlite:///{tmp_path / 's.db'}")
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_until(pilot, lambda: len(shown(app)) == 1)
        await wait_until(pilot, lambda: "[b]m[/b]" in screen_text(app))  # drawn literally, not as bold
        app.requests_view.focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, RequestDetailScreen))
        output = app.screen.query_one("#detail-output").content
        assert isinstance(output, Text)
        assert output.plain == "[red]x[/red] ␛␛ done"  # each sequence taken out leaves a mark (issue 17)
        svg = screen_text(app)
        assert "[red]x[/red]" in svg
        assert "\x1b" not in svg and "pwned" not in svg


async def test_help_lists_every_binding_with_its_id(app):
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        svg = help_text(app.screen)
        for _scope, bindings in app.binding_scopes():
            for binding in bindings:
                assert binding.id, f"binding {binding.key} has no id"
                assert binding.id in svg
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_space_pauses_following_and_resuming_shows_what_arrived(app, log):
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_until(pilot, lambda: len(shown(app)) == 3)
        await pilot.press("space")
        assert app.status_header.paused
        append(log, make_record(), make_record())
        await wait_until(pilot, lambda: app.status_header.held == 2)
        assert len(shown(app)) == 3
        await pilot.press("space")
        assert len(shown(app)) == 5
        assert not app.status_header.paused


async def test_rejected_lines_are_counted_and_listed_with_line_and_reason(app, log):
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_until(pilot, lambda: len(shown(app)) == 3)
        append(log, "{not json\n", make_record(input_tokens="12"), make_record())
        await wait_until(pilot, lambda: app.rejected_total == 2 and len(shown(app)) == 4)
        await pilot.press("x")
        assert isinstance(app.screen, RejectedLinesScreen)
        svg = screen_text(app)
        assert "invalid JSON" in svg and "input_tokens" in svg
        lines = sorted(r.line_no for r in app.screen.rejected)
        assert lines == [4, 5]


async def test_command_palette_offers_the_same_actions(app):
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_until(pilot, lambda: len(shown(app)) == 3)
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.pause(0.1)
        await pilot.press(*"Pause")
        options = app.screen.query_one(OptionList)
        await wait_until(pilot, lambda: options.option_count > 0)
        assert "Pause / resume following" in str(options.get_option_at_index(0).prompt)
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: app.status_header.paused)


async def test_store_only_mode_shows_history(tmp_path, log):
    from console.ingest import ingest_files
    from console.store import Store

    url = f"sqlite:///{tmp_path / 'hist.db'}"
    with Store(url) as store:
        ingest_files(store, [str(log)])
    app = ConsoleApp(sources=[], store_url=url)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: len(shown(app)) == 3)
        assert app.status_header.stored == 3


async def test_dashboard_keys_do_nothing_on_other_screens(app):
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_until(pilot, lambda: len(shown(app)) == 3)
        await pilot.press("enter")
        assert isinstance(app.screen, RequestDetailScreen)
        await pilot.press("slash", "space")
        assert isinstance(app.screen, RequestDetailScreen)
        assert not app.status_header.paused


async def test_the_table_fits_an_80_column_terminal(app):
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: len(shown(app)) == 3)
        view = app.requests_view
        assert view.narrow
        assert view.virtual_size.width <= view.scrollable_content_region.width
        text = screen_text(app)
        assert "status" in text and "gpt-4o" in text
        # the output keeps a readable start, not only '…' (the tokens go; Enter shows them)
        drawn = [view.render_line(y).text for y in range(1, 4)]
        assert any("Open Sett" in line for line in drawn), drawn


async def test_keys_and_clicks_make_the_scoring_thread_step_aside(app):
    import time

    async with app.run_test() as pilot:
        await wait_until(pilot, lambda: len(shown(app)) >= 2)
        before = time.monotonic()
        await pilot.press("down")
        assert app.evaluation._input_at >= before and app.evaluation._quiet_left() > 0
        pressed = app.evaluation._input_at
        await pilot.click("#requests")
        assert app.evaluation._input_at > pressed


async def test_help_at_80_columns_says_what_each_key_does(app):
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        text = help_text(app.screen)
        for _scope, bindings in app.binding_scopes():
            for binding in bindings:
                assert (binding.description or binding.action) in text
        assert "100+ columns" in text


async def test_the_header_grows_and_shrinks_with_its_text(app):
    """Redrawn in place while its height holds; laid out again when a long message needs more."""
    # 160 columns: the log is older than the window, so the header says "logs end ..." and
    # with the test's long store path it is at its 3 lines at 120 columns already
    async with app.run_test(size=(160, 30)) as pilot:
        await wait_until(pilot, lambda: len(shown(app)) >= 2 and app.status_header.clock_note is not None)
        await pilot.pause(0.1)
        header, requests = app.status_header, app.dashboard.query_one("#requests")
        height, top = header.size.height, requests.region.y
        header.error = "the store refused a batch " * 6
        header.redraw()
        await pilot.pause(0.1)
        assert header.size.height > height and requests.region.y == top + header.size.height - height
        header.error = None
        header.redraw()
        await pilot.pause(0.1)
        assert header.size.height == height and requests.region.y == top


async def test_keys_typed_right_after_slash_go_into_the_filter(app):
    """A burst ("/" then the text, as a paste or tmux's send-keys delivers it): each key is
    queued before the first is handled, so the filter must hold focus when "/" is done, not a
    moment later, or "a" of "late" opens the alerts screen."""
    from textual import events

    async with app.run_test(size=(160, 40)) as pilot:
        await wait_until(pilot, lambda: len(shown(app)) == 3)
        dashboard = app.screen
        app.post_message(events.Key("slash", "/"))
        for character in "status:error":
            app.post_message(events.Key(character if character.isalnum() else "colon", character))
        await pilot.pause()
        assert app.screen is dashboard
        assert dashboard.query_one("#filter").value == "status:error"


async def test_a_slash_typed_in_the_filter_is_text(app):
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_until(pilot, lambda: len(shown(app)) == 3)
        await pilot.press("slash", *"model:openai", "slash", *"gpt")
        assert app.screen.query_one("#filter").value == "model:openai/gpt"


async def test_a_key_remapped_to_the_filter_still_types_inside_it(tmp_path, log):
    """The filter's binding runs before the focused box sees the key (priority): typed inside
    the box, the key is the box's, whatever key llmops.toml's [keys] gave the filter."""
    app = ConsoleApp(sources=[str(log)], store_url=f"sqlite:///{tmp_path / 'store.db'}", keymap={"dashboard.filter": "f"})
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_until(pilot, lambda: len(shown(app)) == 3)
        await pilot.press("f", *"model:gpt-4o", "slash", "f")
        assert app.screen.query_one("#filter").value == "model:gpt-4o/f"
