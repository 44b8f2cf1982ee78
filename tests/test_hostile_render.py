"""No injection anywhere: hostile strings in every field, through the real screens and commands.

Every string of a record (and the log's file name) carries Rich markup, CSI, OSC 8 links,
OSC 52 clipboard writes (BEL- and ST-terminated), a bare ESC, C1 controls (8-bit CSI 0x9b)
and a carriage return. On screen the markup must show literally, and no control character
may reach the terminal.
"""

from __future__ import annotations

import re
import time

import pytest
from typer.testing import CliRunner

from conftest import line_of, make_record
from console.sanitize import REMOVED, one_line, strip_control
from console.ui.app import ConsoleApp
from console.ui.screens.compare import CompareScreen
from console.ui.screens.detail import RequestDetailScreen
from console.ui.screens.rejected import RejectedLineScreen, RejectedLinesScreen
from console.ui.screens.triage import TriageScreen
from test_triage import settings_for
from test_ui import screen_text, wait_until

pytestmark = pytest.mark.resilience

MARKUP = "[red]R[/red][link=https://evil.example]L[/link][b]B[$accent]A[ red]S[@click=app.quit]Q"
CONTROLS = (
    "\x1b[2J\x1b[31m"  # CSI: clear screen, red
    "\x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\"  # OSC 8 link, ST-terminated
    "\x1b]52;c;aGFja2Vk\x07"  # OSC 52 clipboard write, BEL-terminated
    "\x9b31m\x9d0;pwnedtitle\x9c\x85\x07"  # 8-bit CSI, 8-bit OSC, NEL, BEL
    "safe\roverwrite \x1b"  # a carriage return, a bare ESC
)


def hostile(tag: str) -> str:
    return f"{tag}{MARKUP}{CONTROLS}"


# What must never reach the terminal: ESC, BEL, C1 controls, CR (JSON views may show \\u001b as text).
FORBIDDEN = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def assert_safe(text: str) -> None:
    bad = FORBIDDEN.search(text)
    assert bad is None, f"control character {bad.group()!r} in {text[max(0, bad.start() - 60):bad.end() + 20]!r}"


def records() -> list[dict]:
    now = time.time()
    out = []
    for i in range(40):
        version = "v7" if i < 20 else hostile("v8")
        extra = {"output": hostile("out") if i % 2 else "I'm sorry, but I can't help with that." + hostile("out")}
        if i in (20, 21, 22):
            extra = {"status": "error", "error_type": hostile("Err"), "error_message": hostile("msg"),
                     "output": None}
        out.append(make_record(
            ts=now - 1200 + i * 30,
            request_id=f"req{i:02d}" + hostile("id"),
            model=hostile("model"),
            provider=hostile("prov"),
            prompt_id=hostile("prompt"),
            prompt_version=version,
            user_id=hostile("user"),
            session_id=hostile("sess"),
            finish_reason=hostile("fin"),
            environment=hostile("env"),
            variant=hostile("var"),
            tags=[hostile("tag")],
            metadata={hostile("key"): hostile("value")},
            unknown_key=hostile("extra"),
            input=hostile("in"),
            cost_usd=0.01,
            **extra,
        ))
    return out


@pytest.fixture
def log(tmp_path):
    path = tmp_path / ("[red]file[b][$accent][ red]\x1b]0;pwn\x07\x9b2J.jsonl")
    bad = '{"[red]bad[/red]' + CONTROLS + '\n'
    path.write_text("".join(line_of(r) for r in records()) + bad, encoding="utf-8")
    return path


@pytest.fixture
def app(tmp_path, log, monkeypatch):
    monkeypatch.setenv("USER", "oncall-ana")
    cases = tmp_path / "repo" / "regression" / "cases.jsonl"
    return ConsoleApp(sources=[str(log)], store_url=f"sqlite:///{tmp_path / 's.db'}",
                      settings=settings_for(cases))


def check_screen(app) -> str:
    text = screen_text(app)
    assert_safe(text)
    return text


async def test_hostile_record_through_every_screen(app):
    async with app.run_test(size=(220, 60)) as pilot:
        await wait_until(pilot, lambda: app.dashboard.report is not None
                         and app.dashboard.report.requests == 40 and app.rejected_total == 1)
        await pilot.pause(0.2)
        text = check_screen(app)
        # model (latency pane), user (top spenders), prompt (versions pane, rows), the file
        # name (header): all shown, their markup literal (the version: in the detail below; the
        # Versions pane's subtitle leaves the newest version out when the title is long)
        for shown in ("model[red]R[/red]", "user[red]R[/red]", "prompt[red]R[/red]", "file[b][$accent][ red]"):
            assert shown in text, f"{shown!r} is not shown literally on the dashboard"

        await pilot.press("1", "enter")  # the detail of the selected request
        await wait_until(pilot, lambda: isinstance(app.screen, RequestDetailScreen))
        await pilot.pause(0.05)
        text = check_screen(app)
        assert "[link=https://evil.example]L[/link]" in text and "[red]R[/red]" in text
        assert "v8[red]R[/red]" in text  # the newest request's version
        assert REMOVED in text  # what was taken out leaves a mark
        await pilot.press("escape")

        await pilot.press("x")
        await wait_until(pilot, lambda: isinstance(app.screen, RejectedLinesScreen))
        await pilot.pause(0.05)
        text = check_screen(app)
        assert "[red]" in text and "file" in text
        await pilot.press("enter")  # the line in full
        await wait_until(pilot, lambda: isinstance(app.screen, RejectedLineScreen))
        await pilot.pause(0.05)
        text = check_screen(app)
        assert "Why it was skipped" in text
        await pilot.press("escape")
        await pilot.press("escape")

        await pilot.press("t")
        await wait_until(pilot, lambda: isinstance(app.screen, TriageScreen))
        screen = app.screen
        await wait_until(pilot, lambda: screen.queue is not None and len(screen.items) >= 3)
        await pilot.pause(0.05)
        text = check_screen(app)
        assert "[red]" in text
        await pilot.press("enter")
        await pilot.pause(0.1)
        check_screen(app)
        await pilot.press("escape")
        await pilot.pause(0.05)
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is app.dashboard or not isinstance(app.screen, TriageScreen))

        await pilot.press("4", "C")  # before/after of the selected version
        await wait_until(pilot, lambda: isinstance(app.screen, CompareScreen))
        check_screen(app)  # opened at the key, most likely still loading: the version's name in its title
        await wait_until(pilot, lambda: isinstance(app.screen, CompareScreen) and app.screen.comparison is not None)
        await pilot.pause(0.1)
        check_screen(app)
        await pilot.press("escape")


def test_sanitize_removes_every_kind_of_control():
    cleaned = strip_control(hostile("x"))
    assert_safe(cleaned)
    assert "aGFja2Vk" not in cleaned and "pwnedtitle" not in cleaned  # payloads go with their sequences
    assert cleaned.startswith("x" + MARKUP) and "safeoverwrite" in cleaned
    assert "\n" not in one_line("a\nb\r\nc") and one_line("a\tb") == "a b"
    # on screen, each sequence or character taken out leaves one mark
    assert one_line("a\x1b[31mb\x07c") == f"a{REMOVED}b{REMOVED}c" and one_line("plain") == "plain"


def test_headless_commands_print_no_control_characters(tmp_path, log):
    from console.cli import app as cli

    runner = CliRunner()
    store = f"sqlite:///{tmp_path / 'h.db'}"
    outputs = []
    for args in (
        ["report", str(log), "--store", store, "--since", "all"],
        ["report", "--store", store, "--since", "all", "--json"],
        ["check", "--store", store, "--since", "all"],
        ["compare", "--a", "version=v7", "--b", "prompt_id=" + hostile("prompt").replace(",", ""), "--store", store],
        ["compare", "--a", "version=v7", "--b", "prompt_id=" + hostile("prompt").replace(",", ""), "--store", store,
         "--json"],
    ):
        result = runner.invoke(cli, args)
        assert result.exception is None or isinstance(result.exception, SystemExit), result.output
        outputs.append(result.output)
    assert "model[red]R[/red]" in outputs[0], "the text report shows model names literally"
    assert "ingested 40" in outputs[0] or "40" in outputs[0]
    for out in outputs:
        assert_safe(out)


def test_json_for_terminal_keeps_the_value():
    import json

    from console.sanitize import json_for_terminal

    value = {"k": hostile("x")}
    encoded = json_for_terminal(json.dumps(value, ensure_ascii=False))
    assert_safe(encoded) is None and json.loads(encoded) == value


def test_csv_export_guards_formulas_and_jsonl_export_is_terminal_safe():
    import io
    import json

    from console.evaluation.export import FIELDS, safe_cell, write_csv, write_jsonl

    for cell in ("=HYPERLINK(\"http://evil\")", "+1", "-1+2", "@SUM(A1)", "\t=1"):
        assert safe_cell(cell) == "'" + cell
    assert safe_cell("\r=1") == "'=1" and safe_cell("\x1b[2J=1") == "'=1"
    assert safe_cell("fine =1") == "fine =1"
    row = {name: None for name in FIELDS} | {
        "request_id": "=cmd|' /C calc'!A0", "verdict": "bad", "reason": "@SUM(1)", "note": "+1",
        "author": "-2", "created_at": 1.0, "active": 1, "ts": 1.0, "model": hostile("model"),
        "output": hostile("out"),
    }
    out = io.StringIO()
    write_csv([row], out)
    cells = out.getvalue().splitlines()[1]
    assert cells.startswith("'=cmd") and "'@SUM(1)" in cells and "'+1" in cells and "'-2" in cells
    assert_safe(out.getvalue().replace("\r", ""))  # only csv's own quoting may hold a newline
    out = io.StringIO()
    write_jsonl([row], out)
    assert not re.search(r"[\x7f-\x9f]", out.getvalue())
    assert json.loads(out.getvalue())["output"] == hostile("out")


def test_header_escape_keeps_textual_markup_literal():
    from textual.content import Content

    from console.ui.widgets.status_header import escape

    for text in ("[$accent]x[/]", "[ red]x", "[@click=app.quit]q[/]", "[b]b", "ends with \\"):
        content = Content.from_markup(f"[b]{escape(text)}[/] tail")
        assert content.plain.replace("\u200b", "") == f"{text} tail"
        assert all(span.style == "b" for span in content.spans)


def test_regress_output_shows_hostile_case_ids_and_outputs_literally(tmp_path, monkeypatch):
    import json

    from console.cli import app as cli

    monkeypatch.chdir(tmp_path)
    (tmp_path / "regression").mkdir()
    ids = [hostile(f"case{i}") for i in range(2)]
    (tmp_path / "regression" / "cases.jsonl").write_text("".join(
        json.dumps({"id": case_id, "input": {"vars": {"q": hostile("q")}}, "expected_output": hostile("want"),
                    "assert": [{"type": "equals", "value": hostile("want")}], "tags": [hostile("tag")]}) + "\n"
        for case_id in ids
    ))
    (tmp_path / "replay.jsonl").write_text("".join(
        json.dumps({"id": case_id, "output": hostile("got")}) + "\n" for case_id in ids
    ))
    store = f"sqlite:///{tmp_path / 'r.db'}"
    runner = CliRunner()
    outputs = []
    for extra in ([], ["--json"]):
        result = runner.invoke(cli, ["regress", "--suite", "regression/cases.jsonl", "--target",
                                     "replay:replay.jsonl", "--store", store, "--all", "--baseline", "none", *extra])
        assert result.exit_code in (0, 1), result.output
        outputs.append(result.output)
    assert "case0[red]R[/red]" in outputs[0]
    for out in outputs:
        assert_safe(out)


async def test_regression_screens_show_hostile_cases_literally(tmp_path, monkeypatch):
    import json

    from textual.app import App

    from console.config import Settings
    from console.regression.plan import make_plan
    from console.ui.screens.regress import RegressRunScreen
    from console.ui.screens.regress_case import RegressCaseScreen

    monkeypatch.chdir(tmp_path)
    ids = [hostile(f"case{i}") for i in range(2)]
    (tmp_path / "cases.jsonl").write_text("".join(
        json.dumps({"id": case_id, "input": {"vars": {"q": hostile("q")}}, "expected_output": "want " + hostile("w"),
                    "assert": [{"type": "equals", "value": "want " + hostile("w")}], "tags": [hostile("tag")]}) + "\n"
        for case_id in ids
    ))
    (tmp_path / "replay.jsonl").write_text("".join(
        json.dumps({"id": case_id, "output": "got " + hostile("g")}) + "\n" for case_id in ids
    ))
    plan = make_plan(Settings(), suite=tmp_path / "cases.jsonl", target="replay:replay.jsonl", baseline="none")
    screen = RegressRunScreen.start(plan, f"sqlite:///{tmp_path / 'r.db'}")

    class Host(App):
        def on_mount(self) -> None:
            self.push_screen(screen)

    app = Host()
    async with app.run_test(size=(220, 50)) as pilot:
        await wait_until(pilot, lambda: screen._finished_drawn)
        await pilot.pause(0.05)
        text = check_screen(app)
        assert "case0[red]R[/red]" in text
        screen.table.move_cursor(row=0)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, RegressCaseScreen))
        await pilot.pause(0.05)
        text = check_screen(app)  # the expected and got outputs, their diff, the verdicts
        assert "[link=https://evil.example]L[/link]" in text
        await pilot.press("escape")
