"""Checks that ask a model or read the response's words: llm-rubric (the LLM judge), similar
(an embedding model) and is-refusal.

Neither grader is required: without one, llm-rubric and similar are SKIPPED with the reason,
never passed. A judge that fails (unreachable, an unreadable reply) also skips the assertion:
the judge's outage is not the app's failure."""

from __future__ import annotations

import math
import re
import sys
from typing import Any

from console.regression.checks.base import MISSING, Broken, Check, Given, check, is_number, js_number, js_string

DEFAULT_SIMILARITY = 0.75  # promptfoo's default cosine similarity threshold
_PASS_WORDS = re.compile(r"true|yes|pass|y", re.IGNORECASE)


def rubric_verdict(answer: Any, threshold: float | None) -> tuple[bool, float, str]:
    """A grader's answer as (passed, score, reason), by promptfoo's rules (src/matchers/rubric.ts
    runJsonGradingPrompt): `pass` defaults to true when missing or null, and a pass that is not a
    boolean counts when its text is true/yes/pass/y (untrimmed, any case); `score` as given when a
    number (kept above 1 or below 0), else JavaScript's Number() of it when finite (null is 0),
    else 1 or 0 from pass; an assertion threshold also needs score >= threshold. A (score, reason)
    tuple is read as {score, reason}."""
    if isinstance(answer, tuple):
        answer = {"score": answer[0], "reason": answer[1]}
    if not isinstance(answer, dict):
        raise TypeError(f"the judge answered {type(answer).__name__}")
    passed = answer.get("pass")
    if passed is None:
        passed = True
    elif not isinstance(passed, bool):
        passed = bool(_PASS_WORDS.fullmatch(js_string(passed)))
    score = answer.get("score", MISSING)
    if not is_number(score):
        score = js_number(score)
        score = score if math.isfinite(score) else float(passed)
    score = float(score)
    if threshold is not None and math.isfinite(threshold):
        passed = passed and score >= threshold
    given = answer.get("reason")
    if given:  # JavaScript's `parsed.reason || …`: an empty reason gets promptfoo's words
        reason = given if isinstance(given, str) else js_string(given)
    else:
        reason = "Grading passed" if passed else f"Score {js_string(score)} below threshold {'undefined' if threshold is None else js_string(threshold)}"
    return passed, score, f"judge: {'pass' if passed else 'fail'}, score {score:.2f}: {reason}"


def llm_rubric(value: Any, given: Given) -> Check:
    if given.judge is None:
        return Check(None, 0.0, "skipped: no LLM judge configured")
    if not isinstance(value, str) or not value.strip():
        raise Broken("llm-rubric needs a rubric (a non-empty string)")
    try:
        passed, score, reason = rubric_verdict(given.judge(value, given.out.output, given.case), given.assertion.threshold)
    except Exception as exc:  # the judge's outage is not the app's failure: undecided
        return Check(None, 0.0, f"skipped: the judge failed ({type(exc).__name__}: {exc})")
    # promptfoo's handleLlmRubric keeps the grader's score as given and clamps only the inverse
    # (1 - score into [0, 1]), so a score of 5 counts as 5 in the mean and as 0 under not-
    return Check(passed, score, reason, negated_score=min(1.0, max(0.0, 1.0 - score)))


def _cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0


def similar(value: Any, given: Given) -> Check:
    """promptfoo's handleSimilar over cosine similarity: `similar` passes on the first reference
    whose similarity reaches the threshold (0.75 by default) less Number.EPSILON, scoring that
    similarity, else fails with the best one; `not-similar` passes only when every similarity is
    at most the threshold plus Number.EPSILON, scoring 1 - similarity (the closest one's on a pass,
    the first too-similar one's on a failure). Similarities are not clamped: below 0 stays."""
    references = [value] if isinstance(value, str) else value
    if not isinstance(references, list) or not references or not all(isinstance(v, str) for v in references):
        raise Broken("similar needs a string or a non-empty list of strings")
    if given.embedder is None:
        return Check(None, 0.0, "skipped: similar needs an embedding provider, and none is configured")
    threshold = given.assertion.threshold if given.assertion.threshold is not None else DEFAULT_SIMILARITY
    inverse = given.assertion.negated
    try:
        output = given.embedder(given.out.output)
        seen: list[float] = []
        for ref in references:
            similarity = _cosine(output, given.embedder(ref))
            seen.append(similarity)
            reached = similarity >= threshold - _EPSILON if not inverse else similarity > threshold + _EPSILON
            if reached:  # promptfoo stops here: a pass (similar) or a failure (not-similar)
                break
    except Exception as exc:
        return Check(None, 0.0, f"skipped: the embedding provider failed ({type(exc).__name__}: {exc})")
    shown = similarity if reached else max(seen)
    reason = f"cosine similarity {shown:.3f} (pass at {js_string(threshold)})"
    # under not-, `passed` is flipped by the caller: it is whether some reference was too similar
    return Check(reached, shown, reason, negated_score=1.0 - shown)


_EPSILON = sys.float_info.epsilon  # JavaScript's Number.EPSILON, promptfoo's tolerance at the threshold


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
