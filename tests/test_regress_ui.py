"""The regression run screen through Textual's Pilot: live progress, results as they land,
a failing case's diff, Esc leaving the run going, the runs history and B."""

from __future__ import annotations

import asyncio
import html
import json
import re
import sys
import threading
import time
import types
from itertools import islice

import pytest
from textual.app import App

from conftest import wait_until
from console.config import Settings
from console.demo.story import generate_history
from console.demo.target import DEMO_REGRESSION_TOML, is_defect
from console.regression import history
from console.regression.plan import make_plan
from console.store import Store
from console.ui.screens.regress import RegressRunScreen
from console.ui.screens.regress_history import RegressHistoryScreen
from console.ui.screens.regress_case import RegressCaseScreen, diff_text




def screen_text(app) -> str:
    """What the terminal shows, as plain text (the SVG export splits lines into styled runs)."""
    runs = re.findall(r">([^<]*)</text>", app.export_screenshot())
    return html.unescape("".join(runs)).replace("\xa0", " ")


class Host(App):
    """A bare app that shows one screen: the run screen is pushed straight onto it."""

    def __init__(self, screen_factory):
        super().__init__()
        self.screen_factory = screen_factory

    def on_mount(self) -> None:
        self.push_screen(self.screen_factory())


@pytest.fixture
def demo_suite(tmp_path, monkeypatch):
    """Three triage cases from the demo story (two bad v8 responses, one hostile), the demo's config."""
    monkeypatch.chdir(tmp_path)
    records = [r for r in generate_history(4000) if r["prompt_id"] == "support-answer" and "output" in r]
    bad = list(islice((r for r in records if r["prompt_version"] == "v8" and is_defect(r["output"])), 2))
    fine = next(r for r in records if r["prompt_version"] == "v7" and r["output"] and not is_defect(r["output"]))
    lines = []
    for i, record in enumerate([*bad, fine]):
        lines.append(json.dumps({
            "id": f"case-{i}-[bold]x[/]", "input": {"text": record["input"]},
            "assert": [{"type": "not-equals", "value": record["output"]}], "tags": ["triage"],
            "source": {"kind": "triage", "prompt_id": "support-answer", "prompt_version": record["prompt_version"],
                       "bad_output": record["output"]},
        }))  # fmt: skip
    (tmp_path / "regression").mkdir()
    (tmp_path / "regression" / "cases.jsonl").write_text("\n".join(lines) + "\n")
    (tmp_path / "llmops.toml").write_text(DEMO_REGRESSION_TOML)
    from console.config import load_settings

    return load_settings(tmp_path / "llmops.toml"), f"sqlite:///{tmp_path / 'store.db'}", bad


async def test_the_run_screen_shows_progress_and_a_failing_case_diff(demo_suite):
    settings, store_url, bad = demo_suite
    screen = RegressRunScreen.start(make_plan(settings), store_url)
    app = Host(lambda: screen)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_until(pilot, lambda: screen._finished_drawn)
        text = screen_text(app)
        assert "3/3" in text and "✓ 1" in text and "✗ 2" in text
        assert "gate: FAIL" in text and "below the minimum" in text
        assert screen.table.row_count == 3
        # latencies in seconds, as every pane writes them (they were '638ms')
        latencies = [str(screen.table.get_row_at(i)[5]) for i in range(3)]
        assert all(re.fullmatch(r"\d+\.\d\ds|—", cell) for cell in latencies), latencies
        assert "[bold]x[/]" in text  # a case id with markup is shown literally
        failing = next(i for i, r in enumerate(screen.session.results) if r.status == "fail")
        screen.table.move_cursor(row=failing)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, RegressCaseScreen))
        case_text = screen_text(app)
        assert "Must not equal (the output marked bad)" in case_text
        assert "not-equals" in case_text and "fail" in case_text
        result = screen.session.results[failing]
        assert result.attempts[0].output in bad[0]["output"] + bad[1]["output"]
        await pilot.press("escape")
        assert app.screen is screen


class Gate:
    """A python target that waits until the test lets it answer."""

    release = threading.Event()

    @staticmethod
    def answer(case):
        Gate.release.wait(20)
        return "ok"


@pytest.fixture
def gated_module(monkeypatch):
    Gate.release = threading.Event()
    module = types.ModuleType("regress_ui_gate")
    module.answer = Gate.answer
    monkeypatch.setitem(sys.modules, "regress_ui_gate", module)
    yield
    Gate.release.set()


async def test_escape_leaves_the_run_going_and_a_new_screen_shows_it(tmp_path, monkeypatch, gated_module):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cases.jsonl").write_text("".join(
        json.dumps({"id": f"c{i}", "input": {"text": "q"}, "assert": [{"type": "equals", "value": "ok"}]}) + "\n" for i in range(6)
    ))  # fmt: skip
    plan = make_plan(Settings(), suite="cases.jsonl", target="python:regress_ui_gate:answer", concurrency=2)
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    screen = RegressRunScreen.start(plan, store_url)
    app = Host(lambda: screen)
    async with app.run_test(size=(160, 40)) as pilot:
        session = screen.session
        await wait_until(pilot, lambda: "0/6" in screen_text(app) and "running" in screen_text(app))
        await pilot.press("escape")
        assert app.screen is not screen and session.snapshot().active
        assert "regress #1 python:regress_ui_gate:answer: 0/6" in session.status_line()
        Gate.release.set()
        await wait_until(pilot, lambda: not session.snapshot().active)
        assert session.status_line().endswith("done gate PASS")
        again = RegressRunScreen(session)
        await app.push_screen(again)
        await wait_until(pilot, lambda: again._finished_drawn)
        assert again.table.row_count == 6 and "6/6" in screen_text(app)


async def test_stop_cancels_cleanly(tmp_path, monkeypatch, gated_module):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cases.jsonl").write_text("".join(
        json.dumps({"id": f"c{i}", "input": {"text": "q"}, "assert": []}) + "\n" for i in range(4)
    ))  # fmt: skip
    plan = make_plan(Settings(), suite="cases.jsonl", target="python:regress_ui_gate:answer", concurrency=1)
    screen = RegressRunScreen.start(plan, f"sqlite:///{tmp_path / 'store.db'}")
    app = Host(lambda: screen)
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_until(pilot, lambda: screen.session.snapshot().state == "running")
        await pilot.press("s")
        Gate.release.set()
        await wait_until(pilot, lambda: screen._finished_drawn)
        assert screen.session.snapshot().state == "cancelled"
        assert "cancelled before every case ran" in screen_text(app)


def test_a_cancelled_worker_cancels_its_run_without_the_ui(tmp_path, monkeypatch, gated_module):
    """The app's shutdown cancels its workers; RunSession.run hears it through is_cancelled."""
    from console.regression.session import RunSession

    monkeypatch.chdir(tmp_path)
    (tmp_path / "cases.jsonl").write_text("".join(
        json.dumps({"id": f"c{i}", "input": {"text": "q"}, "assert": []}) + "\n" for i in range(4)
    ))  # fmt: skip
    plan = make_plan(Settings(), suite="cases.jsonl", target="python:regress_ui_gate:answer", concurrency=1)
    session = RunSession(plan, f"sqlite:///{tmp_path / 'store.db'}")
    cancelled = threading.Event()
    runner = threading.Thread(target=session.run, kwargs={"is_cancelled": cancelled.is_set})
    runner.start()
    deadline = time.monotonic() + 20
    while session.snapshot().state != "running" and time.monotonic() < deadline:
        time.sleep(0.02)
    cancelled.set()  # the gate stays shut: only the cancellation can end the run
    runner.join(20)
    assert session.snapshot().state == "cancelled"
    assert session.snapshot().counts.done < 4


async def test_history_lists_runs_and_b_marks_the_baseline(demo_suite):
    settings, store_url, _ = demo_suite
    from console.regression.execute import execute

    def two_runs():  # execute() runs its own event loop: not on the test's
        with Store(store_url) as store:
            return execute(make_plan(settings), store).run_id, execute(make_plan(settings, prompt_version="v9"), store).run_id

    first, second = await asyncio.to_thread(two_runs)
    screen = RegressHistoryScreen(store_url)
    app = Host(lambda: screen)
    async with app.run_test(size=(180, 40)) as pilot:
        await wait_until(pilot, lambda: screen.table.row_count == 2)
        text = screen_text(app)
        assert "#2" in text and "v9" in text and "100.0%" in text and "33.3%" in text
        await pilot.press("B")  # the cursor is on the newest run
        await wait_until(pilot, lambda: any(r.is_baseline for r in screen.runs))
        assert [r.id for r in screen.runs if r.is_baseline] == [second]
        with Store(store_url) as store:
            assert history.baseline_run(store, "regression/cases.jsonl").id == second
        screen.table.move_cursor(row=1)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, RegressRunScreen) and app.screen._finished_drawn)
        run_text = screen_text(app)
        assert f"run #{first}" in run_text and "gate: FAIL" in run_text and "new" in run_text


def test_diff_text_marks_removed_and_added_words_without_markup():
    text = diff_text("Open [b]Settings[/b] then Billing", "Open [b]Settings[/b] then \x1b[31mSecurity")
    assert text.plain == "Open [b]Settings[/b] then BillingSecurity"
    styles = {text.plain[s.start:s.end]: str(s.style) for s in text.spans}
    assert styles == {"Billing": "red strike", "Security": "bold green"}
