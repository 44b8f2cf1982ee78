"""Each assertion type, negation, weights and thresholds, and skipped llm-rubric."""

from __future__ import annotations

import pytest

from console.cases.format import Assertion, parse_case
from console.regression.assertions import decide, evaluate, levenshtein, verdict
from console.regression.results import FAIL, PASS, SKIPPED, TargetOutput, Verdict


def case(asserts, **extra):
    import json

    return parse_case(json.dumps({"id": "c", "input": {"text": "q"}, "assert": asserts, **extra}))


def check(kind, value=None, output="Hello, World", *, threshold=None, latency=None, cost=None, expected=None):
    a = Assertion(type=kind, value=value, threshold=threshold)
    c = case([], expected_output=expected)
    return verdict(a, TargetOutput(output, latency_ms=latency, cost_usd=cost), c)


CASES = [
    ("equals", "Hello, World", True),
    ("equals", "hello, world", False),
    ("contains", "World", True),
    ("contains", "world", False),
    ("icontains", "WORLD", True),
    ("icontains", "planet", False),
    ("contains-any", ["planet", "World"], True),
    ("contains-any", ["planet", "moon"], False),
    ("contains-all", ["Hello", "World"], True),
    ("contains-all", ["Hello", "moon"], False),
    ("starts-with", "Hello", True),
    ("starts-with", "World", False),
    ("regex", r"W\w+d$", True),
    ("regex", r"^\d+$", False),
]


@pytest.mark.parametrize(("kind", "value", "passes"), CASES)
def test_text_assertions_and_their_negation(kind, value, passes):
    assert check(kind, value).passed is passes
    negated = check("not-" + kind, value)
    assert negated.passed is (not passes)
    assert negated.score == (0.0 if passes else 1.0)


def test_contains_any_accepts_a_single_string():
    assert check("contains-any", "World").passed is True


def test_equals_defaults_to_the_expected_output_and_compares_json_values():
    assert check("equals", expected="Hello, World").passed is True
    assert check("equals", {"a": [1, 2]}, output='{"a": [1, 2]}').passed is True
    assert check("equals", {"a": 1}, output="not json").passed is False


def test_is_json_with_and_without_a_schema():
    assert check("is-json", output='{"category": "billing"}').passed is True
    assert check("is-json", output="```json\n{}\n```").passed is False
    schema = {"type": "object", "required": ["category", "priority"], "properties": {"priority": {"enum": ["low", "high"]}}}
    ok = check("is-json", schema, output='{"category": "billing", "priority": "high"}')
    assert ok.passed is True
    bad = check("is-json", schema, output='{"category": "billing", "priority": "urgent"}')
    assert bad.passed is False and "urgent" in bad.reason and "priority" in bad.reason
    assert check("not-is-json", output="plain text").passed is True


def test_contains_json_finds_json_inside_prose():
    out = 'Sure! Here is the classification:\n{"category": "billing", "priority": "low"} hope it helps'
    assert check("contains-json", output=out).passed is True
    assert check("contains-json", {"required": ["needs_human"]}, output=out).passed is False
    assert check("contains-json", output="no json {here").passed is False


def test_levenshtein_with_threshold_value_and_default():
    assert levenshtein("kitten", "sitting") == 3
    assert levenshtein("a" * 50, "b" * 50, limit=3) == 4  # banded: stops early
    assert check("levenshtein", "Hello, Wrld", threshold=1).passed is True
    assert check("levenshtein", "Hallo, Wrld", threshold=1).passed is False
    assert check("levenshtein", 2, expected="Hello, Wxrld").passed is True  # a number: the max distance
    assert check("levenshtein", "Hello World").passed is True  # default max 5
    assert check("not-levenshtein", "completely different", threshold=3).passed is True


def test_latency_and_cost():
    assert check("latency", 500, latency=120).passed is True
    assert check("latency", 100, latency=120).passed is False
    assert check("cost", 0.01, cost=0.002).passed is True
    assert check("cost", 0.001, cost=0.002).passed is False
    assert check("not-cost", 0.001, cost=0.002).passed is True


def test_a_check_that_cannot_run_fails_even_negated():
    for kind in ("cost", "not-cost"):
        v = check(kind, 0.01, cost=None)
        assert v.passed is False and "no cost_usd" in v.reason
    for kind in ("regex", "not-regex"):
        v = check(kind, "(unclosed")
        assert v.passed is False and "bad regex" in v.reason
    # an empty value is a mistake in the suite, as in promptfoo (a number is looked for as text)
    assert check("not-contains", "").passed is False
    assert check("not-contains", 5).passed is True and check("contains", 0, output="0 errors").passed is True
    assert check("not-equals").passed is False  # nothing to compare with


def test_python_assertions(tmp_path, monkeypatch):
    (tmp_path / "my_checks.py").write_text(
        "def polite(output, context):\n    return 'please' in output.lower()\n"
        "def score(output, context):\n    return len(output) / 100\n"
        "def full(output, context):\n    return {'pass': False, 'score': 0.25, 'reason': 'too ' + context['vars']['w']}\n"
        "def boom(output, context):\n    raise RuntimeError('bug')\n"
        "def odd(output, context):\n    return 'yes'\n"
    )
    monkeypatch.chdir(tmp_path)
    c = case([], input={"vars": {"w": "short"}})
    out = TargetOutput("Please wait")
    run = lambda kind, value, **kw: verdict(Assertion(type=kind, value=value, **kw), out, c)  # noqa: E731
    assert run("python", "my_checks:polite").passed is True
    assert run("not-python", "my_checks:polite").passed is False
    # a bare score passes above 0 unless a threshold is set (promptfoo's rule)
    low = run("python", "my_checks:score", threshold=0.5)
    assert low.passed is False and low.score == pytest.approx(0.11)
    assert run("python", "my_checks:score").passed is True
    assert run("python", "my_checks:score", threshold=0.1).passed is True
    full = run("python", "my_checks:full")
    assert (full.passed, full.score, full.reason) == (False, 0.25, "too short")
    for ref, words in (("my_checks:boom", "RuntimeError: bug"), ("my_checks:odd", "returned str"),
                       ("my_checks:missing", "has no"), ("nope_module:f", "cannot import"), ("no-colon", "module:function")):
        v = run("not-python", ref)
        assert v.passed is False and words in v.reason, v.reason


def test_llm_rubric_is_skipped_without_a_judge_never_passed():
    c = case([{"type": "llm-rubric", "value": "is polite"}])
    status, score, verdicts = evaluate(c, TargetOutput("whatever"))
    assert status == SKIPPED and verdicts[0].passed is None and "no LLM judge" in verdicts[0].reason
    negated = case([{"type": "not-llm-rubric", "value": "is rude"}])
    assert evaluate(negated, TargetOutput("x"))[0] == SKIPPED


def test_llm_rubric_with_a_judge():
    c = case([{"type": "llm-rubric", "value": "is polite", "threshold": 0.7}])
    judge = lambda rubric, output, case: (0.8 if "please" in output else 0.2, "checked " + rubric)  # noqa: E731
    assert evaluate(c, TargetOutput("please"), judge)[0] == PASS
    status, _, verdicts = evaluate(c, TargetOutput("no"), judge)
    assert status == FAIL and "checked is polite" in verdicts[0].reason

    def broken(rubric, output, case):
        raise ConnectionError("judge down")

    assert evaluate(c, TargetOutput("please"), broken)[0] == SKIPPED


def v(passed, weight=1.0, score=None):
    return Verdict("x", passed, score if score is not None else (1.0 if passed else 0.0), weight, "")


def test_default_threshold_needs_every_weighted_assertion():
    assert decide([v(True), v(True)], None)[0] == PASS
    assert decide([v(True), v(False)], None)[0] == FAIL
    assert decide([v(True), v(None)], None)[0] == SKIPPED
    assert decide([v(False), v(None)], None)[0] == FAIL
    assert decide([v(True), v(False, weight=0)], None)[0] == PASS  # weight 0: informational
    assert decide([], None) == (PASS, 1.0)


def test_weights_and_thresholds():
    verdicts = [v(True, weight=3), v(False, weight=1)]
    assert decide(verdicts, 0.75) == (PASS, 0.75)
    assert decide(verdicts, 0.8) == (FAIL, 0.75)
    assert decide([v(True, weight=1), v(None, weight=1)], 0.5)[0] == PASS  # the skipped one cannot change it
    assert decide([v(True, weight=1), v(None, weight=1)], 0.75)[0] == SKIPPED  # it could
    assert decide([v(False, weight=3), v(None, weight=1)], 0.5)[0] == FAIL  # it could not
    partial = [v(True, score=0.6), v(True, score=0.9)]
    assert decide(partial, 0.7) == (PASS, pytest.approx(0.75))


def test_a_case_without_assertions_uses_expected_output():
    with_expected = case([], expected_output="Paris")
    assert evaluate(with_expected, TargetOutput("Paris"))[0] == PASS
    assert evaluate(with_expected, TargetOutput("Lyon"))[0] == FAIL
    assert evaluate(case([]), TargetOutput("anything"))[0] == PASS


def test_case_threshold_from_the_file():
    c = case([{"type": "contains", "value": "a", "weight": 2}, {"type": "contains", "value": "zzz"}], threshold=0.6)
    status, score, _ = evaluate(c, TargetOutput("abc"))
    assert status == PASS and score == pytest.approx(2 / 3)


def test_llm_rubric_uses_the_evaluation_judge_when_enabled():
    """The judge of [evaluation.judge], against a stub OpenAI-compatible server on 127.0.0.1."""
    import json as _json
    from http.server import BaseHTTPRequestHandler

    from conftest import local_http

    from console.config import Settings
    from console.regression.plan import judge_from_settings

    seen = []

    class Stub(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = _json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            seen.append(body)
            polite = "please" in body["messages"][-1]["content"]
            # the {pass, score, reason} the rubric prompt asks for (an answer without pass passes)
            content = _json.dumps({"pass": polite, "score": 0.9 if polite else 0.1, "reason": "tone"})
            data = _json.dumps({"choices": [{"message": {"role": "assistant", "content": content}}]}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    with local_http(Stub) as url:
        assert judge_from_settings(Settings()) is None  # off by default
        import msgspec

        settings = msgspec.convert({"evaluation": {"judge": {"enabled": True, "api_key_env": None,
                                   "url": url}}}, Settings)  # fmt: skip
        judge = judge_from_settings(settings)
        c = case([{"type": "llm-rubric", "value": "answers politely"}])
        assert evaluate(c, TargetOutput("yes please"), judge)[0] == PASS
        status, _, verdicts = evaluate(c, TargetOutput("no"), judge)
        assert status == FAIL and "tone" in verdicts[0].reason
        assert "answers politely" in seen[0]["messages"][0]["content"]


def test_promptfoo_meanings_the_issue_found_missing(tmp_path, monkeypatch):
    # JSON values: true is not 1; a top-level number is compared as JavaScript writes it
    assert check("equals", [True], output="[1]").passed is False
    assert check("equals", {"n": 5}, output='{"n": 5.0}').passed is True
    assert check("equals", 5, output="5").passed is True and check("equals", 5, output="5.0").passed is False
    assert check("is-json", output="NaN").passed is False and check("is-json", output='{"a": Infinity}').passed is False
    email = {"type": "object", "properties": {"to": {"type": "string", "format": "email"}}}
    assert check("is-json", email, output='{"to": "nobody"}').passed is False
    # JavaScript's regex dialect: $ is the very end, \d is ASCII, (?<name>) groups
    assert check("regex", "done$", output="done\n").passed is False and check("regex", "done$", output="done").passed is True
    assert check("regex", r"^\d+$", output="٣").passed is False
    assert check("regex", r"(?<word>ab)\k<word>", output="abab").passed is True
    # comma-separated lists, empty lists, numbers in lists
    assert check("contains-any", "refund,return", output="we return it").passed is True
    assert check("contains-all", [], output="x").passed is True and check("contains-any", [], output="x").passed is False
    assert check("contains-all", [1, 2], output="1 and 2").passed is True
    for kind in ("contains", "starts-with", "regex", "not-contains-any"):
        v = check(kind, "", output="x")
        assert v.passed is False and v.reason.startswith("cannot check"), (kind, v.reason)


def test_templates_and_file_values(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "expected.txt").write_text("Paris\n")
    (tmp_path / "words.yaml").write_text("- Paris\n- France\n")
    c = case([], input={"vars": {"city": "Paris", "country": "France"}})
    out = TargetOutput("Paris is the capital of France")
    run = lambda **kw: verdict(Assertion(**kw), out, c)  # noqa: E731
    assert run(type="contains", value="{{ city }}").passed is True
    assert run(type="contains-all", value=["{{ city }}", "{{ country | upper }}"]).passed is False  # a real engine: filters
    assert run(type="starts-with", value="file://expected.txt").passed is True
    assert run(type="contains-all", value="file://words.yaml").passed is True
    missing = run(type="contains", value="file://nope.txt")
    assert missing.passed is False and "cannot read" in missing.reason


def test_assert_set_javascript_transform_and_similar(tmp_path):
    c = case([])
    out = TargetOutput("Hello, World")
    run = lambda **kw: verdict(Assertion(**kw), out, c)  # noqa: E731
    members = [Assertion(type="contains", value="Hello"), Assertion(type="contains", value="moon")]
    assert run(type="assert-set", assert_=members).passed is False
    half = run(type="assert-set", assert_=members, threshold=0.5)
    assert half.passed is True and half.score == pytest.approx(0.5)
    for kw in ({"type": "javascript", "value": "output.length > 0"}, {"type": "not-javascript", "value": "true"},
               {"type": "contains", "value": "Hello", "transform": "output.toLowerCase()"}):  # fmt: skip
        v = run(**kw)
        assert v.passed is False and v.reason.startswith("cannot check") and "JavaScript" in v.reason, v.reason
    skipped = run(type="similar", value="Hi, World")
    assert skipped.passed is None and "embedding provider" in skipped.reason
    unit = lambda text: [1.0, 0.0] if "World" in text else [0.0, 1.0]  # noqa: E731
    assert verdict(Assertion(type="similar", value="Hi, World"), out, c, embedder=unit).passed is True
    assert verdict(Assertion(type="similar", value="moon"), out, c, embedder=unit).passed is False
    assert run(type="finish-reason", value="stop").passed is False
    assert verdict(Assertion(type="finish-reason", value="STOP"), TargetOutput("x", raw={"choices": [{"finish_reason": "stop"}]}), c).passed


def test_llm_rubric_reads_the_graders_pass():
    c = case([])
    rubric = lambda **kw: Assertion(type="llm-rubric", value="is polite", **kw)  # noqa: E731
    says = lambda answer: (lambda r, o, case: answer)  # noqa: E731
    assert verdict(rubric(), TargetOutput("x"), c, says({"pass": False, "score": 0.9})).passed is False
    only_pass = verdict(rubric(), TargetOutput("x"), c, says({"pass": True, "reason": "fine"}))
    assert only_pass.passed is True and only_pass.score == 1.0
    assert verdict(rubric(), TargetOutput("x"), c, says({"pass": "yes", "score": 0.3})).passed is True
    assert verdict(rubric(threshold=0.5), TargetOutput("x"), c, says({"pass": True, "score": 0.3})).passed is False
    assert verdict(Assertion(type="not-llm-rubric", value="rude"), TargetOutput("x"), c, says({"pass": False, "score": 0})).passed
