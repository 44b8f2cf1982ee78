"""Issue 17, point 5: the case written when a response is marked bad tests the failure its reason
names, and the same bad answer, replayed, fails it (too slow, truncated, refusal, wrong answer)."""

from __future__ import annotations

import asyncio
import json
import time

from typer.testing import CliRunner

from conftest import line_of, make_record
from console.cli import app as cli
from console.config import EvaluationSettings, RegressionSettings, Settings, Slo
from console.evaluation.regression_set import PLACEHOLDER
from console.ui.app import ConsoleApp
from console.ui.screens.labelling import ReasonModal
from console.ui.screens.triage import TriageScreen
from test_ui import wait_until

REFUSAL = "I'm sorry, but I can't help with that."
runner = CliRunner()


async def regress(target: str):
    """`regress --json` on a target (in a thread: the CLI runs its own event loop)."""
    return await asyncio.to_thread(runner.invoke, cli, ["regress", "--json", "--target", target, "--baseline", "none"])


def cases_in(path) -> dict[str, dict]:
    if not path.exists():
        return {}
    cases = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return {case["source"]["reason"]: case for case in cases}


async def test_each_reason_writes_the_assertion_that_the_same_bad_answer_fails(tmp_path, monkeypatch):
    monkeypatch.setenv("USER", "oncall-ana")
    monkeypatch.chdir(tmp_path)
    now = time.time()
    bad = {
        "too slow": make_record(ts=now - 50, latency_ms=14_000.0, output="Open Settings, then Security."),
        "truncated": make_record(ts=now - 40, finish_reason="length", output="To reset your password, first open the"),
        "refusal": make_record(ts=now - 30, output=REFUSAL),
        "wrong answer": make_record(ts=now - 20, output="Refunds are 200% of the price.", feedback=-1),
    }
    log = tmp_path / "app.jsonl"
    log.write_text("".join(line_of(r) for r in bad.values()))
    cases_file = tmp_path / "regression" / "cases.jsonl"
    settings = Settings(
        slos=[Slo(model="gpt-4o-mini", max_ms=9000)],
        evaluation=EvaluationSettings(sample_rate=1.0),
        regression=RegressionSettings(suite=str(cases_file)),
    )
    digits = {reason: str(settings.evaluation.reasons.index(reason) + 1) for reason in bad}
    app = ConsoleApp(sources=[str(log)], store_url=f"sqlite:///{tmp_path / 's.db'}", settings=settings)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("t")
        await wait_until(pilot, lambda: isinstance(app.screen, TriageScreen))
        screen = app.screen
        await wait_until(pilot, lambda: screen.queue is not None and len(screen.items) == 4)
        by_id = {r["request_id"]: reason for reason, r in bad.items()}
        for n in range(1, 5):
            reason = by_id[screen.current_item.request_id]
            await pilot.press("b")
            await wait_until(pilot, lambda: isinstance(app.screen, ReasonModal))
            await pilot.press(digits[reason])
            await wait_until(pilot, lambda: len(cases_in(cases_file)) == n)

    cases = cases_in(cases_file)
    assert cases["too slow"]["assert"] == [
        {"type": "latency", "threshold": 9000.0, "description": "must answer within 9,000 ms: the gpt-4o-mini SLO"}
    ]
    assert [(a["type"], a["value"]) for a in cases["truncated"]["assert"]] == [("not-finish-reason", "length")]
    assert [(a["type"], a["value"]) for a in cases["refusal"]["assert"]] == [("not-icontains", "I'm sorry, but I can't")]
    wrong = cases["wrong answer"]["assert"]
    assert [(a["type"], a["value"]) for a in wrong] == [
        ("not-equals", "Refunds are 200% of the price."), ("contains", PLACEHOLDER)
    ]
    assert wrong[1]["weight"] == 0  # informational until someone writes what the right answer says
    assert all(case["id"] == case["source"]["request_id"] for case in cases.values())  # req_…, not req-req_…

    # The same answers, replayed: every case fails, each on its own assertion.
    replay = tmp_path / "same.jsonl"
    replay.write_text("".join(
        json.dumps({"id": cases[reason]["id"], "output": record["output"], "latency_ms": record["latency_ms"],
                    "finish_reason": record.get("finish_reason", "stop")}) + "\n"
        for reason, record in bad.items()
    ))  # fmt: skip
    result = await regress(f"replay:{replay}")
    doc = json.loads(result.stdout)
    assert doc["counts"]["failed"] == 4, result.output  # (no baseline: the gate has nothing to compare)
    # A fixed app (fast, complete, answers, says the right thing) passes them all.
    fixed = tmp_path / "fixed.jsonl"
    fixed.write_text("".join(
        json.dumps({"id": case["id"], "output": "Open Settings, then Security, then Reset password.",
                    "latency_ms": 1200.0, "finish_reason": "stop"}) + "\n"
        for case in cases.values()
    ))  # fmt: skip
    result = await regress(f"replay:{fixed}")
    doc = json.loads(result.stdout)
    assert doc["counts"]["passed"] == 4, result.output
