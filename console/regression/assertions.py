"""Assertions: each one looks at a target's output and gives a verdict, a score and a reason.

Every type can be negated with a ``not-`` prefix (the verdict flips and the score becomes
1 - score). An assertion that cannot be evaluated as written (a bad regex, a python check that
raises, a cost the target did not report) fails whether negated or not: a broken check never
passes. ``llm-rubric`` runs only with a judge; without one it is SKIPPED, never a pass.

How a case is decided (``decide``): assertions with weight 0 are informational. With no
threshold every other assertion must pass. With a threshold the weighted mean score must
reach it; when skipped assertions could still change the outcome the case is skipped.
A case without assertions is compared with its expected_output (``equals``), or, without
one, passes when the target answers.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Protocol

from console.cases.format import Assertion, RegressionCase
from console.regression.loading import LoadError, load_callable
from console.regression.results import FAIL, PASS, SKIPPED, TargetOutput, Verdict

DEFAULT_LEVENSHTEIN = 5  # maximum edit distance when neither threshold nor a number is given
DEFAULT_SCORE_THRESHOLD = 0.5  # python scores and llm-rubric scores at or above this pass


class Judge(Protocol):
    """An LLM judge: grades `output` against `rubric`; returns a score in [0, 1] and a reason.

    Called from a worker thread. console.regression.plan.judge_from_settings builds one from
    llmops.toml when the evaluation settings configure a judge."""

    def __call__(self, rubric: str, output: str, case: RegressionCase) -> tuple[float, str]: ...


class Broken(Exception):
    """The assertion cannot be evaluated as written; it fails, negated or not."""


@dataclass(frozen=True)
class Check:
    passed: bool | None  # None: skipped
    score: float
    reason: str


def _check(passed: bool, reason: str) -> Check:
    return Check(passed, 1.0 if passed else 0.0, reason)


def _short(text: Any, limit: int = 60) -> str:
    text = text if isinstance(text, str) else json.dumps(text, ensure_ascii=False)
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def _string(a: Assertion) -> str:
    if not isinstance(a.value, str):
        raise Broken(f"{a.kind} needs a string value")
    return a.value


def _strings(a: Assertion) -> list[str]:
    value = [a.value] if isinstance(a.value, str) else a.value
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise Broken(f"{a.kind} needs a list of strings")
    return value


def _number(a: Assertion, what: str) -> float:
    limit = a.value if a.value is not None else a.threshold
    if isinstance(limit, bool) or not isinstance(limit, (int, float)):
        raise Broken(f"{a.kind} needs a number ({what})")
    return float(limit)


def _equals(a: Assertion, out: TargetOutput, case: RegressionCase, judge) -> Check:
    expected = a.value if a.value is not None else case.expected_output
    if expected is None:
        raise Broken("equals needs a value or the case's expected_output")
    if isinstance(expected, str):
        return _check(out.output == expected, f"output {'equals' if out.output == expected else 'differs from'} {_short(expected)}")
    try:
        parsed = json.loads(out.output)
    except ValueError:
        return _check(False, "output is not JSON, expected a JSON value")
    return _check(parsed == expected, "JSON equal" if parsed == expected else f"JSON differs from {_short(expected)}")


def _contains(a, out, case, judge) -> Check:
    value = _string(a)
    found = value in out.output
    return _check(found, f"{_short(value)} {'found' if found else 'not found'}")


def _icontains(a, out, case, judge) -> Check:
    value = _string(a)
    found = value.casefold() in out.output.casefold()
    return _check(found, f"{_short(value)} {'found' if found else 'not found'} (ignoring case)")


def _contains_any(a, out, case, judge) -> Check:
    hits = [v for v in _strings(a) if v in out.output]
    return _check(bool(hits), f"found {_short(hits[0])}" if hits else "none of them found")


def _contains_all(a, out, case, judge) -> Check:
    missing = [v for v in _strings(a) if v not in out.output]
    return _check(not missing, "all found" if not missing else f"missing {', '.join(map(_short, missing))}")


def _starts_with(a, out, case, judge) -> Check:
    value = _string(a)
    ok = out.output.startswith(value)
    return _check(ok, f"{'starts' if ok else 'does not start'} with {_short(value)}")


@lru_cache(maxsize=512)
def _compiled(pattern: str) -> re.Pattern:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise Broken(f"bad regex {pattern!r}: {exc}") from None


def _regex(a, out, case, judge) -> Check:
    match = _compiled(_string(a)).search(out.output)
    return _check(match is not None, f"matched {_short(match.group(0))}" if match else f"no match for {_short(a.value)}")


@lru_cache(maxsize=128)
def _validator(schema_json: str):
    try:
        import jsonschema
    except ImportError:  # a test extra; needed only for is-json/contains-json with a schema
        raise Broken("a JSON Schema check needs the jsonschema package (pip install jsonschema)") from None
    schema = json.loads(schema_json)
    try:
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise Broken(f"not a valid JSON Schema: {exc.message}") from None
    return cls(schema)


def _schema_problem(value: Any, schema: Any) -> str | None:
    if schema is None or schema is True:
        return None
    if not isinstance(schema, (dict, bool)):
        raise Broken("the value of is-json/contains-json must be a JSON Schema (an object)")
    error = next(iter(_validator(json.dumps(schema, sort_keys=True)).iter_errors(value)), None)
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path)
    return f"{error.message}" + (f" at {where}" if where else "")


def _is_json(a, out, case, judge) -> Check:
    try:
        value = json.loads(out.output)
    except ValueError as exc:
        return _check(False, f"not JSON: {exc}")
    problem = _schema_problem(value, a.value)
    return _check(problem is None, "valid JSON" + (" matching the schema" if a.value else "") if problem is None else f"JSON, but {problem}")


def _contains_json(a, out, case, judge) -> Check:
    decoder, text, first_problem = json.JSONDecoder(), out.output, None
    for start, char in enumerate(text):
        if char not in "{[":
            continue
        try:
            value, _ = decoder.raw_decode(text, start)
        except ValueError:
            continue
        problem = _schema_problem(value, a.value)
        if problem is None:
            return _check(True, f"JSON found at character {start}")
        first_problem = first_problem or problem
    return _check(False, f"JSON found, but {first_problem}" if first_problem else "no JSON object or array in the output")


def levenshtein(a: str, b: str, limit: int | None = None) -> int:
    """Edit distance; with `limit`, any distance above it is reported as limit + 1 (banded, fast)."""
    if a == b:
        return 0
    if len(a) < len(b):
        a, b = b, a
    if limit is not None and len(a) - len(b) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
        if limit is not None and min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


def _levenshtein(a, out, case, judge) -> Check:
    reference = a.value if isinstance(a.value, str) else case.expected_output
    if reference is None:
        raise Broken("levenshtein needs a string value or the case's expected_output")
    if a.threshold is not None:
        limit = a.threshold
    elif isinstance(a.value, (int, float)) and not isinstance(a.value, bool):
        limit = a.value
    else:
        limit = DEFAULT_LEVENSHTEIN
    distance = levenshtein(out.output, reference, int(limit))
    shown = f"> {int(limit)}" if distance > limit else str(distance)
    return _check(distance <= limit, f"edit distance {shown} (max {limit:g})")


def _latency(a, out, case, judge) -> Check:
    limit = _number(a, "max milliseconds")
    if out.latency_ms is None:
        raise Broken("no latency measured")
    return _check(out.latency_ms <= limit, f"latency {out.latency_ms:,.0f} ms (max {limit:,.0f})")


def _cost(a, out, case, judge) -> Check:
    limit = _number(a, "max USD")
    if out.cost_usd is None:
        raise Broken("the target reported no cost_usd")
    # six decimals, not console.formatting.usd's two significant digits: a cost just over its
    # limit must not read the same as the limit
    return _check(out.cost_usd <= limit, f"cost ${out.cost_usd:.6f} (max ${limit:.6f})")


def _python(a, out, case, judge) -> Check:
    try:
        func = load_callable(_string(a), what="python assertion")
    except LoadError as exc:
        raise Broken(str(exc)) from None
    context = {"case": case, "vars": case.input.vars or {}, "expected_output": case.expected_output,
               "latency_ms": out.latency_ms, "cost_usd": out.cost_usd, "tokens": out.tokens, "raw": out.raw,
               "threshold": a.threshold}
    try:
        result = func(out.output, context)
    except Exception as exc:
        raise Broken(f"{a.value} raised {type(exc).__name__}: {exc}") from None
    threshold = a.threshold if a.threshold is not None else DEFAULT_SCORE_THRESHOLD
    if isinstance(result, bool):
        return _check(result, f"{a.value} returned {result}")
    if isinstance(result, (int, float)):
        score = min(1.0, max(0.0, float(result)))
        return Check(score >= threshold, score, f"{a.value} scored {score:.2f} (pass at {threshold:g})")
    if isinstance(result, dict) and ("pass" in result or "score" in result):
        score = result.get("score")
        score = float(score) if isinstance(score, (int, float)) and not isinstance(score, bool) else None
        passed = bool(result["pass"]) if "pass" in result else (score or 0.0) >= threshold
        score = min(1.0, max(0.0, score)) if score is not None else (1.0 if passed else 0.0)
        return Check(passed, score, str(result.get("reason") or f"{a.value}: {'pass' if passed else 'fail'}"))
    raise Broken(f"{a.value} returned {type(result).__name__}; expected a bool, a score or {{pass, score, reason}}")


def _llm_rubric(a, out, case, judge) -> Check:
    if judge is None:
        return Check(None, 0.0, "skipped: no LLM judge configured")
    rubric = _string(a)
    try:
        score, reason = judge(rubric, out.output, case)
    except Exception as exc:  # the judge's outage is not the app's failure: undecided
        return Check(None, 0.0, f"skipped: the judge failed ({type(exc).__name__}: {exc})")
    threshold = a.threshold if a.threshold is not None else DEFAULT_SCORE_THRESHOLD
    score = min(1.0, max(0.0, float(score)))
    return Check(score >= threshold, score, f"judge scored {score:.2f} (pass at {threshold:g}): {reason}")


CHECKS: dict[str, Callable[..., Check]] = {
    "equals": _equals, "contains": _contains, "icontains": _icontains, "contains-any": _contains_any,
    "contains-all": _contains_all, "starts-with": _starts_with, "regex": _regex, "is-json": _is_json,
    "contains-json": _contains_json, "levenshtein": _levenshtein, "latency": _latency, "cost": _cost,
    "python": _python, "llm-rubric": _llm_rubric,
}  # fmt: skip
SLOW_KINDS = frozenset({"python", "llm-rubric"})  # may block: the runner evaluates these in a thread


def verdict(a: Assertion, out: TargetOutput, case: RegressionCase, judge: Judge | None = None) -> Verdict:
    try:
        check = CHECKS[a.kind](a, out, case, judge)
    except Broken as exc:
        return Verdict(a.type, False, 0.0, a.weight, f"cannot check: {exc}")
    if a.negated and check.passed is not None:
        check = Check(not check.passed, 1.0 - check.score, f"not: {check.reason}")
    reason = f"{a.description}: {check.reason}" if a.description else check.reason
    return Verdict(a.type, check.passed, check.score, a.weight, reason)


def implicit_assertions(case: RegressionCase) -> list[Assertion]:
    if case.assert_:
        return case.assert_
    if case.expected_output is not None:
        return [Assertion(type="equals")]
    return []


def decide(verdicts: list[Verdict], threshold: float | None) -> tuple[str, float]:
    """A case's status and score (weighted mean, skipped assertions counted as 0)."""
    counted = [v for v in verdicts if v.weight > 0]
    total = sum(v.weight for v in counted)
    if not total:
        return PASS, 1.0
    low = sum(v.weight * v.score for v in counted if v.passed is not None) / total
    if threshold is None:
        if any(v.passed is False for v in counted):
            return FAIL, low
        return (SKIPPED if any(v.passed is None for v in counted) else PASS), low
    high = low + sum(v.weight for v in counted if v.passed is None) / total
    if low >= threshold - 1e-12:
        return PASS, low
    return (FAIL if high < threshold - 1e-12 else SKIPPED), low


def evaluate(case: RegressionCase, out: TargetOutput, judge: Judge | None = None) -> tuple[str, float, tuple[Verdict, ...]]:
    verdicts = [verdict(a, out, case, judge) for a in implicit_assertions(case)]
    status, score = decide(verdicts, case.threshold)
    return status, score, tuple(verdicts)


def needs_thread(case: RegressionCase) -> bool:
    return any(a.kind in SLOW_KINDS for a in case.assert_)
