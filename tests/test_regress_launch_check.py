"""The `R` dialog checks the choice before it closes, and the runs history says what it hides.

Found in a verification trial (demo, 80x24): `v99` typed as the baseline, or `nosuch` as the
target, closed the dialog, losing what was typed, and said the mistake over the dashboard;
keys typed at once after R went to the suite box; the runs history put status and suite past
the right edge with only a scrollbar to say so."""

from __future__ import annotations

import asyncio

import pytest
from textual.widgets import Input, Static

from console.regression.execute import execute
from console.regression.plan import make_plan
from console.store import Store
from console.ui.app import ConsoleApp
from console.ui.screens.regress import RegressRunScreen
from console.ui.screens.regress_history import RegressHistoryScreen
from console.ui.screens.regress_launch import RegressLaunchModal
from test_regress_prompt_version import demo_project  # noqa: F401 (a fixture)
from test_ui import screen_text, wait_until


def console(project) -> ConsoleApp:
    from console.config import load_settings

    return ConsoleApp(sources=[], store_url=str(project / "s.db"), settings=load_settings(project / "llmops.toml"))


def problem(app) -> str:
    if not isinstance(app.screen, RegressLaunchModal):
        return ""
    return " ".join(str(app.screen.query_one("#launch-problem", Static).content).split())


async def type_into(pilot, box: str, text: str) -> None:
    pilot.app.screen.query_one(f"#{box}", Input).focus()
    await pilot.press("ctrl+e", "ctrl+u", *text)


@pytest.mark.parametrize(("box", "typed", "said"), [
    # the dialog's own words: it said 'baseline: --baseline takes…' (a CLI flag) and
    # 'prompt version: prompt version 'v99' is not…' (the field named twice)
    ("launch-baseline", "v99", "baseline: a run id (its # in the runs history), none, or empty; not 'v99'"),
    ("launch-target", "nosuch", "target: 'nosuch' is not in [regression.targets] (demo)"),
    ("launch-version", "v99", "prompt version: 'v99' is not a registered version"),  # found reading the registry
    ("launch-baseline", "42", "baseline: no run #42 in the store"),  # found in the store
    ("launch-suite", "nosuch.jsonl", "suite: nosuch.jsonl: no such suite file"),
])  # fmt: skip
async def test_a_wrong_field_keeps_the_dialog_open_with_what_was_typed(demo_project, box, typed, said):  # noqa: F811
    app = console(demo_project)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("R")
        await wait_until(pilot, lambda: isinstance(app.screen, RegressLaunchModal))
        await type_into(pilot, box, typed)
        if box != "launch-target":
            await pilot.press("shift+tab")  # the cursor elsewhere: the check puts it back
        await pilot.press("enter")
        await wait_until(pilot, lambda: said in problem(app), timeout=15)
        assert isinstance(app.screen, RegressLaunchModal)
        assert app.screen.query_one(f"#{box}", Input).value == typed
        assert app.focused is app.screen.query_one(f"#{box}", Input)
        shown = app.screen.query_one("#launch-problem", Static)  # in the dialog, whole, at 80x24 too
        assert shown.region.height >= 1 and app.screen.region.contains_region(shown.region)
        assert app.regress_session is None
        # corrected, Enter runs
        await type_into(pilot, box, {"launch-suite": "regression/cases.jsonl", "launch-target": "demo"}.get(box, "v9"
                                     if box == "launch-version" else "none"))  # fmt: skip
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, RegressRunScreen))


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
async def test_the_runs_history_says_how_many_columns_it_hides(demo_project, size):  # noqa: F811
    from console.config import load_settings

    settings = load_settings(demo_project / "llmops.toml")
    store_url = str(demo_project / "s.db")

    def two_runs():
        with Store(store_url) as store:
            execute(make_plan(settings, baseline="none"), store)
            execute(make_plan(settings, baseline="none", prompt_version="v9"), store)

    await asyncio.to_thread(two_runs)
    screen = RegressHistoryScreen(store_url)
    app = console(demo_project)
    async with app.run_test(size=size) as pilot:
        app.push_screen(screen)
        await wait_until(pilot, lambda: screen.runs and screen.table.row_count == 2)
        await pilot.pause()
        text = screen_text(app)
        assert "#2" in text and "#1" in text
        if size[0] == 80:
            hidden = screen.table.hidden_columns
            assert hidden and f"+{hidden} columns: ← →" in text
            assert "suite" not in [str(column.label) for column in screen.table.ordered_columns]  # hidden...
            screen.table.focus()
            for _ in range(9):  # each → moves one column on
                await pilot.press("right")
            assert "suite" in [str(column.label) for column in screen.table.ordered_columns]  # ...a → away
        else:
            assert screen.table.hidden_columns == 0 and "columns: ←" not in text
            assert "regression/cases.jsonl" in text and "finished" in text
        await pilot.press("B")
        await wait_until(pilot, lambda: any(r.is_baseline for r in screen.runs))
        assert "★ #2" in screen_text(app)
