"""`p`: the prompts screen through Pilot: versions with labels, hashes, traffic, drift; text; side-by-side diff."""

from __future__ import annotations

import io
import time

from rich.console import Console
from textual.widgets import DataTable, Static

from conftest import line_of, make_record, wait_until
from console.config import PromptSettings, Settings
from console.prompts.registry import load_registry
from console.ui.app import ConsoleApp
from console.ui.screens.prompts import PromptsScreen

V7 = "Answer the customer.\nBe brief.\n"
V8 = "Answer the customer.\nAlways offer a refund [bold red]now[/].\x1b[31m\nBe brief.\n"




def rendered(widget_or_renderable) -> str:
    renderable = widget_or_renderable.render() if isinstance(widget_or_renderable, Static) else widget_or_renderable
    console = Console(width=200, record=True, color_system=None, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def make_app(tmp_path) -> tuple[ConsoleApp, object]:
    root = tmp_path / "prompts"
    (root / "support-answer").mkdir(parents=True)
    (root / "support-answer" / "v7.txt").write_text(V7)
    (root / "support-answer" / "v8.txt").write_text(V8)
    (root / "support-answer" / "labels.toml").write_text('production = "v7"\ncandidate = "v8"\n')
    registry = load_registry(root)
    good = registry.get("support-answer", "v7").short_hash
    log = tmp_path / "app.jsonl"
    with log.open("w") as handle:
        for _ in range(3):
            handle.write(line_of(make_record(ts=time.time() - 60, prompt_version="v7", prompt_hash=good)))
        handle.write(line_of(make_record(ts=time.time() - 50, prompt_version="v8", prompt_hash="0123456789ab")))
        handle.write(line_of(make_record(ts=time.time() - 40, prompt_version="v9")))
    settings = Settings(prompts=PromptSettings(path=str(root)))
    app = ConsoleApp(sources=[str(log)], store_url=f"sqlite:///{tmp_path / 'store.db'}", settings=settings)
    return app, registry


async def test_p_opens_the_registry_with_labels_hashes_counts_and_drift(tmp_path):
    app, registry = make_app(tmp_path)
    async with app.run_test(size=(200, 50)) as pilot:
        await wait_until(pilot, lambda: app.dashboard.report is not None and app.dashboard.report.requests == 5)
        await pilot.press("p")
        await wait_until(pilot, lambda: isinstance(app.screen, PromptsScreen) and app.screen.registry is not None)
        screen = app.screen
        assert screen.keys == [("support-answer", "v7"), ("support-answer", "v8"), ("support-answer", "v9")]
        table = screen.query_one(DataTable)
        cells = [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]
        v7, v8, v9 = cells
        # columns: prompt@version, registry, requests, errors, bad, rated, p95, labels, hash, first/last seen
        assert v7[0] == "support-answer@v7"
        assert v7[7] == "production" and v7[8] == registry.get("support-answer", "v7").short_hash
        assert v7[2] == "3" and v7[1] == "ok"
        assert v8[7] == "candidate" and v8[1] == "DRIFT 0123456789ab"
        assert v9[8] == "-" and v9[2] == "1" and v9[1] == "unregistered"
        assert (v7[4], v7[5]) == ("—", "0")  # nobody rated v7's responses: no bad rate, not 0%
        # latency in seconds, as every pane writes it (the column was 'p95 ms': '1,100')
        assert str(table.ordered_columns[6].label) == "p95" and v7[6] == "1.23s"
        assert "1 drifted, 1 unregistered" in rendered(screen.query_one("#prompts-title", Static))

        await pilot.press("down", "enter")  # v8's text, shown literally
        assert screen.shown == "text"
        body = rendered(screen.body)
        assert "Always offer a refund [bold red]now[/]." in body and "\x1b" not in body

        await pilot.press("d")  # v8 against v7, side by side
        assert screen.shown == "diff"
        body = rendered(screen.body)
        assert "1 line added" in body and "+ Always offer a refund [bold red]now[/]." in body
        assert "\x1b" not in body

        await pilot.press("up", "d")  # v7 has no predecessor: a notice, the view unchanged
        assert screen.shown == "diff"
        await pilot.press("down", "down", "enter")
        assert screen.shown == "missing"
        await pilot.press("escape")
        assert not isinstance(app.screen, PromptsScreen)


async def test_a_broken_registry_says_which_file(tmp_path):
    app, _ = make_app(tmp_path)
    (tmp_path / "prompts" / "support-answer" / "v7.md").write_text("dup")
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.press("p")
        await wait_until(pilot, lambda: isinstance(app.screen, PromptsScreen)
                         and "duplicate version" in rendered(app.screen.query_one("#prompts-title", Static)))
        assert "v7" in rendered(app.screen.query_one("#prompts-title", Static))


async def test_p_marks_versions_registered_from_logs_as_text_unknown(tmp_path):
    root = tmp_path / "prompts" / "support-answer"
    root.mkdir(parents=True)
    (root / "v6.txt").write_text(V7)
    (root / "v7.txt").write_text('---\ntext_unknown: true\nprompt_hash: "abcdef123456"\n---\ntext unknown: registered from logs.\n')
    log = tmp_path / "app.jsonl"
    log.write_text(line_of(make_record(ts=time.time() - 60, prompt_version="v7", prompt_hash="abcdef123456")))
    settings = Settings(prompts=PromptSettings(path=str(tmp_path / "prompts")))
    app = ConsoleApp(sources=[str(log)], store_url=f"sqlite:///{tmp_path / 'store.db'}", settings=settings)
    async with app.run_test(size=(200, 50)) as pilot:
        await wait_until(pilot, lambda: app.dashboard.report is not None and app.dashboard.report.requests == 1)
        await pilot.press("p")
        await wait_until(pilot, lambda: isinstance(app.screen, PromptsScreen) and app.screen.registry is not None)
        screen = app.screen
        table = screen.query_one(DataTable)
        v6, v7 = ([str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count))
        assert v7[8] == "abcdef123456" and v7[1] == "text unknown" and v6[1] == "ok"
        assert "0 drifted, 0 unregistered" in rendered(screen.query_one("#prompts-title", Static))
        await pilot.press("down", "enter")
        assert screen.shown == "text" and "text unknown: registered from logs: the body is a placeholder" in rendered(screen.body)
        await pilot.press("d")  # no diff against a text nobody knows
        assert screen.shown == "text"


async def test_R_on_a_version_asks_to_run_the_suite_on_it(tmp_path):
    from console.ui.screens.regress_launch import RegressLaunchModal

    app, _ = make_app(tmp_path)
    async with app.run_test(size=(200, 50)) as pilot:
        await wait_until(pilot, lambda: app.dashboard.report is not None and app.dashboard.report.requests == 5)
        await pilot.press("p")
        await wait_until(pilot, lambda: isinstance(app.screen, PromptsScreen) and app.screen.registry is not None)
        await pilot.press("down", "R")  # v8
        await wait_until(pilot, lambda: isinstance(app.screen, RegressLaunchModal))
        assert app.screen.prompt_version == "v8"
