"""promptfoo's meaning of thresholds and python scores, through `regress --suite` on real
promptfoo-format configs. Each expectation names the promptfoo test (or, where promptfoo has
none, the source line) it is taken from:

- a python score is kept as returned, above 1 or below 0 (src/assertions/
  scriptResultNormalization.ts `normalizeScriptAssertionResult`: `score: result`), and the test's
  score is the weighted mean of the scores as given (src/assertions/assertionsResult.ts
  `addResult`: `totalScore += result.score * weight`; `testResult`: `pass = score >= threshold`);
- `not-python` flips the pass and keeps a number's or a dict's score (same function: `pass =
  rawPass !== inverse`, `score: result`; for a dict `{...result, pass}`);
- a dict result needs pass (boolean), score (finite number) and reason (string), else the
  assertion fails (test/assertions/scriptResultNormalization.test.ts "still requires a reason and
  a score on the result itself");
- a test's threshold counts when it is a number, 0 included, and `threshold: null` is no
  threshold (assertionsResult.ts `typeof this.threshold === 'number' && !Number.isNaN(...)`), after
  `testCase.threshold ?? defaultTest.threshold` (src/evaluator.ts), so a null falls through to
  defaultTest's;
- an assertion's `threshold: null` makes promptfoo refuse the config (src/assertions/
  validateAssertions.ts parses each assertion with AssertionSchema, `threshold: z.number().optional()`):
  here that test is listed as not run.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from console.cli import app

ECHO = "def echo(case):\n    return case['input'].get('text') or ''\n"  # promptfoo's echo provider

SUITE = r"""
prompts: ["{{q}}"]
providers: [echo]
tests:
  # python.test.ts "Python threshold edge cases"
  - description: zero without threshold
    vars: {q: hello}
    assert: [{type: python, value: "0"}]
  - description: zero at threshold zero
    vars: {q: hello}
    assert: [{type: python, value: "0", threshold: 0}]
  - description: zero at threshold tenth
    vars: {q: hello}
    assert: [{type: python, value: "0", threshold: 0.1}]
  - description: negative at negative threshold
    vars: {q: hello}
    assert: [{type: python, value: "-0.5", threshold: -1}]
  # a score above 1 lifts the weighted mean: (2 + 0) / 2 = 1.0 >= 0.9
  - description: above one lifts the mean
    vars: {q: hello}
    threshold: 0.9
    assert: [{type: python, value: "2"}, {type: contains, value: absent}]
  # a score below 0 sinks it: (-3 + 1) / 2 = -1 < 0, and a threshold of 0 is a threshold
  - description: below zero sinks the mean
    vars: {q: hello}
    threshold: 0
    assert: [{type: python, value: "-3"}, {type: contains, value: hello}]
  - description: threshold zero passes any failure
    vars: {q: hello}
    threshold: 0
    assert: [{type: contains, value: absent}]
  # GradingResult dicts with scores outside [0, 1]
  - description: dict above one lifts the mean
    vars: {q: hello}
    threshold: 0.9
    assert:
      - {type: python, value: "{'pass': True, 'score': 5, 'reason': 'big'}"}
      - {type: contains, value: absent}
  - description: dict pass false rules without threshold
    vars: {q: hello}
    assert: [{type: python, value: "{'pass': False, 'score': 1.5, 'reason': 'flagged'}"}]
  - description: dict under its assertion threshold
    vars: {q: hello}
    assert: [{type: python, value: "{'pass': True, 'score': 1.5, 'reason': 'ok'}", threshold: 2}]
  # scriptResultNormalization.test.ts "still requires a reason and a score on the result itself"
  - description: dict without reason
    vars: {q: hello}
    assert: [{type: python, value: "{'pass': True, 'score': 1}"}]
  - description: dict without score
    vars: {q: hello}
    assert: [{type: python, value: "{'pass': True, 'reason': 'no score'}"}]
  - description: dict with null reason
    vars: {q: hello}
    assert: [{type: python, value: "{'pass': True, 'score': 1, 'reason': None}"}]
  - description: dict with score as text
    vars: {q: hello}
    assert: [{type: python, value: "{'pass': True, 'score': '0.9', 'reason': 'text'}"}]
  # python.test.ts "should map snake_case keys from python dataclass to camelCase"
  - description: dict with pass_
    vars: {q: hello}
    assert: [{type: python, value: "{'pass_': True, 'score': 1, 'reason': 'ok'}"}]
  # python.test.ts "file:// assertion ... returns a number" ('0.5' passes, '0' fails), read by parseFloat
  - description: text half
    vars: {q: hello}
    assert: [{type: python, value: "'0.5'"}]
  - description: text zero
    vars: {q: hello}
    assert: [{type: python, value: "'0'"}]
  - description: text with a unit
    vars: {q: hello}
    assert: [{type: python, value: "'0.7 points'"}]
  # not-python keeps a number's score: (0.2 + 1) / 2 = 0.6 < 0.7
  - description: negated number keeps its score
    vars: {q: hello}
    threshold: 0.7
    assert: [{type: not-python, value: "0.2"}, {type: contains, value: hello}]
  - description: negated dict keeps its score
    vars: {q: hello}
    assert: [{type: not-python, value: "{'pass': False, 'score': 0.9, 'reason': 'r'}"}]
  # threshold: null
  - description: null test threshold is none
    vars: {q: hello}
    threshold: null
    assert: [{type: python, value: "0.6"}, {type: contains, value: absent}]
  - description: null assertion threshold
    vars: {q: hello}
    assert: [{type: python, value: "0", threshold: null}]
  - description: null assert-set threshold
    vars: {q: hello}
    assert: [{type: assert-set, threshold: null, assert: [{type: contains, value: hello}]}]
"""


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "echo_target.py").write_text(ECHO)

    def regress(text: str) -> dict:
        (tmp_path / "promptfooconfig.yaml").write_text(text)
        result = CliRunner().invoke(app, ["regress", "--suite", "promptfooconfig.yaml", "--target",
                                          "python:echo_target:echo", "--json", "--baseline", "none"])  # fmt: skip
        assert result.exit_code in (0, 1), result.output
        return json.loads(result.stdout)

    return regress


def by_name(doc: dict) -> dict[str, dict]:
    """The cases by description (ids are '<n>-<slug>')."""
    return {c["id"].split("-", 1)[1]: c for c in doc["cases"]}


@pytest.fixture
def doc(run):
    return run(SUITE)


@pytest.mark.parametrize(("name", "status", "score"), [
    ("zero-without-threshold", "fail", 0.0),
    ("zero-at-threshold-zero", "pass", 0.0),
    ("zero-at-threshold-tenth", "fail", 0.0),
    ("negative-at-negative-threshold", "pass", -0.5),
    ("above-one-lifts-the-mean", "pass", 1.0),
    ("below-zero-sinks-the-mean", "fail", -1.0),
    ("threshold-zero-passes-any-failure", "pass", 0.0),
    ("dict-above-one-lifts-the-mean", "pass", 2.5),
    ("dict-pass-false-rules-without-threshold", "fail", 1.5),
    ("dict-under-its-assertion-threshold", "fail", 1.5),
    ("dict-with-pass", "pass", 1.0),
    ("text-half", "pass", 0.5),
    ("text-zero", "fail", 0.0),
    ("text-with-a-unit", "pass", 0.7),
    ("negated-number-keeps-its-score", "fail", 0.6),
    ("negated-dict-keeps-its-score", "pass", 0.9),
    ("null-test-threshold-is-none", "fail", 0.3),
])  # fmt: skip
def test_python_scores_and_thresholds_as_promptfoo_has_them(doc, name, status, score):
    case = by_name(doc)[name]
    assert (case["status"], case["score"]) == (status, pytest.approx(score)), case


def test_a_python_score_is_reported_as_returned(doc):
    cases = by_name(doc)
    assert cases["above-one-lifts-the-mean"]["assertions"][0]["score"] == 2
    assert cases["below-zero-sinks-the-mean"]["assertions"][0]["score"] == -3
    under = cases["dict-under-its-assertion-threshold"]["assertions"][0]
    assert under["reason"] == "Python score 1.5 is less than threshold 2: ok"  # python.test.ts's wording
    negated = cases["negated-number-keeps-its-score"]["assertions"][0]
    assert (negated["status"], negated["score"]) == ("fail", 0.2)


@pytest.mark.parametrize("name", ["dict-without-reason", "dict-without-score", "dict-with-null-reason",
                                  "dict-with-score-as-text"])  # fmt: skip
def test_a_dict_without_pass_score_and_reason_fails_the_assertion(doc, name):
    case = by_name(doc)[name]
    assertion = case["assertions"][0]
    assert case["status"] == "fail" and assertion["status"] == "fail"
    assert "cannot check" in assertion["reason"] and "{pass, score, reason}" in assertion["reason"]


def test_an_assertion_threshold_of_null_is_not_run(doc):
    not_run = {e["test"]: e["reason"] for e in doc["not_run"]}
    assert set(by_name(doc)) & {"null-assertion-threshold", "null-assert-set-threshold"} == set()
    python = next(r for w, r in not_run.items() if "null assertion threshold" in w)
    assert "threshold None, not a number" in python and "promptfoo refuses the config" in python
    assert any("null assert-set threshold" in w for w in not_run)
    assert len(not_run) == 2


def test_a_null_test_threshold_falls_through_to_defaulttest(run):
    """`testCase.threshold ?? defaultTest.threshold` (src/evaluator.ts): the test's null gives way."""
    doc = run("""
prompts: ["{{q}}"]
providers: [echo]
defaultTest: {threshold: 0.9}
tests:
  - description: null gives way
    vars: {q: hello}
    threshold: null
    assert: [{type: python, value: "2"}, {type: contains, value: absent}]
  - description: own threshold wins
    vars: {q: hello}
    threshold: 1.0
    assert: [{type: python, value: "1"}, {type: contains, value: absent}]
""")
    cases = by_name(doc)
    assert (cases["null-gives-way"]["status"], cases["null-gives-way"]["score"]) == ("pass", 1.0)
    assert (cases["own-threshold-wins"]["status"], cases["own-threshold-wins"]["score"]) == ("fail", 0.5)
