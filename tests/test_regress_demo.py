"""The demo's simulated app as a python target: a case made from a bad v8 response fails
against v8 and passes against the fix (v9), end to end through `llmops-console regress`."""

from __future__ import annotations

import json
from itertools import islice

import pytest
from typer.testing import CliRunner

from console.cli import app
from console.demo import texts
from console.demo.story import generate_history
from console.demo.target import DEMO_REGRESSION_TOML, answer, find_exchange, is_defect, support_answer

runner = CliRunner()


def history(n=4000):
    return [r for r in generate_history(n) if r["prompt_id"] == "support-answer" and "output" in r]


def triage_case(record, reason):
    """A case as marking a response bad makes it: the input as logged, not-equals the bad output."""
    return {
        "id": f"case-{record['request_id']}",
        "input": {"text": record["input"]},
        "assert": [{"type": "not-equals", "value": record["output"]}],
        "tags": [reason],
        "source": {"kind": "triage", "request_id": record["request_id"], "prompt_id": "support-answer",
                   "prompt_version": record["prompt_version"], "model": record["model"], "bad_output": record["output"]},
    }  # fmt: skip


def test_the_target_finds_the_story_exchange_of_a_question():
    records = history()
    first_turns = [r for r in records if find_exchange(r["input"]) is not None]
    assert len(first_turns) > len(records) / 3
    for record in first_turns[:50]:
        if record["prompt_version"] == "v7" and not is_defect(record["output"]) and record["output"] and not record["output"].startswith("{"):
            ex = find_exchange(record["input"])
            assert ex.answer.split(" ")[0] in record["output"]


def test_v8_reproduces_its_defects_and_v9_answers_properly():
    defects = [r for r in history() if r["prompt_version"] == "v8" and is_defect(r["output"])]
    assert len(defects) >= 20
    kinds = {"refusal" if r["output"] in texts.REFUSALS else "truncated" for r in defects}
    assert kinds == {"refusal", "truncated"}
    for record in defects:
        case = triage_case(record, "bad")
        v8 = answer({**case, "context": {"prompt_version": "v8"}})
        v9 = answer({**case, "context": {"prompt_version": "v9"}})
        assert v8["output"] == record["output"]
        assert v9["output"] != record["output"] and not is_defect(v9["output"])
        assert v9["cost_usd"] > 0 and v9["latency_ms"] > 0


def test_v8_refuses_billing_questions_without_provenance_too():
    question = "Where can I download invoice INV-2026-0042 as a PDF?"
    assert support_answer(question, "v8") in texts.REFUSALS
    assert "INV-2026-0042" in support_answer(question, "v7")
    assert support_answer(question, "v9") == support_answer(question, "v9")  # deterministic


def test_other_prompts_answer_in_their_format():
    classify = answer({"input": {"text": "Our card got declined but the bank says nothing was blocked."},
                       "source": {"prompt_id": "ticket-classifier"}, "context": {"prompt_version": "v4"}})
    assert json.loads(classify["output"])["category"] == "billing"
    summary = answer({"input": {"text": "Thread #51234 (4 msgs)\nCustomer: Notifications arrive twice since the last update.\n…"},
                      "source": {"prompt_id": "summarize-thread"}, "context": {}})
    assert summary["output"].startswith(("Issue: duplicate notifications", "- duplicate notifications"))


def triage_lines(records, reasons) -> str:
    """The cases marking these responses bad writes (console.evaluation's own case maker when
    it is there, else the same shape by hand)."""
    try:
        from console.evaluation.regression_set import case_from_record
        from console.records import parse_line
        from console.cases.format import case_to_json
    except ImportError:
        return "".join(json.dumps(triage_case(r, reason)) + "\n" for r, reason in zip(records, reasons))
    return "".join(
        case_to_json(case_from_record(parse_line(json.dumps(r)), reason=reason, who="test", when=0.0)).decode() + "\n"
        for r, reason in zip(records, reasons)
    )


@pytest.fixture
def demo_project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    records = history()
    bad = list(islice((r for r in records if r["prompt_version"] == "v8" and is_defect(r["output"])), 2))
    other = next(r for r in records if r["prompt_version"] == "v7" and find_exchange(r["input"]) and not is_defect(r["output"]))
    (tmp_path / "regression").mkdir()
    # each defect marked with its own reason: the reason picks the assertion that tests it
    reasons = ["refusal" if r["output"] in texts.REFUSALS else "truncated" for r in bad]
    (tmp_path / "regression" / "cases.jsonl").write_text(triage_lines([*bad, other], [*reasons, "tone"]))
    (tmp_path / "llmops.toml").write_text(DEMO_REGRESSION_TOML)
    return tmp_path


def regress(*args):
    result = runner.invoke(app, ["regress", "--json", *args])
    return result.exit_code, json.loads(result.stdout) if result.stdout.startswith("{") else result.output


def test_the_demo_flow_fails_on_v8_and_passes_on_the_fix(demo_project):
    code, doc = regress()  # the demo target's prompt_version: v8
    assert code == 1, doc
    assert doc["prompt_version"] == "v8" and doc["counts"]["failed"] == 2 and doc["counts"]["passed"] == 1
    assert "below the minimum" in doc["gate"]["reasons"][0]
    code, doc = regress("--prompt-version", "v9", "--mark-baseline")
    assert code == 0 and doc["counts"]["passed"] == 3 and doc["is_baseline"]
    code, doc = regress()  # v8 again, now against the v9 baseline: two regressions
    assert code == 1 and doc["comparison"]["counts"]["regression"] == 2
    code, doc = regress("--prompt-version", "v7")
    assert code == 0 and doc["comparison"]["counts"]["stable"] == 3
