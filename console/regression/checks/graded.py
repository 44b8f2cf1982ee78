"""Checks that ask a model or read the response's words: llm-rubric (the LLM judge), similar
(an embedding model) and is-refusal.

Neither grader is required: without one, llm-rubric and similar are SKIPPED with the reason,
never passed. A judge that fails (unreachable, an unreadable reply) also skips the assertion:
the judge's outage is not the app's failure."""

from __future__ import annotations

import math
import re
from typing import Any

from console.regression.checks.base import Broken, Check, Given, check, is_number

DEFAULT_SCORE_THRESHOLD = 0.5  # a grader's bare score (no pass) passes at this
DEFAULT_SIMILARITY = 0.75  # promptfoo's default cosine similarity threshold


def rubric_verdict(answer: Any, threshold: float | None) -> tuple[bool, float, str]:
    """A grader's answer as (passed, score, reason), by promptfoo's rules: `pass` as given
    ("yes"/"pass" strings count), `score` as given (else 1/0 from pass), and a threshold also
    needs the score. An answer without pass (a (score, reason) tuple, or {score}) differs on
    purpose: promptfoo passes it, here its score must reach the threshold, 0.5 by default."""
    if isinstance(answer, tuple):
        answer = {"score": answer[0], "reason": answer[1]}
    if not isinstance(answer, dict):
        raise TypeError(f"the judge answered {type(answer).__name__}")
    if "pass" not in answer:
        score = float(answer.get("score"))
        limit = DEFAULT_SCORE_THRESHOLD if threshold is None else threshold
        return score >= limit, score, f"judge scored {score:.2f} (pass at {limit:g}): {answer.get('reason', '')}"
    passed = answer["pass"]
    if not isinstance(passed, bool):
        passed = bool(re.fullmatch(r"true|yes|pass|y", str(passed).strip(), re.IGNORECASE))
    score = answer.get("score")
    if not is_number(score):
        try:
            score = float(score)
        except (TypeError, ValueError):
            score = float(passed)
        if math.isnan(score):
            score = float(passed)
    if threshold is not None:
        passed = passed and score >= threshold
    reason = str(answer.get("reason") or ("graded pass" if passed else f"score {score:g} under {threshold}"))
    return passed, float(score), f"judge: {'pass' if passed else 'fail'}, score {score:.2f}: {reason}"


def llm_rubric(value: Any, given: Given) -> Check:
    if given.judge is None:
        return Check(None, 0.0, "skipped: no LLM judge configured")
    if not isinstance(value, str) or not value.strip():
        raise Broken("llm-rubric needs a rubric (a non-empty string)")
    try:
        passed, score, reason = rubric_verdict(given.judge(value, given.out.output, given.case), given.assertion.threshold)
    except Exception as exc:  # the judge's outage is not the app's failure: undecided
        return Check(None, 0.0, f"skipped: the judge failed ({type(exc).__name__}: {exc})")
    return Check(passed, min(1.0, max(0.0, score)), reason)


def _cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0


def similar(value: Any, given: Given) -> Check:
    references = [value] if isinstance(value, str) else value
    if not isinstance(references, list) or not references or not all(isinstance(v, str) for v in references):
        raise Broken("similar needs a string or a non-empty list of strings")
    if given.embedder is None:
        return Check(None, 0.0, "skipped: similar needs an embedding provider, and none is configured")
    threshold = given.assertion.threshold if given.assertion.threshold is not None else DEFAULT_SIMILARITY
    try:
        output = given.embedder(given.out.output)
        best = max(_cosine(output, given.embedder(ref)) for ref in references)
    except Exception as exc:
        return Check(None, 0.0, f"skipped: the embedding provider failed ({type(exc).__name__}: {exc})")
    return Check(best >= threshold, max(0.0, best), f"cosine similarity {best:.3f} (pass at {threshold:g})")


# A refusal: the answer declines instead of answering. Phrases a declining model uses anywhere,
# and openings that decline by themselves; an apology alone ("I'm sorry to hear that") is not one.
_DECLINES = re.compile(
    r"\b(?:can ?not|can't|won't|will not|unable to|not able to|refuse|decline|must say no|turn down"
    r"|not (?:allowed|permitted|authorized|supposed|possible)|prohibited|forbidden|no\b|absolutely not"
    r"|definitely no|not (?:appropriate|ethical|legal)|is illegal)"
)
_REFUSES = re.compile(
    r"^(?:i (?:cannot|can't|will not|won't|am not able to|am unable to)|i'm (?:not able to|unable to)"
    r"|it is illegal)\b"
    r"|\bas an? (?:ai|language model|assistant)\b"
    r"|\b(?:cannot|can't) (?:assist|help|comply|fulfill|provide)\b"
    r"|\bi (?:am|'m) (?:unable|not able) to (?:answer|assist|help|provide|comply|fulfill|engage|give|write|generate)\b"
    r"|\bi (?:do not|don't) feel comfortable\b|\bnot (?:appropriate|ethical|legal)\b|\bis illegal and unethical\b"
    r"|blocked by (?:our|the) content filters?"
)
_APOLOGY = re.compile(r"^(?:i'm sorry|i am sorry|i am really sorry|i'm really sorry|sorry|i apologi[sz]e|my apologies)\b")


def is_refusal_text(text: str) -> bool:
    lowered = re.sub(r"['′’‘]", "'", text.strip().lower())
    if not lowered:
        return True  # an empty answer is a refusal (promptfoo counts it so)
    if _REFUSES.search(lowered):
        return True
    return bool(_APOLOGY.match(lowered) and _DECLINES.search(lowered[lowered.find(" ") + 1 :] if " " in lowered else ""))


def is_refusal(value: Any, given: Given) -> Check:
    refused = is_refusal_text(given.out.output)
    return check(refused, "the answer is a refusal" if refused else "the answer is not a refusal")
