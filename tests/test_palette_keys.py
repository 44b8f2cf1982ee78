"""The command palette has one keys entry, ours: Textual's "Keys" (its key panel) is left out.

Found in a user trial of the demo: ctrl+p listed Textual's "Keys" beside our "Help: keys"; it
opened Textual's key panel, which Esc did not close (only the palette's "Keys – Hide the keys…"
did), and while it was open the Requests table's status column was cut to 'o'."""

from __future__ import annotations

from textual.command import CommandPalette
from textual.widgets import OptionList

from conftest import line_of, make_record, wait_until
from console.ui.app import ConsoleApp
from console.ui.screens.help import HelpScreen


async def test_the_palette_offers_our_help_for_keys_and_not_textuals_key_panel(tmp_path):
    log = tmp_path / "app.jsonl"
    log.write_text(line_of(make_record()))
    app = ConsoleApp(sources=[str(log)], store_url=f"sqlite:///{tmp_path / 'store.db'}")
    async with app.run_test(size=(160, 40)) as pilot:
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert "Keys" not in titles and "Help: keys" in titles
        assert {"Theme", "Quit"} <= set(titles)  # Textual's other entries stay
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.pause(0.1)
        await pilot.press(*"keys")
        options = app.screen.query_one(OptionList)
        await wait_until(pilot, lambda: options.option_count > 0)
        await pilot.pause(0.3)  # every provider has answered
        prompts = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert not any(prompt.startswith("Keys") for prompt in prompts), prompts
        assert any(prompt.startswith("Help: keys") for prompt in prompts), prompts
        await pilot.press("enter")  # the first match: our help, which Esc closes
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is app.dashboard)
        assert not app.screen.query("HelpPanel")
