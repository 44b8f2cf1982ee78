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


# promptfoo's regex is `new RegExp(value)`, no flags (src/assertions/regex.ts); a pattern it
# cannot compile fails the assertion, `not-regex` too (pass: false whatever the inverse), as a
# broken check does here. Python-only syntax compiled here and passed where promptfoo fails.
# The negated cases follow test/assertions/regex.test.ts's not-regex pair.
@pytest.mark.parametrize(("kind", "pattern", "output", "wanted"), [
    ("regex", "(?i)REFUND", "refund issued", "error"),  # inline flags: "Invalid group" in JavaScript
    ("not-regex", "(?i)REFUND", "no match here", "error"),
    ("regex", "(?P<n>\\d+)", "order 42", "error"),  # Python's named group; JavaScript's is (?<n>…)
    ("regex", "(?<n>\\d+) and \\k<n>", "42 and 42", "pass"),
    ("regex", "(?i:refund)", "REFUND", "pass"),  # ES2025 modifiers, scoped: both engines agree
    ("regex", "\\Aabc", "abc", "fail"),  # \A is an identity escape there: the letter A
    ("regex", "\\Aabc", "xAabc", "pass"),
    ("not-regex", "\\d{3}-\\d{2}-\\d{4}", "This output contains 123-45-6789", "fail"),
])  # fmt: skip
def test_regex_is_read_as_new_RegExp_reads_it(kind, pattern, output, wanted):
    got = status(run({"type": kind, "value": pattern, "output": output}))
    assert got == wanted, run({"type": kind, "value": pattern, "output": output}).reason


# contains-any/all compare String(v) of each item (src/assertions/contains.ts): a null item of a
# YAML list looks for the text "null". It was read as "", which every output contains, so
# `contains-all: [refund, ~]` passed on any output holding "refund" and contains-any on any output.
@pytest.mark.parametrize(("kind", "value", "output", "wanted"), [
    ("contains-any", [None, "x"], "abc", "fail"),
    ("contains-all", ["refund", None], "refund issued", "fail"),
    ("icontains-any", [None], "NULL pointer", "pass"),
    ("not-contains-any", [None], "abc", "pass"),
])  # fmt: skip
def test_list_items_compare_as_javascript_strings(kind, value, output, wanted):
    assert status(run({"type": kind, "value": value, "output": output})) == wanted


def test_a_javascript_group_name_need_not_be_ascii():
    # JavaScript's group names are identifiers: (?<é>…) compiles there; 8d85fde's first reading
    # of what may follow "(?" refused it
    assert status(run({"type": "regex", "value": "(?<é>a)\\k<é>", "output": "aa"})) == "pass"
