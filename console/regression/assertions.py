"""Assertions: each one looks at a target's output and gives a verdict, a score and a reason.

The types and their values mean what they mean in promptfoo (console.regression.checks; the
README's table lists where we deliberately differ). A value's `{{ var }}` templates are
rendered with the case's vars and a `file://` value is read from its file before checking.

Every type can be negated with a ``not-`` prefix (the verdict flips and the score becomes
1 - score, except a python check's number or {pass, score, reason}, whose score stays as it is,
as in promptfoo). An assertion that cannot be evaluated as written (an empty value, a bad regex, a
python check that raises, a cost the target did not report, a javascript assertion, a
transform) fails whether negated or not: a broken check never passes. ``llm-rubric`` and
``similar`` run only with a judge / an embedding provider; without one they are SKIPPED,
never a pass.

How a case is decided (``decide``, promptfoo's AssertionsResult): assertions with weight 0 are
informational. With no threshold every other assertion must pass. With a threshold (any number)
the weighted mean score must reach it; when skipped assertions could still change the outcome
the case is skipped.
An ``assert-set`` is decided the same way over its own assertions and its own threshold.
A case without assertions is compared with its expected_output (``equals``), or, without
one, passes when the target answers.
"""

from __future__ import annotations

from console.cases.format import Assertion, RegressionCase
from console.regression.checks import CHECKS, REFUSED, SLOW_KINDS
from console.regression.checks.base import Broken, Check, Embedder, Given, Judge
from console.regression.checks.text import DEFAULT_LEVENSHTEIN, levenshtein
from console.regression.checks.values import FILE_PREFIX, load_file_value, render
from console.regression.results import FAIL, PASS, SKIPPED, TargetOutput, Verdict

__all__ = ["DEFAULT_LEVENSHTEIN", "Broken", "Check", "Embedder", "Judge", "decide", "evaluate",
           "implicit_assertions", "levenshtein", "needs_thread", "verdict"]  # fmt: skip

_RAW_FILE_KINDS = frozenset({"python", "is-json", "contains-json"})  # they read their file:// themselves


def resolved_value(a: Assertion, case: RegressionCase):
    """The value as checked: templates rendered with the case's vars, a file:// value read."""
    value = render(a.value, dict(case.input.vars or {}))
    if isinstance(value, str) and value.startswith(FILE_PREFIX) and a.kind not in _RAW_FILE_KINDS:
        value = load_file_value(value)
    return value


def _assert_set(a: Assertion, given: Given) -> Check:
    members = a.assert_ or []
    if not members:
        raise Broken("assert-set needs a list of assertions under 'assert'")
    verdicts = [verdict(m, given.out, given.case, given.judge, given.embedder) for m in members]
    status, score = decide(verdicts, a.threshold)
    passed = None if status == SKIPPED else status == PASS
    failed = [v.type for v in verdicts if v.passed is False]
    reason = f"{len(verdicts) - len(failed)} of {len(verdicts)} passed" + (f" (failed: {', '.join(failed)})" if failed else "")
    return Check(passed, score, reason)


def _check(a: Assertion, given: Given) -> Check:
    if a.kind in REFUSED:
        raise Broken(REFUSED[a.kind])
    if a.transform is not None:
        raise Broken("'transform' is not supported (it is JavaScript in promptfoo); transform in the target instead")
    if a.kind == "assert-set":
        return _assert_set(a, given)
    return CHECKS[a.kind](resolved_value(a, given.case), given)


def verdict(a: Assertion, out: TargetOutput, case: RegressionCase, judge: Judge | None = None,
            embedder: Embedder | None = None) -> Verdict:  # fmt: skip
    try:
        check = _check(a, Given(a, out, case, judge, embedder))
    except Broken as exc:
        return Verdict(a.type, False, 0.0, a.weight, f"cannot check: {exc}")
    if a.negated and check.passed is not None:
        score = 1.0 - check.score if check.negated_score is None else check.negated_score
        check = Check(not check.passed, score, f"not: {check.reason}")
    label = a.description or a.metric
    reason = f"{label}: {check.reason}" if label else check.reason
    return Verdict(a.type, check.passed, check.score, a.weight, reason)


def implicit_assertions(case: RegressionCase) -> list[Assertion]:
    if case.assert_:
        return case.assert_
    if case.expected_output is not None:
        return [Assertion(type="equals")]
    return []


def decide(verdicts: list[Verdict], threshold: float | None) -> tuple[str, float]:
    """A case's status and score, as promptfoo's AssertionsResult.testResult: the score is the
    weighted mean (skipped assertions counted as 0; 0 when every weight is 0), and a threshold,
    any number, is met when score >= threshold exactly (0 passes any failure but a negative mean;
    above 1 needs scores above 1, which only python gives)."""
    if not verdicts:
        return PASS, 1.0  # promptfoo's noAssertsResult
    counted = [v for v in verdicts if v.weight > 0]
    total = sum(v.weight for v in counted)
    low = sum(v.weight * v.score for v in counted if v.passed is not None) / total if total else 0.0
    if threshold is None:  # every weighted assertion must pass (weight 0 cannot fail, as in promptfoo)
        if any(v.passed is False for v in counted):
            return FAIL, low
        return (SKIPPED if any(v.passed is None for v in counted) else PASS), low
    # what the skipped ones could add, taking them to score within [0, 1], the range a judge and
    # a cosine similarity are asked for
    high = low + sum(v.weight for v in counted if v.passed is None) / total if total else low
    if low >= threshold:
        return PASS, low
    return (FAIL if high < threshold else SKIPPED), low


def evaluate(case: RegressionCase, out: TargetOutput, judge: Judge | None = None,
             embedder: Embedder | None = None) -> tuple[str, float, tuple[Verdict, ...]]:  # fmt: skip
    verdicts = [verdict(a, out, case, judge, embedder) for a in implicit_assertions(case)]
    status, score = decide(verdicts, case.threshold)
    return status, score, tuple(verdicts)


def _kinds(assertions: list[Assertion]):
    for a in assertions:
        yield a.kind
        yield from _kinds(a.assert_ or [])


def needs_thread(case: RegressionCase) -> bool:
    return any(kind in SLOW_KINDS for kind in _kinds(case.assert_))
