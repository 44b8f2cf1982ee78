"""The triage flow from the keyboard, through Pilot: t, j/k, b + digit, o, n, u, e, Enter."""

from __future__ import annotations

import json
import stat
import sys
import threading
import time

import jsonschema
import pytest

from conftest import REPO, line_of, make_record
from console.config import EvaluationSettings, RegressionSettings, Settings
from console.ui.app import ConsoleApp
from console.ui.screens.labelled_detail import LabelledDetailScreen
from console.ui.screens.labelling import NoteModal, ReasonModal
from console.ui.screens.triage import TriageScreen
from test_panes import rows_of
from test_ui import screen_text, wait_until

CASE_SCHEMA = jsonschema.Draft202012Validator(json.loads((REPO / "schemas" / "regression-case.v1.schema.json").read_text()))
REFUSAL = "I'm sorry, but I can't help with that."


def records_for_the_story() -> list[dict]:
    """v7 and v8 of support-answer over the last 20 minutes; v8 has 3 errors and 3 refusals."""
    now = time.time()
    lines = []
    for i in range(20):
        lines.append(make_record(ts=now - 1200 + i * 60, prompt_version="v7"))
    for i in range(20):
        extra = {}
        if i < 3:
            extra = {"status": "error", "error_type": "BadRequestError", "error_message": "prompt is too long", "output": None}
        elif i < 6:
            extra = {"output": REFUSAL}
        lines.append(make_record(ts=now - 1190 + i * 60, prompt_version="v8", **extra))
    return lines


@pytest.fixture
def story(tmp_path):
    records = records_for_the_story()
    path = tmp_path / "app.jsonl"
    path.write_text("".join(line_of(r) for r in records))
    return path, records


@pytest.fixture
def cases_file(tmp_path):
    return tmp_path / "repo" / "regression" / "cases.jsonl"


def settings_for(cases_file, **evaluation) -> Settings:
    return Settings(
        evaluation=EvaluationSettings(sample_rate=1.0, **evaluation),
        regression=RegressionSettings(suite=str(cases_file)),
    )


@pytest.fixture
def app(tmp_path, story, cases_file, monkeypatch):
    monkeypatch.setenv("USER", "oncall-ana")
    path, _ = story
    return ConsoleApp(sources=[str(path)], store_url=f"sqlite:///{tmp_path / 's.db'}", settings=settings_for(cases_file))


def cases_in(path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


async def open_queue(pilot, app, items: int = 6) -> TriageScreen:
    await wait_until(pilot, lambda: app.dashboard.report is not None and app.dashboard.report.requests == 40)
    await pilot.press("t")
    await wait_until(pilot, lambda: isinstance(app.screen, TriageScreen))
    screen = app.screen
    await wait_until(pilot, lambda: screen.queue is not None and len(screen.items) >= items)
    await pilot.pause(0.05)
    return screen


def v8_bad(app) -> str | None:
    """v8's bad rate in the Versions pane; None until the first report has drawn its row."""
    row = rows_of(app, "versions-table").get("support-answer@v8")
    return None if row is None else row[3].removesuffix(" !")  # "!": a high rate, readable without red


async def test_mark_three_bad_with_reasons_grows_the_cases_and_moves_the_bad_rate(app, story, cases_file):
    _, records = story
    async with app.run_test(size=(200, 60)) as pilot:
        screen = await open_queue(pilot, app)
        assert v8_bad(app) == "—"  # nobody rated a response yet: no bad rate, not 0%
        errors = [r["request_id"] for r in records[20:23]]
        assert {item.request_id for item in screen.items[:3]} == set(errors)  # score 0 first
        assert "6 left" in screen_text(app)
        first = [item.request_id for item in screen.items[:3]]

        keys = [("b", "1"), ("b", "2"), ("b", "9")]  # two keystrokes per bad label with a reason
        for n, (mark, digit) in enumerate(keys, 1):
            await pilot.press(mark)
            await wait_until(pilot, lambda: isinstance(app.screen, ReasonModal))
            await pilot.press(digit)
            await wait_until(pilot, lambda: len(cases_in(cases_file)) == n)
        await wait_until(pilot, lambda: "3 left" in screen_text(app))

        cases = cases_in(cases_file)
        assert [c["source"]["request_id"] for c in cases] == first
        assert [c["source"]["reason"] for c in cases] == ["wrong answer", "hallucination", "other"]
        for case in cases:
            assert CASE_SCHEMA.is_valid(case), list(CASE_SCHEMA.iter_errors(case))
            assert case["id"] == case["source"]["request_id"]  # req_…, not req-req_…
            assert case["source"]["prompt_version"] == "v8" and case["source"]["who"] == "oncall-ana"
            assert case["assert"][0]["type"] == "not-equals"
        assert "wrong-answer" in cases[0]["tags"]

        await pilot.press("escape")
        assert app.screen is app.dashboard
        # 3 of v8's 20 labelled, all bad: the rate is over the rated (labelled) ones, 3 of 3
        await wait_until(pilot, lambda: v8_bad(app) == "100.0%")
        v8 = next(v for v in app.dashboard.report.versions if v.prompt_version == "v8")
        assert (v8.requests, v8.bad, v8.rated) == (20, 3, 3)
        assert rows_of(app, "versions-table")["support-answer@v7"][3] == "—"


async def test_the_queue_shows_reasons_and_j_k_enter_open_the_request(app):
    async with app.run_test(size=(200, 60)) as pilot:
        screen = await open_queue(pilot, app)
        text = screen_text(app)
        assert "BadRequestError: prompt is too long" in text and "refusal" in text
        await pilot.press("j", "j", "j")
        assert screen.table.cursor_row == 3
        await pilot.press("k")
        chosen = screen.current_item
        assert screen.table.cursor_row == 2
        await pilot.press("enter")
        assert isinstance(app.screen, LabelledDetailScreen)
        assert app.screen.record.request_id == chosen.request_id
        await wait_until(pilot, lambda: app.screen.query("#detail-scores"))
        await pilot.pause()
        text = screen_text(app)
        assert "Scores" in text and "0.00" in text and "BadRequestError: prompt is too long" in text
        await pilot.press("escape")
        assert app.screen is screen


async def test_labels_from_the_detail_screen_and_undo(app, cases_file):
    async with app.run_test(size=(200, 60)) as pilot:
        screen = await open_queue(pilot, app)
        target = screen.items[0].request_id
        await pilot.press("enter")
        assert isinstance(app.screen, LabelledDetailScreen)
        await pilot.press("b", "3")
        await wait_until(pilot, lambda: [c["id"] for c in cases_in(cases_file)] == [target])
        assert cases_in(cases_file)[0]["source"]["reason"] == "unsafe"
        await pilot.press("u")
        await wait_until(pilot, lambda: cases_in(cases_file) == [])
        await pilot.press("escape")
        await wait_until(pilot, lambda: screen.left == 6 and screen.items[0].verdict is None)


async def test_good_note_and_cancel(app, cases_file):
    async with app.run_test(size=(200, 60)) as pilot:
        screen = await open_queue(pilot, app)
        good = screen.items[0].request_id
        await pilot.press("o")  # good at once; the cursor moves on
        await wait_until(pilot, lambda: screen.current_item.request_id != good)
        bad = screen.current_item.request_id
        await pilot.press("b")
        await wait_until(pilot, lambda: isinstance(app.screen, ReasonModal))
        await pilot.press("escape")  # cancelled: nothing labelled
        assert app.screen is screen and screen.current_item.request_id == bad
        await pilot.press("b", "enter")  # bad without a reason
        await wait_until(pilot, lambda: len(cases_in(cases_file)) == 1)
        assert cases_in(cases_file)[0]["tags"] == ["triage"]
        await wait_until(pilot, lambda: any(i.request_id == bad and i.verdict == "bad" for i in screen.items))
        index = next(i for i, item in enumerate(screen.items) if item.request_id == bad)
        screen.table.move_cursor(row=index)
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, NoteModal))
        await pilot.press(*"says refunds are instant", "enter")
        await wait_until(pilot, lambda: cases_in(cases_file)[0]["source"].get("note") == "says refunds are instant")
        await wait_until(pilot, lambda: {i.request_id: i.verdict for i in screen.items}.get(good) == "good")
        assert len(cases_in(cases_file)) == 1  # good adds no case
        await wait_until(pilot, lambda: screen.left == 4)


async def test_e_opens_the_case_in_the_editor(app, cases_file, tmp_path, monkeypatch):
    editor = tmp_path / "fake-editor"
    editor.write_text(
        f"#!{sys.executable}\n"
        "import json, sys\n"
        "path = sys.argv[1]\n"
        "case = json.load(open(path))\n"
        "case['assert'].append({'type': 'icontains', 'value': 'timeout'})\n"
        "case['tags'].append('edited')\n"
        "json.dump(case, open(path, 'w'), indent=2)\n"
    )
    editor.chmod(editor.stat().st_mode | stat.S_IEXEC)
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", str(editor))
    async with app.run_test(size=(200, 60)) as pilot:
        screen = await open_queue(pilot, app)
        marked = screen.current_item.request_id
        await pilot.press("b", "1")
        await wait_until(pilot, lambda: len(cases_in(cases_file)) == 1)
        await wait_until(pilot, lambda: any(i.request_id == marked and i.verdict == "bad" for i in screen.items))
        await pilot.press("k")  # labelled here, it keeps its place above the cursor
        assert screen.current_item.request_id == marked
        await pilot.press("e")
        await wait_until(pilot, lambda: "edited" in cases_in(cases_file)[0]["tags"])
        case = cases_in(cases_file)[0]
        assert case["assert"][-1] == {"type": "icontains", "value": "timeout"}
        assert CASE_SCHEMA.is_valid(case)
        assert len(cases_file.read_text().splitlines()) == 1  # one line again
        assert screen.is_attached


async def test_the_queue_updates_live_as_requests_arrive(app, story):
    path, _ = story
    async with app.run_test(size=(200, 60)) as pilot:
        screen = await open_queue(pilot, app)
        with path.open("a") as handle:
            for _ in range(2):
                handle.write(line_of(make_record(ts=time.time() - 5, prompt_version="v8", finish_reason="length")))
        await wait_until(pilot, lambda: screen.left == 8 and len(screen.items) == 8)
        assert "8 left" in screen_text(app)


async def test_scoring_runs_off_the_ui_thread_and_failures_are_reported(tmp_path, story, cases_file, monkeypatch):
    threads = []
    (tmp_path / "probe_scorers.py").write_text(
        "import threading\n"
        "seen = []\n"
        "def where(record):\n"
        "    seen.append(threading.current_thread().name)\n"
        "    return 1.0, 'ok'\n"
        "def broken(record):\n"
        "    raise ValueError('no metadata')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    import probe_scorers

    path, _ = story
    settings = settings_for(cases_file, scorers=["probe_scorers:where", "probe_scorers:broken"])
    app = ConsoleApp(sources=[str(path)], store_url=f"sqlite:///{tmp_path / 'probe.db'}", settings=settings)
    async with app.run_test(size=(200, 60)) as pilot:
        await wait_until(pilot, lambda: app.scoring_progress is not None and app.scoring_progress[0] == 40)
        assert app.scoring_progress == (40, 40, 40)
        threads.extend(probe_scorers.seen)
        assert len(threads) == 40 and threading.main_thread().name not in threads
        messages = [str(n.message) for n in app._notifications]
        assert any("probe_scorers:broken" in m and "failed on request req_test_" in m for m in messages)
        screen = await open_queue(pilot, app)
        assert "40 scorer failures" in screen_text(app)
        assert screen.left == 6


async def test_help_lists_the_triage_keys(app):
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("question_mark")
        text = screen_text(app)
        for binding_id in ("dashboard.triage", "triage.bad", "triage.good", "triage.note", "triage.undo", "triage.edit_case"):
            assert binding_id in text


async def test_a_backlog_shows_its_progress_in_the_queue_title(app):
    async with app.run_test(size=(200, 60)) as pilot:
        screen = await open_queue(pilot, app)
        screen.show_progress(1_500, 120_000, 2)
        title = str(screen.query_one("#triage-title").content)
        assert "scoring 1,500/120,000" in title and "2 scorer failures" in title
        screen.show_progress(120_000, 120_000, 0)
        assert "scoring" not in str(screen.query_one("#triage-title").content)


async def test_b_on_a_request_opened_from_the_dashboard(app, story, cases_file):
    _, records = story
    async with app.run_test(size=(200, 60)) as pilot:
        await wait_until(pilot, lambda: len(app.requests_view.rows) == 40)
        await pilot.press("enter")  # the newest request, a fine v8 answer
        assert isinstance(app.screen, LabelledDetailScreen)
        await pilot.press("b", "5")
        await wait_until(pilot, lambda: len(cases_in(cases_file)) == 1)
        case = cases_in(cases_file)[0]
        assert case["source"]["request_id"] == records[-1]["request_id"] and case["tags"] == ["triage", "tone"]
        await pilot.press("escape")
        await wait_until(pilot, lambda: v8_bad(app) == "100.0%")  # 1 bad of 1 rated (was — before)


async def test_n_on_an_unlabelled_request_says_why_the_note_cannot_be_kept(app, story, cases_file, monkeypatch):
    _, records = story

    def said_none() -> int:
        return sum("has none: mark it bad (b) or good (o) first" in str(n.message) for n in app._notifications)

    async with app.run_test(size=(200, 60)) as pilot:
        screen = await open_queue(pilot, app)
        # unlabelled in the queue: the note field says so at once, and takes what is typed next
        # (a refusal in a toast left the note to run as keys: test_triage_label_cursor)
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, NoteModal))
        assert "has none: mark it bad (b) or good (o) first" in app.screen.refusal
        await pilot.press("escape")
        assert app.screen is screen and said_none() == 0
        # the detail looks its label up: once it knows there is none, said at once too
        detail = LabelledDetailScreen(screen.items[0].record)
        app.push_screen(detail)
        await wait_until(pilot, lambda: app.screen is detail and detail.label is None)
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, NoteModal))
        assert "has none: mark it bad (b) or good (o) first" in app.screen.refusal
        await pilot.press(*"too vague", "enter")
        assert app.screen is detail and said_none() == 1  # the words given back in the refusal
        assert any("the note was not kept: “too vague”" in str(n.message) for n in app._notifications)
        await pilot.press("escape")
        # from a request the screen knows nothing of yet, the note is typed, and the refusal quotes it
        monkeypatch.setattr(app.evaluation, "look_up_label", lambda request_id: None)  # never answered
        app.push_screen(LabelledDetailScreen(screen.items[0].record))
        await wait_until(pilot, lambda: isinstance(app.screen, LabelledDetailScreen))
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, NoteModal))
        await pilot.press(*"refunds wrong", "enter")
        await wait_until(pilot, lambda: any("the note was not kept: “refunds wrong”" in str(n.message) for n in app._notifications))
        assert cases_in(cases_file) == []
