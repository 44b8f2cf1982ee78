"""Scorers: named functions from a request to a score in [0, 1] (1 is fine) and a reason.

    scorers = build_scorers(settings)          # built-ins, user scorers, the judge if on
    result = score_record(record, scorers)     # ScoreResult: scores and failures

A scorer returns (score, reason), a bare score, or None when it does not apply to the
request (the JSON check on a prompt that does not expect JSON, latency without an SLO).
The built-ins:

| name | low when | score |
|---|---|---|
| error | status is "error" | 0 |
| empty_output | an ok request with no output text | 0 |
| refusal | the output reads as a refusal ("I can't help with that") | 0.2 |
| truncated | finish_reason is "length" (or max_tokens) | 0.3 |
| invalid_json | the prompt is in evaluation.json_prompts and the output does not parse | 0 |
| output_length | output_tokens outside evaluation.min/max_output_tokens | 0.3 |
| latency | latency_ms over the model's SLO max_ms | 0.4 |
| feedback | user feedback, -1..1 mapped onto 0..1 | (f + 1) / 2 |

User scorers are `module:function` names in evaluation.scorers, called with the record.
A scorer that raises (or returns something that is not a score) becomes a ScorerFailure
naming the scorer and the request; the other scorers still run.
"""

from __future__ import annotations

import importlib
import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

import orjson

from console.config import Settings
from console.formatting import latency as seconds
from console.evaluation.sampling import prompt_matches, slo_limit_ms
from console.records import RequestRecord, text_of

ScorerFn = Callable[[RequestRecord], Any]

REFUSAL_PHRASES = (
    r"I(?:['’]m| am) sorry,? but I (?:can(?:no|['’])t|won['’]t|am unable)",
    r"I(?: can(?:no|['’])t| won['’]t| am unable to|['’]m unable to) (?:help|assist|provide|do that|comply|answer)",
    r"I['’]m not able to (?:help|assist|provide)",
    r"\bas an AI(?: language model)?\b",
    r"I (?:must|have to) (?:decline|refuse)",
    r"\bcannot (?:help|assist) with (?:that|this)\b",
)  # fmt: skip
TRUNCATED_REASONS = {"length", "max_tokens", "max_output_tokens"}


@dataclass(frozen=True, slots=True)
class Scorer:
    name: str
    fn: ScorerFn


@dataclass(frozen=True, slots=True)
class Score:
    scorer: str
    score: float
    reason: str


@dataclass(frozen=True, slots=True)
class ScorerFailure:
    scorer: str
    request_id: str
    error: str

    def __str__(self) -> str:
        return f"scorer {self.scorer} failed on request {self.request_id}: {self.error}"


@dataclass(slots=True)
class ScoreResult:
    request_id: str
    scores: list[Score] = field(default_factory=list)
    failures: list[ScorerFailure] = field(default_factory=list)

    @property
    def lowest(self) -> Score | None:
        return min(self.scores, key=lambda s: s.score, default=None)


class ScorerError(ValueError):
    """A user scorer that cannot be loaded; the message names it."""


# -- the built-ins ---------------------------------------------------------------------------


def error(record: RequestRecord):
    if record.status != "error":
        return 1.0, "no error"
    detail = ": ".join(p for p in (record.error_type, record.error_message) if p)
    return 0.0, detail[:160] if detail else "status error"


def empty_output(record: RequestRecord):
    if record.status == "error":
        return None
    return (0.0, "no output text") if not text_of(record.output).strip() else (1.0, "has output")


def make_refusal(extra_phrases: Sequence[str] = ()) -> ScorerFn:
    patterns = [*REFUSAL_PHRASES, *(re.escape(p) for p in extra_phrases)]
    found = re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)

    def refusal(record: RequestRecord):
        text = text_of(record.output)
        if record.status == "error" or not text:
            return None
        match = found.search(text)
        if match is None:
            return 1.0, "no refusal phrasing"
        return 0.2, f"“{match.group(0)[:80]}”"

    return refusal


def refusal_phrase(text: str, extra_phrases: Sequence[str] = ()) -> str | None:
    """The words of `text` that read as a refusal (what the refusal scorer quotes), or None."""
    patterns = [*REFUSAL_PHRASES, *(re.escape(p) for p in extra_phrases)]
    match = re.search("|".join(f"(?:{p})" for p in patterns), text, re.IGNORECASE)
    return match.group(0) if match else None


def truncated(record: RequestRecord):
    reason = record.finish_reason
    if reason is None:
        return None
    if reason.lower() in TRUNCATED_REASONS:
        return 0.3, f"finish_reason={reason}"
    return 1.0, f"finished ({reason})"


def make_invalid_json(json_prompts: Sequence[str]) -> ScorerFn:
    def invalid_json(record: RequestRecord):
        if not json_prompts or not prompt_matches(json_prompts, record.prompt_id, record.prompt_version):
            return None
        if record.status == "error":
            return None
        output = record.output
        if isinstance(output, (dict, list)) and not _is_messages(output):
            return 1.0, "valid JSON"
        text = text_of(output).strip()
        try:
            orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            return 0.0, f"not JSON ({str(exc).split(':', 1)[0][:80]})"
        return 1.0, "valid JSON"

    return invalid_json


def _is_messages(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(m, dict) and "role" in m for m in value)


def make_output_length(low: int | None, high: int | None) -> ScorerFn:
    def output_length(record: RequestRecord):
        if record.status == "error" or (low is None and high is None):
            return None
        n = record.output_tokens
        if low is not None and n < low:
            return 0.3, f"{n:,} output tokens, under {low:,}"
        if high is not None and n > high:
            return 0.3, f"{n:,} output tokens, over {high:,}"
        return 1.0, f"{n:,} output tokens"

    return output_length


def make_latency(settings: Settings) -> ScorerFn:
    slos = tuple(settings.slos)

    def latency(record: RequestRecord):
        limit = slo_limit_ms(slos, record.model)
        if limit is None:
            return None
        if record.latency_ms > limit:
            return 0.4, f"{seconds(record.latency_ms)}, over the {seconds(limit)} SLO"
        return 1.0, f"latency within the {seconds(limit)} SLO"

    return latency


def feedback(record: RequestRecord):
    value = record.feedback
    if value is None or isinstance(value, str):
        return None
    return (float(value) + 1.0) / 2.0, f"user gave {float(value):+g}"


def builtin_scorers(settings: Settings) -> list[Scorer]:
    evaluation = settings.evaluation
    return [
        Scorer("error", error),
        Scorer("empty_output", empty_output),
        Scorer("refusal", make_refusal(evaluation.refusal_phrases)),
        Scorer("truncated", truncated),
        Scorer("invalid_json", make_invalid_json(evaluation.json_prompts)),
        Scorer("output_length", make_output_length(evaluation.min_output_tokens, evaluation.max_output_tokens)),
        Scorer("latency", make_latency(settings)),
        Scorer("feedback", feedback),
    ]


def load_user_scorer(ref: str) -> Scorer:
    """'package.module:function' -> a Scorer named after it."""
    module_name, _, function_name = ref.partition(":")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # an import error in user code is theirs to read
        raise ScorerError(f"scorer {ref}: cannot import {module_name}: {type(exc).__name__}: {exc}") from None
    fn = getattr(module, function_name, None)
    if not callable(fn):
        raise ScorerError(f"scorer {ref}: {module_name} has no function {function_name}")
    return Scorer(ref, fn)


def build_scorers(settings: Settings) -> list[Scorer]:
    """The built-ins, then evaluation.scorers, then the judge when it is enabled."""
    scorers = builtin_scorers(settings)
    scorers.extend(load_user_scorer(ref) for ref in settings.evaluation.scorers)
    if settings.evaluation.judge.enabled:
        from console.judge import Judge

        scorers.append(Scorer("judge", Judge(settings.evaluation.judge)))
    return scorers


# -- running them ------------------------------------------------------------------------------


def _as_score(name: str, value: Any) -> Score | None:
    if value is None:
        return None
    reason = ""
    if isinstance(value, tuple) and len(value) == 2:
        value, reason = value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"returned {type(value).__name__}, not a score in [0, 1] (or (score, reason))")
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise ValueError(f"returned {value!r}, not a score in [0, 1]")
    return Score(name, float(value), str(reason))


def score_record(record: RequestRecord, scorers: Iterable[Scorer]) -> ScoreResult:
    """Every scorer on one request; one that raises is reported and the others go on."""
    result = ScoreResult(record.request_id)
    for scorer in scorers:
        try:
            score = _as_score(scorer.name, scorer.fn(record))
        except Exception as exc:  # noqa: BLE001 (a scorer's failure is data, never fatal)
            result.failures.append(ScorerFailure(scorer.name, record.request_id, f"{type(exc).__name__}: {exc}"))
            continue
        if score is not None:
            result.scores.append(score)
    return result
