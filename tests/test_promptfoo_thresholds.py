"""promptfoo's meaning of a test's `threshold` and of each assertion type's `threshold`, through
`regress --suite` on a promptfoo-format config (and, where the figure cannot be set through the
echo target, latency, cost and embeddings, on one assertion). Each expectation names the promptfoo
file it comes from (repository promptfoo/promptfoo, read through the code index):

- a test's threshold is any number (src/types/testCases.ts TestCaseSchema: `threshold:
  z.number().optional()`), met when the weighted mean score >= threshold, compared exactly
  (src/assertions/assertionsResult.ts testResult: `pass = score >= this.threshold`), the mean being
  0 when every weight is 0 (`this.totalWeight > 0 ? this.totalScore / this.totalWeight : 0`);
  runAssertions (src/assertions/index.ts) gives an assert-set its own AssertionsResult with the
  set's threshold. A threshold that is not a number is ignored (`typeof this.threshold ===
  'number'`; src/util/config/load.ts only warns when the config does not match the schema).
- an assertion's threshold: levenshtein's is the largest edit distance, default 5 (src/assertions/
  levenshtein.ts), latency's milliseconds and cost's dollars at most, 0 included (src/assertions/
  latency.ts, cost.ts), similar's the smallest cosine similarity, default 0.75, with Number.EPSILON
  of slack and the similarity as the score, unclamped (src/assertions/similar.ts, src/matchers/
  similarity.ts buildSimilarityResult).
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from console.cases.format import Assertion, parse_case
from console.cli import app
from console.regression.assertions import verdict
from console.regression.results import TargetOutput

ECHO = "def echo(case):\n    return case['input'].get('text') or ''\n"  # promptfoo's echo provider

SUITE = r"""
prompts: ["{{q}}"]
providers: [echo]
tests:
  # assertionsResult.test.ts "should calculate final result with threshold": (0.6 + 0.8) / 2 >= 0.7
  - description: mean at the threshold
    vars: {q: hello}
    threshold: 0.7
    assert: [{type: python, value: "0.6"}, {type: python, value: "0.8"}]
  # assertionsResult.test.ts "should pass at the threshold:0 boundary when every assertion fails"
  - description: threshold zero with every assertion failing
    vars: {q: hello}
    threshold: 0
    assert: [{type: contains, value: absent}]
  # above 1: only scores above 1 (python's) reach it; assertionsResult.test.ts "preserves finite
  # aggregate scores" keeps a score of 2 as the test's score
  - description: above one reached by a python score
    vars: {q: hello}
    threshold: 1.5
    assert: [{type: python, value: "2"}, {type: contains, value: hello}]
  - description: above one missed
    vars: {q: hello}
    threshold: 1.5
    assert: [{type: python, value: "2"}, {type: contains, value: absent}]
  - description: above one with ordinary assertions
    vars: {q: hello}
    threshold: 2
    assert: [{type: contains, value: hello}]
  - description: exactly one
    vars: {q: hello}
    threshold: 1
    assert: [{type: contains, value: hello}, {type: python, value: "1"}]
  - description: below zero
    vars: {q: hello}
    threshold: -1
    assert: [{type: python, value: "-3"}, {type: contains, value: hello}]
  - description: below a negative threshold
    vars: {q: hello}
    threshold: -1
    assert: [{type: python, value: "-3"}, {type: contains, value: absent}]
  # no tolerance: 0.7 + 0.1 over weights summing to 1.0 is 0.7999999999999999, under 0.8
  - description: a rounding short of the threshold
    vars: {q: hello}
    threshold: 0.8
    assert:
      - {type: contains, value: hello, weight: 0.7}
      - {type: contains, value: hel, weight: 0.1}
      - {type: contains, value: absent, weight: 0.2}
  # every weight 0: the mean is 0 (assertionsResult.test.ts "should handle weight 0 for named metric
  # correctly": score 0), so a threshold above 0 fails; without one nothing can fail
  - description: only weight zero with a threshold
    vars: {q: hello}
    threshold: 0.5
    assert: [{type: contains, value: hello, weight: 0}]
  - description: only weight zero without a threshold
    vars: {q: hello}
    assert: [{type: contains, value: absent, weight: 0}]
  # assertionsResult.test.ts "should honor an assert-set threshold of 0": one of two fails, the set
  # passes with 0.5
  - description: assert-set threshold zero
    vars: {q: Hello there}
    assert:
      - type: assert-set
        threshold: 0
        assert: [{type: equals, value: Hello world}, {type: contains, value: there}]
  - description: assert-set threshold above one
    vars: {q: hello}
    assert:
      - type: assert-set
        threshold: 1.2
        assert: [{type: python, value: "1.5"}, {type: contains, value: hello}]
  # text is not a number: promptfoo warns and every assertion must pass
  - description: threshold as text
    vars: {q: hello}
    threshold: "0.1"
    assert: [{type: contains, value: hello}, {type: contains, value: absent}]
  - description: infinite threshold
    vars: {q: hello}
    threshold: .inf
    assert: [{type: python, value: "1000"}]
  # levenshtein.test.ts: distance 1 within the default 5; "tast" at threshold 0 fails (the file's
  # version at 0551f00c); "toast" is 2 from "test", over threshold 1; "tost" within 2
  - description: levenshtein default
    vars: {q: tast}
    assert: [{type: levenshtein, value: test}]
  - description: levenshtein beyond the default
    vars: {q: completely different}
    assert: [{type: levenshtein, value: test}]
  - description: levenshtein threshold zero
    vars: {q: tast}
    assert: [{type: levenshtein, value: test, threshold: 0}]
  - description: levenshtein over one
    vars: {q: toast}
    assert: [{type: levenshtein, value: test, threshold: 1}]
  - description: levenshtein within two
    vars: {q: tost}
    assert: [{type: levenshtein, value: test, threshold: 2}]
"""


@pytest.fixture(scope="module")
def doc(tmp_path_factory):
    where = tmp_path_factory.mktemp("thresholds")
    (where / "echo_target.py").write_text(ECHO)
    (where / "promptfooconfig.yaml").write_text(SUITE)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(where)
        result = CliRunner().invoke(app, ["regress", "--suite", "promptfooconfig.yaml", "--target",
                                          "python:echo_target:echo", "--json", "--baseline", "none"])  # fmt: skip
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def by_name(doc: dict) -> dict[str, dict]:
    return {c["id"].split("-", 1)[1]: c for c in doc["cases"]}


@pytest.mark.parametrize(("name", "status", "score"), [
    ("mean-at-the-threshold", "pass", 0.7),
    ("threshold-zero-with-every-assertion-failing", "pass", 0.0),
    ("above-one-reached-by-a-python-score", "pass", 1.5),
    ("above-one-missed", "fail", 1.0),
    ("above-one-with-ordinary-assertions", "fail", 1.0),
    ("exactly-one", "pass", 1.0),
    ("below-zero", "pass", -1.0),
    ("below-a-negative-threshold", "fail", -1.5),
    ("a-rounding-short-of-the-threshold", "fail", 0.8),
    ("only-weight-zero-with-a-threshold", "fail", 0.0),
    ("only-weight-zero-without-a-threshold", "pass", 0.0),
    ("assert-set-threshold-zero", "pass", 0.5),
    ("assert-set-threshold-above-one", "pass", 1.25),
    ("threshold-as-text", "fail", 0.5),
    ("infinite-threshold", "fail", 1000.0),
    ("levenshtein-default", "pass", 1.0),
    ("levenshtein-beyond-the-default", "fail", 0.0),
    ("levenshtein-threshold-zero", "fail", 0.0),
    ("levenshtein-over-one", "fail", 0.0),
    ("levenshtein-within-two", "pass", 1.0),
])  # fmt: skip
def test_thresholds_as_promptfoo_has_them(doc, name, status, score):
    case = by_name(doc)[name]
    assert (case["status"], case["score"]) == (status, pytest.approx(score)), case


def test_every_test_runs_and_a_text_threshold_is_a_note(doc):
    """Thresholds outside [0, 1] used to make "does not make a case" (not run)."""
    assert doc["not_run"] == []
    assert len(doc["cases"]) == 20
    assert [n for n in doc["suite_notes"] if "threshold" in n] == [
        "tests[14] 'threshold as text': threshold '0.1' is not a number: ignored (promptfoo warns and runs without it)"]


def test_the_exact_comparison_is_not_rounded(doc):
    assert by_name(doc)["a-rounding-short-of-the-threshold"]["score"] == 0.7999999999999999


def test_a_case_file_takes_any_threshold():
    """The case format takes what promptfoo's TestCase does (src/types/testCases.ts)."""
    for threshold in (1.5, -2, 0, 100):
        assert parse_case(json.dumps({"id": "c", "input": {"text": "q"}, "assert": [], "threshold": threshold})).threshold == threshold


def one(kind, *, threshold=None, value=None, output="x", latency=None, cost=None, embedder=None):
    case = parse_case(json.dumps({"id": "c", "input": {"text": "q"}, "assert": []}))
    return verdict(Assertion(type=kind, value=value, threshold=threshold),
                   TargetOutput(output, latency_ms=latency, cost_usd=cost), case, embedder=embedder)  # fmt: skip


@pytest.mark.parametrize(("kind", "threshold", "latency", "cost", "passed"), [
    ("latency", 0, 0, None, True), ("latency", 0, 1, None, False),
    ("latency", 100, 100, None, True), ("latency", 100, 1000, None, False),
    ("cost", 0, None, 0.0, True), ("cost", 0, None, 0.01, False),
    ("cost", 0.01, None, 0.005, True), ("cost", 0.01, None, 0.02, False),
    ("not-cost", 0.01, None, 0.005, False), ("not-cost", 0.01, None, 0.02, True),
])  # fmt: skip
def test_latency_and_cost_thresholds(kind, threshold, latency, cost, passed):
    """test/assertions/cost-latency-threshold-edge-cases.test.ts (a threshold of 0 is a threshold:
    0 <= 0 passes, 0.01 or 1 ms over fails, score 1 or 0), latency.test.ts ("should handle latency
    equal to threshold"), cost.test.ts (within / over 0.01, and "inverse (not-cost)")."""
    v = one(kind, threshold=threshold, latency=latency, cost=cost)
    assert (v.passed, v.score) == (passed, 1.0 if passed else 0.0), v.reason


def unit(angle_of: dict[str, float]):
    """An embedder giving each text a unit vector at its angle (cosine = cos of the difference)."""
    import math

    return lambda text: [math.cos(angle_of[text]), math.sin(angle_of[text])]


def test_similar_threshold_score_and_negation():
    """src/matchers/similarity.ts buildSimilarityResult: pass = similarity >= threshold -
    Number.EPSILON (inverse: <= threshold + Number.EPSILON), score = similarity (inverse: 1 -
    similarity), no clamp; src/assertions/similar.ts: threshold ?? 0.75, a list passes on the first
    value that passes (its score), else fails with the best score; not-similar with a list fails on
    the first value too similar, else passes with the closest one's score."""
    import math

    near, mid, far, opposite = math.acos(0.9), math.acos(0.75), math.acos(0.5), math.pi
    embed = unit({"out": 0.0, "near": near, "mid": mid, "far": far, "opposite": opposite})
    check = lambda kind, value, **kw: one(kind, value=value, output="out", embedder=embed, **kw)
    assert (check("similar", "mid").passed, check("similar", "mid").score) == (True, pytest.approx(0.75))
    assert check("similar", "far").passed is False
    assert check("similar", "far", threshold=0.5).passed is True
    below = check("similar", "opposite", threshold=-2)
    assert (below.passed, below.score) == (True, pytest.approx(-1.0))  # a cosine below 0 is kept
    listed = check("similar", ["far", "mid", "near"])
    assert (listed.passed, listed.score) == (True, pytest.approx(0.75))  # the first that passes, not the best
    missed = check("similar", ["opposite", "far"])
    assert (missed.passed, missed.score) == (False, pytest.approx(0.5))  # the best of the failures
    at = check("not-similar", "mid")  # at the threshold: inverse passes (<= threshold + EPSILON)
    assert (at.passed, at.score) == (True, pytest.approx(0.25))
    assert check("not-similar", "near").passed is False
    clear = check("not-similar", ["far", "opposite"])
    assert (clear.passed, clear.score) == (True, pytest.approx(0.5))  # the closest one's 1 - similarity
    caught = check("not-similar", ["far", "near", "mid"])
    assert (caught.passed, caught.score) == (False, pytest.approx(0.1))  # the first too similar


@pytest.mark.parametrize(("kind", "value", "output"), [
    ("contains", "World", "Hello, World"), ("contains", "moon", "Hello, World"),
    ("equals", "Hello", "Hello"), ("regex", r"^\d+$", "abc"), ("is-refusal", None, "I can't help with that."),
    ("is-json", None, '{"a": 1}'), ("starts-with", "Hi", "Hello"),
])  # fmt: skip
@pytest.mark.parametrize("threshold", [0, 0.5, 2, -1])
def test_a_threshold_on_a_pass_fail_type_changes_nothing(kind, value, output, threshold):
    """src/assertions/contains.ts handleContains, refusal.ts handleIsRefusal (and the other
    pass/fail handlers) never read assertion.threshold: pass is the check, score 1 or 0."""
    plain, thresholded = one(kind, value=value, output=output), one(kind, value=value, output=output, threshold=threshold)
    assert (thresholded.passed, thresholded.score) == (plain.passed, plain.score)
    assert thresholded.score == (1.0 if thresholded.passed else 0.0)
