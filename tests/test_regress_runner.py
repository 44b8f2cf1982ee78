"""The runner: concurrency, repeats, retries, timeouts, cancellation and its event stream."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest

from console.cases.format import parse_case
from console.regression.events import AttemptDone, CaseDone, RunFinished, RunStarted
from console.regression.results import TargetOutput
from console.regression.runner import Runner, RunOptions
from console.regression.targets import TargetError


def make_case(case_id, asserts=None, **fields):
    body = {"id": case_id, "input": {"text": case_id}, "assert": asserts or [{"type": "contains", "value": "ok"}]}
    return parse_case(json.dumps({**body, **fields}))


class ScriptedTarget:
    """Answers from a script: case id -> list of replies per call ('ok', 'no', 'error', 'hang')."""

    name = "scripted"

    def __init__(self, script=None, default="ok", delay=0.0):
        self.script = {k: list(v) for k, v in (script or {}).items()}
        self.default = default
        self.delay = delay
        self.calls = []
        self.active = 0
        self.peak = 0
        self.closed = False

    async def run(self, payload, case):
        self.calls.append((case.id, payload["context"]))
        self.active += 1
        self.peak = max(self.peak, self.active)
        try:
            await asyncio.sleep(self.delay)
            steps = self.script.get(case.id)
            step = steps.pop(0) if steps else self.default
            if step == "hang":
                await asyncio.sleep(3600)
            if step == "error":
                raise TargetError("boom")
            if step == "fatal":
                raise TargetError("bad request", retryable=False)
            return TargetOutput(step, latency_ms=5.0)
        finally:
            self.active -= 1

    async def aclose(self):
        self.closed = True


def run(target, cases, **options):
    events = []
    runner = Runner(target, cases, RunOptions(**options), on_event=events.append)
    return runner.run_blocking(), events


def test_every_case_runs_with_results_in_suite_order_and_events():
    cases = [make_case(f"c{i}") for i in range(10)]
    target = ScriptedTarget({"c3": ["no"]}, delay=0.001)
    outcome, events = run(target, cases, concurrency=3)
    assert [r.case_id for r in outcome.results] == [f"c{i}" for i in range(10)]
    assert (outcome.counts.passed, outcome.counts.failed, outcome.counts.done) == (9, 1, 10)
    assert target.peak == 3 and target.closed
    assert isinstance(events[0], RunStarted) and events[0].total == 10 and events[0].attempts == 10
    assert isinstance(events[-1], RunFinished) and not events[-1].cancelled
    done = [e for e in events if isinstance(e, CaseDone)]
    assert [e.counts.done for e in done] == list(range(1, 11))
    assert sum(isinstance(e, AttemptDone) for e in events) == 10


def test_context_reaches_the_target():
    target = ScriptedTarget()
    run(target, [make_case("a")], context={"prompt_version": "v9", "model": "m", "target": "t"})
    assert target.calls[0][1] == {"prompt_version": "v9", "model": "m", "target": "t", "attempt": 1}


def test_repeat_gives_a_pass_rate():
    target = ScriptedTarget({"flaky": ["ok", "no", "ok", "ok", "no"]})
    outcome, _ = run(target, [make_case("flaky", repeat=5)], concurrency=1)
    result = outcome.results[0]
    assert (result.passes, len(result.attempts), result.pass_rate, result.status) == (3, 5, 0.6, "fail")
    assert [a.number for a in result.attempts] == [1, 2, 3, 4, 5]
    assert sorted(c["attempt"] for _, c in target.calls) == [1, 2, 3, 4, 5]


def test_retries_then_errored_and_timeouts_are_not_retried():
    slept = []

    async def fake_sleep(seconds):
        slept.append(seconds)

    target = ScriptedTarget({"e": ["error", "error", "error"], "r": ["error", "ok"], "f": ["fatal", "ok"], "h": ["hang", "ok"]})
    runner = Runner(target, [make_case(i) for i in "erfh"], RunOptions(retries=2, backoff_s=1.0, timeout_s=0.2, concurrency=1), sleep=fake_sleep)
    outcome = runner.run_blocking()
    by_id = {r.case_id: r.attempts[0] for r in outcome.results}
    assert (by_id["e"].status, by_id["e"].tries, by_id["e"].error) == ("errored", 3, "boom")
    assert (by_id["r"].status, by_id["r"].tries) == ("pass", 2)
    assert (by_id["f"].status, by_id["f"].tries) == ("errored", 1)  # not retryable
    assert (by_id["h"].status, by_id["h"].tries) == ("errored", 1) and "timed out" in by_id["h"].error
    assert len(slept) == 3 and 0.5 <= slept[0] <= 1.5 and 1.0 <= slept[1] <= 3.0  # doubling, with jitter
    assert outcome.counts.errored == 3


def test_an_errored_attempt_makes_the_case_errored():
    outcome, _ = run(ScriptedTarget({"x": ["ok", "fatal"]}), [make_case("x", repeat=2)], concurrency=1)
    assert outcome.results[0].status == "errored" and outcome.results[0].passes == 1


def test_cancel_from_another_thread_stops_cleanly():
    cases = [make_case(f"c{i}") for i in range(50)]
    target = ScriptedTarget({"c2": ["hang"]}, delay=0.01)
    runner = Runner(target, cases, RunOptions(concurrency=2, timeout_s=60))
    landed = threading.Event()

    def on_event(event):
        if isinstance(event, CaseDone) and event.counts.done >= 3:
            landed.set()

    runner.on_event = on_event
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("outcome", runner.run_blocking()))
    thread.start()
    assert landed.wait(10)
    runner.cancel()
    thread.join(10)
    assert not thread.is_alive()
    outcome = result["outcome"]
    assert outcome.cancelled and 3 <= outcome.counts.done < 50
    assert "c2" not in {r.case_id for r in outcome.results}  # never completed: left out
    assert target.active == 0 and target.closed


def test_cancel_before_the_run_runs_nothing():
    target = ScriptedTarget()
    runner = Runner(target, [make_case("a")])
    runner.cancel()
    outcome = runner.run_blocking()
    assert outcome.cancelled and outcome.results == [] and target.calls == []


def test_python_assertions_run_off_the_loop(tmp_path, monkeypatch):
    (tmp_path / "regress_runner_checks.py").write_text("def has_ok(output, context):\n    return 'ok' in output\n")
    monkeypatch.chdir(tmp_path)
    case = make_case("p", [{"type": "python", "value": "regress_runner_checks:has_ok"}])
    outcome, _ = run(ScriptedTarget(), [case])
    assert outcome.results[0].status == "pass"


def test_an_empty_suite():
    outcome, events = run(ScriptedTarget(), [])
    assert outcome.results == [] and not outcome.cancelled
    assert [type(e) for e in events] == [RunStarted, RunFinished]


@pytest.mark.parametrize("concurrency", [1, 4, 16])
def test_many_cases(concurrency):
    outcome, _ = run(ScriptedTarget(), [make_case(f"c{i}") for i in range(200)], concurrency=concurrency)
    assert outcome.counts.passed == 200
