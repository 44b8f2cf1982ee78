"""llm-rubric reads the judge's JSON answer as promptfoo's matchesLlmRubric does. Expectations
from promptfoo/promptfoo (read through the code index):

- test/matchers/llm-rubric.test.ts (matchesLlmRubric): {pass, reason} scores 1 or 0 from pass; an
  answer without pass, under an assertion threshold, passes when score >= threshold; with pass and
  a threshold both must hold; exactly at the threshold passes; a missing score or one that is not a
  number ("high") becomes 1 or 0 from pass; a score given as text ("0.9") is read; pass given as
  "true" / "false" text is read;
- src/matchers/rubric.ts runJsonGradingPrompt, where the tests above stop: `pass = parsed.pass ??
  true` (no pass, or null, passes), a pass that is not a boolean passes when
  `/^(true|yes|pass|y)$/i` matches its String() (untrimmed), `score` kept as given when a number
  (outside [0, 1] too), else `Number(score)` when finite (null is 0), else `Number(pass)`; reason
  `parsed.reason || (pass ? 'Grading passed' : 'Score ${score} below threshold ${threshold}')`;
- test/assertions/llmRubric.test.ts (handleLlmRubric): the score is kept as the grader gave it (2,
  3, 4 pass through), and `not-llm-rubric` flips pass and scores 1 - score clamped to [0, 1] (0.75
  gives 0.25, 5 gives 0).

Where we still differ on purpose (README): a reply with no JSON object, or a judge that cannot be
reached, skips the assertion (promptfoo fails it with metadata.graderError).
"""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler

import pytest
from typer.testing import CliRunner

from conftest import local_http
from console.cases.format import Assertion, parse_case
from console.cli import app
from console.judge import JudgeError, parse_grade
from console.regression.assertions import evaluate, verdict
from console.regression.results import FAIL, PASS, TargetOutput

CASE = parse_case(json.dumps({"id": "c", "input": {"text": "q"}, "assert": []}))


def graded(answer, *, threshold=None, negated=False):
    a = Assertion(type=("not-" if negated else "") + "llm-rubric", value="Rubric prompt", threshold=threshold)
    return verdict(a, TargetOutput("Sample output"), CASE, lambda rubric, output, case: answer)


@pytest.mark.parametrize(("answer", "threshold", "passed", "score", "reason"), [
    # llm-rubric.test.ts "should pass when the grading provider returns a passing result"
    ({"pass": True, "reason": "Test grading output"}, None, True, 1.0, "Test grading output"),
    # "should fail when the grading provider returns a failing result"
    ({"pass": False, "reason": "Grading failed"}, None, False, 0.0, "Grading failed"),
    # "should handle when provider returns direct object output instead of string"
    ({"pass": True, "score": 0.85, "reason": "Direct object output"}, None, True, 0.85, "Direct object output"),
    # "should use provided score threshold if llm does not return pass"
    ({"score": 0.25, "reason": "Low score"}, 0.5, False, 0.25, "Low score"),
    ({"score": 0.75, "reason": "High score"}, 0.5, True, 0.75, "High score"),
    # "should ignore the score threshold if llm returns pass"
    ({"score": 0.25, "reason": "Low score but pass", "pass": True}, 0.1, True, 0.25, "Low score but pass"),
    # "should respect both threshold and explicit pass/fail when both are present"
    ({"score": 0.7, "reason": "Score below threshold", "pass": True}, 0.8, False, 0.7, "Score below threshold"),
    ({"score": 0.9, "reason": "Score above threshold but explicit fail", "pass": False}, 0.8, False, 0.9,
     "Score above threshold but explicit fail"),
    # "should handle edge cases around threshold value"
    ({"score": 0.8, "reason": "Exactly at threshold"}, 0.8, True, 0.8, "Exactly at threshold"),
    ({"score": 0.799, "reason": "Just below threshold"}, 0.8, False, 0.799, "Just below threshold"),
    # "should handle missing or invalid scores when threshold is present"
    ({"pass": True, "reason": "No score provided"}, 0.8, True, 1.0, "No score provided"),
    ({"score": "high", "reason": "Invalid score type", "pass": True}, 0.8, True, 1.0, "Invalid score type"),
    # "should handle string scores"
    ({"score": "0.9", "reason": "String score"}, 0.8, True, 0.9, "String score"),
    # "should handle string pass values"
    ({"reason": "String pass", "pass": "true"}, 0.8, True, 1.0, "String pass"),
    ({"reason": "String fail", "pass": "false"}, 0.8, False, 0.0, "String fail"),
])  # fmt: skip
def test_the_graders_answer_as_promptfoos_tests_read_it(answer, threshold, passed, score, reason):
    v = graded(answer, threshold=threshold)
    assert (v.passed, v.score) == (passed, pytest.approx(score)), v.reason
    assert v.reason.endswith(": " + reason)


@pytest.mark.parametrize(("answer", "threshold", "passed", "score", "reason"), [
    # no pass and no threshold: `pass ?? true` passes whatever the score (here a 0.5 default used to decide)
    ({"score": 0.1, "reason": "weak"}, None, True, 0.1, "weak"),
    ({}, None, True, 1.0, "Grading passed"),
    ({"pass": None, "score": 0.4, "reason": "null pass"}, None, True, 0.4, "null pass"),
    # Number(null) is 0, a finite number: not 1 from pass
    ({"pass": True, "score": None, "reason": "null score"}, None, True, 0.0, "null score"),
    ({"pass": True, "score": None, "reason": "null score"}, 0.5, False, 0.0, "null score"),
    ({"pass": True, "score": " 0.6 ", "reason": "padded"}, 0.5, True, 0.6, "padded"),
    ({"pass": True, "score": "0.7 points", "reason": "unit"}, None, True, 1.0, "unit"),
    # the words promptfoo takes for pass, in any case; untrimmed; not the number 1
    ({"pass": "YES"}, None, True, 1.0, "Grading passed"),
    ({"pass": "y"}, None, True, 1.0, "Grading passed"),
    ({"pass": "Pass"}, None, True, 1.0, "Grading passed"),
    ({"pass": " true"}, None, False, 0.0, "Score 0 below threshold undefined"),
    ({"pass": 1}, None, False, 0.0, "Score 0 below threshold undefined"),
    # scores outside [0, 1] are kept
    ({"pass": True, "score": 5, "reason": "generous"}, None, True, 5.0, "generous"),
    ({"pass": True, "score": -1, "reason": "harsh"}, 0, False, -1.0, "harsh"),
    ({"pass": False, "score": 0.2}, 0.5, False, 0.2, "Score 0.2 below threshold 0.5"),
    ({"pass": True, "score": 0.9, "reason": ""}, 0.5, True, 0.9, "Grading passed"),
])  # fmt: skip
def test_the_graders_answer_where_promptfoos_source_decides(answer, threshold, passed, score, reason):
    v = graded(answer, threshold=threshold)
    assert (v.passed, v.score) == (passed, pytest.approx(score)), v.reason
    assert v.reason.endswith(": " + reason)


@pytest.mark.parametrize(("answer", "passed", "score"), [
    ({"pass": True, "score": 0.75, "reason": "criterion matched"}, False, 0.25),
    ({"pass": False, "score": 0.25, "reason": "criterion did not match"}, True, 0.75),
    ({"pass": True, "score": 1, "reason": "matched"}, False, 0.0),
    ({"pass": False, "score": 0, "reason": "no match"}, True, 1.0),
    ({"pass": True, "score": 5, "reason": "matched"}, False, 0.0),  # 1 - 5 clamped to 0
    ({"pass": False, "score": -2, "reason": "no match"}, True, 1.0),  # 1 + 2 clamped to 1
])  # fmt: skip
def test_not_llm_rubric_flips_pass_and_clamps_one_minus_score(answer, passed, score):
    """test/assertions/llmRubric.test.ts: "should invert pass and score for inverse assertions",
    "should invert failed responses into passes", "should invert score 1 to 0" / "0 to 1", "should
    clamp inverted score when grader emits an out-of-range score"."""
    v = graded(answer, negated=True)
    assert (v.passed, v.score) == (passed, score)


def test_a_graders_score_above_one_counts_as_given_in_the_mean():
    """handleLlmRubric keeps the score (llmRubric.test.ts: a matcher's score of 2, 3 or 4 is
    returned as is) and assertionsResult.ts sums `result.score * weight`."""
    case = parse_case(json.dumps({"id": "c", "input": {"text": "q"}, "threshold": 1.5, "assert": [
        {"type": "llm-rubric", "value": "generous"}, {"type": "contains", "value": "absent"}]}))
    judge = lambda rubric, output, case: {"pass": True, "score": 4, "reason": "very good"}
    assert evaluate(case, TargetOutput("x"), judge)[:2] == (PASS, 2.0)
    stingy = lambda rubric, output, case: {"pass": True, "score": 2, "reason": "good"}
    assert evaluate(case, TargetOutput("x"), stingy)[:2] == (FAIL, 1.0)


def completion(content: str) -> bytes:
    return json.dumps({"choices": [{"message": {"role": "assistant", "content": content}}]}).encode()


def test_parse_grade_takes_the_first_json_object_whatever_it_says():
    """rubric.ts: the first JSON object of the reply is the answer, with or without pass and score."""
    assert parse_grade(completion('{"reason": "no verdict"}')) == {"reason": "no verdict"}
    assert parse_grade(completion("{}")) == {}
    assert parse_grade(completion('Verdict: {"pass": true, "score": 1} (and {"pass": false})')) == {"pass": True, "score": 1}
    assert parse_grade(completion('```json\n{"pass": false, "score": 0.2, "reason": "x"}\n```'))["score"] == 0.2
    assert parse_grade(completion('{"score": NaN} {"pass": true}')) == {"pass": True}  # NaN is not JSON
    for reply in ("This is a valid text response but contains no JSON objects", "Here is the result: []",
                  "Result: null", '"just a string"', "Result: 123"):  # fmt: skip
        # llm-rubric.test.ts "should fail when string output contains no JSON objects" (and only [],
        # null, a string, a number): a grader error; here the assertion is skipped (README)
        with pytest.raises(JudgeError):
            parse_grade(completion(reply))


SUITE = r"""
prompts: ["{{grade}}"]
providers: [echo]
tests:
  - description: no pass passes
    vars: {grade: '{"score": 0.1, "reason": "weak"}'}
    assert: [{type: llm-rubric, value: is polite}]
  - description: no pass under a threshold
    vars: {grade: '{"score": 0.25, "reason": "Low score"}'}
    assert: [{type: llm-rubric, value: is polite, threshold: 0.5}]
  - description: pass as text
    vars: {grade: '{"pass": "false", "reason": "String fail"}'}
    assert: [{type: llm-rubric, value: is polite}]
  - description: score above one in the mean
    vars: {grade: '{"pass": true, "score": 3, "reason": "great"}'}
    threshold: 1.5
    assert: [{type: llm-rubric, value: is polite}, {type: contains, value: absent}]
  - description: negated out of range
    vars: {grade: '{"pass": true, "score": 5, "reason": "matched"}'}
    assert: [{type: not-llm-rubric, value: is rude}]
  - description: no json
    vars: {grade: 'I would rather not say'}
    assert: [{type: llm-rubric, value: is polite}]
"""


def test_regress_reads_a_judges_reply_as_promptfoo_does(tmp_path, monkeypatch):
    """End to end: `regress --suite` on a promptfoo config with [evaluation.judge] pointing at a stub
    OpenAI-compatible server on 127.0.0.1 that answers, as the grader, the response it is shown (the
    echo target's output is each test's `grade` var)."""

    class Grader(BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            shown = body["messages"][-1]["content"]
            data = completion(shown.split("<response>\n", 1)[1].rsplit("\n</response>", 1)[0])
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    monkeypatch.chdir(tmp_path)
    (tmp_path / "echo_target.py").write_text("def echo(case):\n    return case['input'].get('text') or ''\n")
    (tmp_path / "promptfooconfig.yaml").write_text(SUITE)
    with local_http(Grader) as url:
        (tmp_path / "llmops.toml").write_text(f'[evaluation.judge]\nenabled = true\nurl = "{url}"\n')
        result = CliRunner().invoke(app, ["regress", "--suite", "promptfooconfig.yaml", "--target",
                                          "python:echo_target:echo", "--json", "--baseline", "none"])  # fmt: skip
    assert result.exit_code in (0, 1), result.output  # the gate compares with a baseline: none here
    cases = {c["id"].split("-", 1)[1]: c for c in json.loads(result.stdout)["cases"]}
    got = {name: (c["status"], c["score"]) for name, c in cases.items()}
    assert got == {
        "no-pass-passes": ("pass", pytest.approx(0.1)),
        "no-pass-under-a-threshold": ("fail", pytest.approx(0.25)),
        "pass-as-text": ("fail", 0.0),
        "score-above-one-in-the-mean": ("pass", 1.5),
        "negated-out-of-range": ("fail", 0.0),
        "no-json": ("skipped", 0.0),
    }
    assert "holds no JSON object" in cases["no-json"]["assertions"][0]["reason"]
