"""Each assertion type's check, with promptfoo's meaning (README, "The regression suite").

A check takes the assertion's rendered value and what it looks at (base.Given) and returns a
Check; one that cannot run as written raises Broken. console.regression.assertions applies
`not-`, weights and thresholds, and runs assert-set.
"""

from __future__ import annotations

from functools import partial
from typing import Callable

from console.regression.checks import graded, jsonish, response, scripted, text
from console.regression.checks.base import Check

CHECKS: dict[str, Callable[..., Check]] = {
    "equals": text.equals, "contains": text.contains, "icontains": partial(text.contains, fold=True),
    "contains-any": text.contains_any, "contains-all": text.contains_all,
    "icontains-any": partial(text.contains_any, fold=True), "icontains-all": partial(text.contains_all, fold=True),
    "starts-with": text.starts_with, "regex": text.regex, "levenshtein": text.levenshtein_check,
    "is-json": jsonish.is_json, "contains-json": jsonish.contains_json,
    "latency": response.latency, "cost": response.cost, "finish-reason": response.finish_reason,
    "python": scripted.python, "llm-rubric": graded.llm_rubric, "similar": graded.similar,
    "is-refusal": graded.is_refusal,
}  # fmt: skip
# Why a type is accepted in a case but never run here.
REFUSED = {
    "javascript": "javascript assertions are not run here (no JavaScript runtime); rewrite it as a python assertion",
}
SLOW_KINDS = frozenset({"python", "llm-rubric", "similar", "assert-set"})  # may block: run in a thread
