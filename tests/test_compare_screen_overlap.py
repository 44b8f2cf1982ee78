"""The compare screen says what `compare` says when the arms' requests cover different times.

Found in a user trial: `compare --a prompt=support-answer@v7 --b prompt=support-answer@v8
--since 1h` printed '! arms overlap for 39m 59s of 59m 55s (67%): ...', while `c` on v8 in the
console showed the same verdicts with no caveat."""

from __future__ import annotations

import io
import json
import time

import numpy as np
from rich.cells import cell_len
from rich.console import Console
from textual.widgets import Static

from conftest import line_of, make_record
from console.analytics.arm_spec import ArmSpec
from console.analytics.columns import Columns
from console.analytics.compare import compare
from console.commands.compare import run
from console.records import parse_line
from console.ui.app import ConsoleApp
from console.ui.screens.compare import CompareScreen, fit_label
from test_hostile_render import MARKUP, assert_safe
from test_panes import select_version
from test_snapshots import Host
from test_ui import screen_text, wait_until


def flat(text: str) -> str:
    return " ".join(text.split())


def rollout(now: float) -> list[dict]:
    """v7 all hour, v8 only its last 20 minutes: a third of the hour in common."""
    rng = np.random.default_rng(5)
    lines = [make_record(ts=now - 3500 + 10 * i, prompt_version="v7", latency_ms=float(rng.lognormal(7, 0.4)),
                         feedback=-1 if i % 10 == 0 else 1) for i in range(340)]  # fmt: skip
    lines += [make_record(ts=now - 1200 + 10 * i + 5, prompt_version="v8", latency_ms=float(rng.lognormal(7, 0.4)),
                          feedback=-1 if i % 3 == 0 else 1) for i in range(110)]  # fmt: skip
    return lines


def drawn(static: Static, width: int) -> list[str]:
    console = Console(width=width, file=io.StringIO(), record=True)
    console.print(static.content)
    return console.export_text().rstrip("\n").split("\n")


async def test_c_shows_the_overlap_warning_compare_prints_for_the_same_arms_and_window(tmp_path, capsys):
    now = time.time()
    log = tmp_path / "app.jsonl"
    log.write_text("".join(line_of(r) for r in rollout(now)))
    store = str(tmp_path / "s.db")
    app = ConsoleApp(sources=[str(log)], store_url=store)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.dashboard.report is not None and app.dashboard.report.requests == 450)
        await select_version(pilot, app, "support-answer@v8")
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, CompareScreen) and app.screen.comparison is not None)
        screen = app.screen
        # what `compare` prints over the same store, arms and window
        headless = run("prompt=support-answer@v7", "prompt=support-answer@v8", since="1h", store=store, as_json=True)
        capsys.readouterr()
        warning = headless.overlap.warning
        assert warning.startswith("arms overlap for ") and "support-answer@v8 started at" in warning
        assert screen.comparison.overlap.warning == warning
        shown = screen.query_one("#compare-overlap", Static)
        lines = drawn(shown, 76)
        assert flat("\n".join(lines)) == f"! {warning}"
        # on the first screenful at 80x24, above the footer, not a scroll away
        assert shown.region.bottom <= 24 - 1 and shown.region.height == len(lines)
        assert lines[0].strip() in screen_text(app)
        await pilot.press("escape")


def hostile_rollout() -> tuple[Columns, str]:
    """A wide (CJK) prompt id carrying markup and control characters, v7 all hour, v8 its last 20 minutes."""
    prompt = "サポート回答テンプレート" * 3 + MARKUP + "\x1b[2J\x9b31m"
    end = 1_790_000_000.0
    rows = [make_record(ts=end - 3500 + 10 * i, prompt_id=prompt, prompt_version="v7") for i in range(340)]
    rows += [make_record(ts=end - 1200 + 10 * i, prompt_id=prompt, prompt_version="v8") for i in range(110)]
    cols = Columns()
    cols.append([parse_line(json.dumps(row)) for row in rows])
    return cols, prompt


async def test_the_warning_fits_by_cells_and_shows_untrusted_labels_as_text():
    cols, prompt = hostile_rollout()
    result = compare(cols, ArmSpec(prompt_id=prompt, prompt_version="v7"), ArmSpec(prompt_id=prompt, prompt_version="v8"))
    assert result.overlap.warning is not None
    app = Host(lambda: CompareScreen(result, scope="window 1h"))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, CompareScreen))
        shown = app.screen.query_one("#compare-overlap", Static)
        lines = drawn(shown, 76)
        text = "\n".join(lines)
        assert text.startswith("! arms overlap for ") and "started at" in text
        assert_safe(text)
        assert_safe(screen_text(app))
        # each label cut to a quarter of the width in cells, its version kept: three lines at most
        assert "…" in text and "@v8 started at" in flat(text)
        assert len(lines) <= 3 and all(cell_len(line) <= 76 for line in lines)
        assert shown.region.bottom <= 24 - 1


def test_a_label_is_cut_by_cells_keeping_its_start_and_end():
    assert fit_label("support-answer@v8", 19) == "support-answer@v8"
    cut = fit_label("support-answer-for-enterprise@v8", 19)
    assert cell_len(cut) <= 19 and cut.startswith("support") and cut.endswith("@v8") and "…" in cut
    wide = fit_label("サポート回答テンプレート@v12", 12)
    assert cell_len(wide) <= 12 and wide.endswith("v12")
