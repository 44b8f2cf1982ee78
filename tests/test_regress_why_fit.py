"""A failing case's why, at 80 and 160 columns: on the run screen it is fitted to the width with
'…' (it ran past the edge, cut mid-word: 'not-finish-reaso'), and Enter shows it whole; in the
headless table piped at 80 columns it is its own line under the case (the column was squeezed
to ~10 characters: 'not-is-re' / 'fusal:', ~15 lines a case)."""

from __future__ import annotations

import json
import re

import pytest
from rich.cells import cell_len
from textual.app import App
from typer.testing import CliRunner

from conftest import wait_until
from console.cli import app as cli
from console.regression.results import FAIL, Attempt, CaseResult, Counts, Verdict
from console.regression.session import RunSession
from console.ui.screens.regress import RegressRunScreen
from console.ui.screens.regress_case import RegressCaseScreen

LONG_WORD = "acknowledgement-of-the-customer"  # longer than the old squeezed column: it was broken
REASONS = {
    "req_b92f840d8782": ("not-finish-reason", (
        "the answer must be complete (it stopped with finish_reason length): not: finish reason 'length'")),
    "req_fae46b81faac": ("not-icontains", (
        f"must not refuse as the response marked bad did: not: \"I'm sorry, but I can't\" found (ignoring case) {LONG_WORD}")),
    "req_cjk": ("contains", (
        "expected 「返金ポリシーは三十日以内です」 in the answer, found 「申し訳ありませんが、お答えできません」 which is a refusal")),
}  # fmt: skip


def failing(case_id: str, kind: str, reason: str) -> CaseResult:
    verdict = Verdict(kind, False, 0.0, 1.0, reason)
    return CaseResult(case_id, [Attempt(1, FAIL, score=0.0, output="no", verdicts=(verdict,), latency_ms=970.0)])


def stored_session(more: int = 0) -> RunSession:
    results = [failing(case_id, kind, reason) for case_id, (kind, reason) in REASONS.items()]
    results += [failing(f"req_{n:012d}", *REASONS["req_b92f840d8782"]) for n in range(more)]  # past the screen
    total = len(results)
    session = RunSession.stored(7, "demo @ v8", results, Counts(total=total, done=total, failed=total), {}, 1.0)
    session.stored_summary = {  # the vs baseline column filled in once the run is drawn finished
        "gate": {"passed": True, "reasons": [], "notes": []},
        "comparison": {"cases": [{"case_id": case_id, "kind": "still-failing"} for case_id in REASONS]},
    }
    return session


class Host(App):
    def __init__(self, screen: RegressRunScreen) -> None:
        super().__init__()
        self.run_screen = screen

    def on_mount(self) -> None:
        self.push_screen(self.run_screen)


@pytest.mark.parametrize(("size", "more"), [((80, 24), 0), ((160, 48), 0), ((80, 24), 40)])
async def test_the_run_screens_why_is_fitted_to_the_width_with_an_ellipsis_by_cells(size, more):
    screen = RegressRunScreen(stored_session(more))
    app = Host(screen)
    async with app.run_test(size=size) as pilot:
        await wait_until(pilot, lambda: screen._finished_drawn and screen.table.row_count == len(REASONS) + more)
        await pilot.pause(0.3)
        table = screen.table
        drawn = sum(column.get_render_width(table) for column in table.columns.values())
        assert drawn <= table.scrollable_content_region.width, drawn  # nothing runs past the edge (or the scrollbar)
        assert table.max_scroll_x == 0
        assert [table.get_cell(case_id, "vs").plain for case_id in REASONS] == ["still-failing"] * len(REASONS)
        for case_id, (kind, reason) in REASONS.items():
            why = table.get_cell(case_id, "why").plain
            whole = f"{kind}: {reason}"
            room = screen._why_width
            assert why.endswith("…") and cell_len(why) <= room, (why, room)
            assert whole.startswith(why[:-1].rstrip()), why  # the text's start, cut by cells (CJK too)
        # Enter on a case shows its why whole
        table.move_cursor(row=1)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, RegressCaseScreen))
        summary = app.screen.query_one("#regress-case-summary").render()
        kind, reason = REASONS["req_fae46b81faac"]
        assert f"why: {kind}: {reason}" in str(summary)


async def test_the_why_is_fitted_again_when_the_screen_narrows():
    """A column's width only grows in a DataTable: the why made narrower needs new columns."""
    screen = RegressRunScreen(stored_session())
    app = Host(screen)
    async with app.run_test(size=(160, 30)) as pilot:
        await wait_until(pilot, lambda: screen._finished_drawn and screen.table.row_count == len(REASONS))
        await pilot.pause(0.3)
        wide = screen._why_width
        await pilot.resize_terminal(80, 24)
        await wait_until(pilot, lambda: screen._why_width is not None and screen._why_width < wide)
        await pilot.pause(0.3)
        table = screen.table
        assert sum(column.get_render_width(table) for column in table.columns.values()) <= table.size.width
        assert table.max_scroll_x == 0


# -- the headless table -------------------------------------------------------------------


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A replay target whose answers fail assertions with long reasons."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "regression").mkdir()
    cases = [
        {"id": "refused", "input": {"text": "billing?"},
         "assert": [{"type": "not-icontains", "value": "I'm sorry, but I can't",
                     "description": f"must not refuse as the response marked bad did ({LONG_WORD})"}]},
        {"id": "cut-off", "input": {"text": "thanks"},
         "assert": [{"type": "contains", "value": "Anything else I can help with?",
                     "description": "the answer must be complete (it stopped with finish_reason length)"}]},
        {"id": "fine", "input": {"text": "hi"}, "assert": [{"type": "contains", "value": "hello"}]},
    ]  # fmt: skip
    (tmp_path / "regression" / "cases.jsonl").write_text("".join(json.dumps(c) + "\n" for c in cases))
    (tmp_path / "out.jsonl").write_text(
        '{"id": "refused", "output": "I\'m sorry, but I can\'t help with that request."}\n'
        '{"id": "cut-off", "output": "Glad it worked! Also worth checking: your workspace settings, your"}\n'
        '{"id": "fine", "output": "hello there"}\n'
    )
    (tmp_path / "llmops.toml").write_text('[regression]\ndefault_target = "app"\nmin_pass_rate = 1.0\n\n'
                                          '[regression.targets.app]\ntype = "replay"\npath = "out.jsonl"\n')  # fmt: skip
    return tmp_path


def regress(columns: int, *args: str):
    return CliRunner().invoke(cli, ["regress", "--baseline", "none", *args], env={"COLUMNS": str(columns)})


def whys(project) -> dict[str, str]:
    doc = json.loads(regress(80, "--json").stdout)
    return {c["id"]: next(f"{a['type']}: {a['reason']}" for a in c["assertions"] if a["status"] != "pass")
            for c in doc["cases"] if c["status"] != "pass"}  # fmt: skip


def test_piped_at_80_columns_each_why_is_a_line_under_its_case_with_no_word_broken(project):
    expected = whys(project)
    result = regress(80)
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    lines = lines[: next(i for i, line in enumerate(lines) if line.startswith("cases "))]  # the table
    assert max(cell_len(line) for line in lines) <= 80
    words = set(result.output.split())
    for case_id, why in expected.items():
        assert set(why.split()) <= words, (case_id, sorted(set(why.split()) - words))  # each word whole
        row = next(i for i, line in enumerate(lines) if re.match(rf"\s*{re.escape(case_id)}\s", line))
        under = []
        for line in lines[row + 1:]:
            if not line.startswith("    ") or not line.strip():
                break
            under.append(line.strip())
        assert " ".join(under) == why, (under, why)  # the why, wrapped at spaces, right under its row
        assert len(under) <= 3  # a case was ~15 lines
    assert f"({LONG_WORD}):" in words  # a word longer than the old column, whole


def test_wide_the_why_stays_a_column_beside_its_case(project):
    expected = whys(project)
    result = regress(160)
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    lines = lines[: next(i for i, line in enumerate(lines) if line.startswith("cases "))]  # the table
    assert max(cell_len(line) for line in lines) <= 160
    for case_id, why in expected.items():
        row = next(line for line in lines if re.match(rf"\s*{re.escape(case_id)}\s", line))
        assert why.split()[0] in row.split()  # the why starts on the case's own line
