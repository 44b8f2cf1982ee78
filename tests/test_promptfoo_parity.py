"""promptfoo's own assertion test cases give the same verdicts here (tests/data/promptfoo_parity/
cases.json: each case names the promptfoo test file it was translated from). A case marked
`differs` is a deliberate difference, listed in the README's table; its `ours` verdict is held.

promptfoo's "error" (the assertion throws on a value it cannot use) is a failed assertion whose
reason says it cannot be checked, here as there never a pass."""

from __future__ import annotations

import json

import pytest

from conftest import REPO
from console.cases.format import Assertion, RegressionCase, parse_case
from console.regression.assertions import verdict
from console.regression.results import TargetOutput

DATA = json.loads((REPO / "tests" / "data" / "promptfoo_parity" / "cases.json").read_text(encoding="utf-8"))
CASES = DATA["cases"]


def _judge(grader):
    def judge(rubric: str, output: str, case: RegressionCase):
        if isinstance(grader, str):  # the grader's raw reply, which is not JSON
            raise ValueError(f"the judge gave neither pass nor score: {grader!r}")
        return grader

    return judge


def run(spec: dict):
    keys = {k: spec[k] for k in ("value", "threshold") if k in spec}
    assertion = Assertion(type=spec["type"], **keys)
    case = parse_case(json.dumps({"id": "parity", "input": {"vars": spec.get("vars", {})}, "assert": []}))
    out = TargetOutput(spec["output"], latency_ms=spec.get("latency_ms"), cost_usd=spec.get("cost_usd"), raw=spec.get("raw"))
    judge = _judge(spec["grader"]) if "grader" in spec else None
    return verdict(assertion, out, case, judge)


def status(v) -> str:
    if v.passed is None:
        return "skipped"
    if v.passed:
        return "pass"
    return "error" if v.reason.startswith("cannot check") else "fail"


@pytest.mark.parametrize("spec", CASES, ids=[f"{c['source'].rsplit('/', 1)[-1]}:{c['name'][:60]}" for c in CASES])
def test_promptfoo_case(spec, monkeypatch):
    monkeypatch.chdir(REPO)  # file:// values are relative to the repository, like promptfoo's base path
    got = status(run(spec))
    wanted = spec.get("ours", spec["promptfoo"])
    if wanted == "fail" and got == "error":  # failed either way; promptfoo's reason differs, not its verdict
        got = "fail"
    assert got == wanted, run(spec).reason


def test_the_ported_set_is_representative():
    kinds = {c["type"].removeprefix("not-") for c in CASES}
    shared = {"equals", "contains", "icontains", "contains-any", "contains-all", "icontains-any", "icontains-all",
              "starts-with", "regex", "is-json", "contains-json", "levenshtein", "latency", "cost", "python",
              "llm-rubric", "is-refusal", "finish-reason"}  # fmt: skip
    assert shared <= kinds
    assert len(CASES) >= 150
    differences = [c for c in CASES if "differs" in c]
    assert len(differences) <= 5 and all(c["ours"] != c["promptfoo"] for c in differences)
    assert all(c["source"].startswith("test/assertions/") for c in CASES)
