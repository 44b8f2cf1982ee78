"""What every check shares: its result (Check), the "cannot check" error (Broken), the graders a
check may call (an LLM judge, an embedding model) and JavaScript's String() of a value, which
promptfoo applies before comparing (so `contains: 5` looks for "5" and `equals: true` for "true")."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any, Callable, Protocol

from console.cases.format import Assertion, RegressionCase
from console.regression.results import TargetOutput


class Judge(Protocol):
    """An LLM judge grading `output` against `rubric`. It answers, as a promptfoo grader does, a
    mapping {"pass", "score", "reason"} (console.judge.Judge.grade), any of them missing, read by
    console.regression.checks.graded.rubric_verdict; (score, reason) reads as {score, reason}.

    Called from a worker thread. console.regression.plan.judge_from_settings builds one from
    llmops.toml when the evaluation settings configure a judge."""

    def __call__(self, rubric: str, output: str, case: RegressionCase) -> tuple[float, str] | dict[str, Any]: ...


Embedder = Callable[[str], list[float]]  # text -> embedding vector, for `similar`


class Broken(Exception):
    """The assertion cannot be evaluated as written; it fails, negated or not."""


@dataclass(frozen=True)
class Check:
    passed: bool | None  # None: skipped
    score: float
    reason: str
    # the score under `not-`: None is 1 - score; a python number or {pass, score, reason} keeps its
    # own score there (promptfoo's scriptResultNormalization: only the pass flips)
    negated_score: float | None = None


@dataclass(frozen=True)
class Given:
    """What a check looks at besides its (rendered) value."""

    assertion: Assertion
    out: TargetOutput
    case: RegressionCase
    judge: Judge | None = None
    embedder: Embedder | None = None

    @property
    def vars(self) -> dict[str, Any]:
        return dict(self.case.input.vars or {})


def check(passed: bool, reason: str) -> Check:
    return Check(passed, 1.0 if passed else 0.0, reason)


def short(text: Any, limit: int = 60) -> str:
    text = text if isinstance(text, str) else json.dumps(text, ensure_ascii=False, default=str)
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# JavaScript's StrWhiteSpaceChar (what Number() and trim() strip): Python's str.strip() differs
# (it strips \x1c-\x1f, keeps \ufeff)
_JS_SPACE = " \t\n\v\f\r\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_JS_DECIMAL = re.compile(r"[+-]?(?:Infinity|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)")
_JS_RADIX = {"0x": 16, "0X": 16, "0o": 8, "0O": 8, "0b": 2, "0B": 2}
MISSING: Any = object()  # a key the answer does not have (JavaScript's undefined)


def js_number(value: Any) -> float:
    """JavaScript's Number(value) for the JSON-like values a grader can answer: null is 0, a
    boolean 1 or 0, text is read whole ("0.9", " 1 ", "0x10"; "" is 0; "high" and "0.7 points" are
    NaN), a list as its String() ("[0.7]" is 0.7), an object NaN. A missing value (undefined) is
    NaN: pass MISSING."""
    if value is MISSING:
        return math.nan
    if value is None:
        return 0.0
    if isinstance(value, (bool, int, float)):
        return float(value)
    if isinstance(value, dict):
        return math.nan
    text = js_string(value).strip(_JS_SPACE)
    if not text:
        return 0.0
    if _JS_DECIMAL.fullmatch(text):
        return float(text.replace("Infinity", "inf"))
    radix = _JS_RADIX.get(text[:2])
    if radix and text[2:].isascii() and text[2:].isalnum():  # int() would also take "1_0"
        try:
            return float(int(text[2:], radix))
        except ValueError:
            return math.nan
    return math.nan


def js_string(value: Any) -> str:
    """JavaScript's String(value) for the JSON-like values a suite can hold."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        if value.is_integer() and abs(value) < 1e21:
            return str(int(value))
        return repr(value)
    if isinstance(value, list):
        return ",".join("" if v is None else js_string(v) for v in value)
    if isinstance(value, dict):
        return "[object Object]"
    return str(value)
