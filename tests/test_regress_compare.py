"""Baseline comparison classes on scripted runs, pass-rate statistics, the gate, history."""

from __future__ import annotations

import pytest

from console.analytics.stats import wilson_interval
from console.regression import history
from console.regression.baseline import compare, mcnemar_exact
from console.regression.gate import judge_gate
from console.regression.results import Attempt, CaseResult, Counts, Verdict
from console.store import Store


def result(case_id, *statuses, tags=()):
    return CaseResult(case_id, [Attempt(i, s, 1.0 if s == "pass" else 0.0) for i, s in enumerate(statuses, 1)], tuple(tags))


BASELINE = {r.case_id: r for r in [
    result("stable", "pass"), result("regressed", "pass"), result("fixed", "fail"), result("still", "fail"),
    result("gone", "pass"), result("was-error", "errored"), result("now-error", "pass"), result("old-error", "errored"),
    result("flaky", "pass", "pass", "fail", "fail", "fail"), result("skip", "pass"),
]}  # fmt: skip
CURRENT = [
    result("stable", "pass"), result("regressed", "fail", tags=["critical"]), result("fixed", "pass"),
    result("still", "fail"), result("brand-new", "fail"), result("was-error", "pass"), result("now-error", "errored"),
    result("old-error", "errored"), result("flaky", "pass", "fail", "fail", "fail", "fail"), result("skip", "skipped"),
]  # fmt: skip


def test_every_class():
    comparison = compare(CURRENT, BASELINE, baseline_run_id=7)
    kinds = {c.case_id: c.kind for c in comparison.changes}
    assert kinds == {
        "stable": "stable", "regressed": "regression", "fixed": "fix", "still": "still-failing",
        "brand-new": "new", "gone": "missing", "was-error": "fix", "now-error": "errored",
        "old-error": "errored", "flaky": "still-failing", "skip": "skipped",
    }  # fmt: skip
    assert comparison.counts["regression"] == 1 and comparison.counts["fix"] == 2
    by_id = {c.case_id: c for c in comparison.changes}
    assert by_id["now-error"].new_error and not by_id["old-error"].new_error
    assert by_id["flaky"].rate_dropped and (by_id["flaky"].baseline_pass_rate, by_id["flaky"].pass_rate) == (0.4, 0.2)
    assert [c.case_id for c in comparison.rate_drops] == ["flaky"]
    assert by_id["regressed"].critical and not by_id["stable"].critical


def test_pass_rates_with_wilson_intervals_and_mcnemar():
    comparison = compare(CURRENT, BASELINE, baseline_run_id=7)
    # now: pass = stable, fixed, was-error (3) of 9 evaluated (skip left out)
    assert (comparison.current.passed, comparison.current.evaluated) == (3, 9)
    assert (comparison.current.low, comparison.current.high) == pytest.approx(wilson_interval(3, 9))
    assert (comparison.baseline.passed, comparison.baseline.evaluated) == (5, 10)
    assert comparison.delta == pytest.approx(3 / 9 - 5 / 10)
    assert comparison.mcnemar_p == pytest.approx(1.0)  # 1 regression vs 2 fixes
    assert mcnemar_exact(0, 0) is None
    assert mcnemar_exact(8, 0) == pytest.approx(2 * 0.5**8)
    assert mcnemar_exact(3, 3) == pytest.approx(1.0)


def test_without_a_baseline_every_case_is_new():
    comparison = compare([result("a", "pass"), result("b", "fail"), result("c", "errored")], None)
    assert [c.kind for c in comparison.changes] == ["new", "new", "errored"]
    assert comparison.baseline is None and comparison.mcnemar_p is None and comparison.delta is None
    assert comparison.changes[2].new_error


def test_the_gate():
    comparison = compare(CURRENT, BASELINE, baseline_run_id=7)
    gate = judge_gate(comparison)
    assert not gate.passed
    assert any("critical case(s) regressed: regressed" in r for r in gate.reasons)
    assert any("1 new error(s): now-error" in r for r in gate.reasons)
    clean = compare([result("a", "pass"), result("b", "fail")], {"a": result("a", "pass"), "b": result("b", "pass")}, baseline_run_id=1)
    gate = judge_gate(clean)
    assert gate.passed and any("not tagged critical: b" in n for n in gate.notes)  # only critical ones fail it
    assert not judge_gate(clean, min_pass_rate=0.9).passed
    assert "below the minimum 90.0%" in judge_gate(clean, min_pass_rate=0.9).reasons[0]
    assert judge_gate(clean, min_pass_rate=0.5).passed
    assert not judge_gate(clean, cancelled=True).passed


def test_a_pass_rate_drop_in_a_critical_case_fails_the_gate():
    before = {"k": result("k", "pass", "pass", "fail")}
    now = [result("k", "pass", "fail", "fail", tags=["critical"])]
    comparison = compare(now, before, baseline_run_id=1)
    assert comparison.changes[0].kind == "still-failing" and comparison.changes[0].rate_dropped
    assert not judge_gate(comparison).passed
    assert judge_gate(compare(now, before, baseline_run_id=1, critical_tag="p0")).passed


def test_history_stores_runs_results_and_one_baseline_per_suite(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    verdict = Verdict("contains", False, 0.0, 1.0, "'x' not found")
    first = history.start_run(store, suite="cases.jsonl", target="app", prompt_version="v8", model="m", git_commit="abc")
    results = [CaseResult("a", [Attempt(1, "fail", 0.0, "out", (verdict,), 12.5, 0.001)]),
               CaseResult("b", [Attempt(1, "errored", error="timed out"), Attempt(2, "pass", 1.0, "ok")])]
    history.record_results(store, first, results)
    history.finish_run(store, first, Counts(total=2, done=2, failed=1, errored=1), status="finished", summary={"x": 1})
    loaded = history.load_results(store, first)
    assert loaded["a"].attempts[0].verdicts == (verdict,) and loaded["a"].attempts[0].cost_usd == 0.001
    assert loaded["b"].attempts[0].error == "timed out" and loaded["b"].status == "errored" and loaded["b"].passes == 1
    info = history.get_run(store, first)
    assert (info.status, info.failed, info.errored, info.summary, info.prompt_version) == ("finished", 1, 1, {"x": 1}, "v8")
    assert info.pass_rate == 0.0
    second = history.start_run(store, suite="cases.jsonl", target="app")
    other = history.start_run(store, suite="other.jsonl", target="app")
    assert history.baseline_run(store, "cases.jsonl") is None
    history.mark_baseline(store, second)
    history.mark_baseline(store, other)
    history.mark_baseline(store, first)
    assert history.baseline_run(store, "cases.jsonl").id == first  # the one marked last
    assert history.baseline_run(store, "other.jsonl").id == other  # per suite
    assert [r.id for r in history.list_runs(store)] == [other, second, first]
    assert [r.is_baseline for r in history.list_runs(store, suite="cases.jsonl")] == [False, True]
    with pytest.raises(LookupError):
        history.mark_baseline(store, 999)
    store.close()
