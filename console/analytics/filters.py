"""The `/` filter language, parsed once and applied to records.

    model:gpt-4o            the model asked for contains "gpt-4o"
    prompt:support@v8       prompt id contains "support" and version is "v8"
    version:v8              prompt version is "v8"
    status:error            status is error (or ok)
    user:u_123  env:staging  provider:openai  finish:length  variant:B
    latency>2000  latency>2s  ttft>500  tokens>4000  cost>0.01   (also <, >=, <=)
    anything else           every word must appear in the input, output, error or ids
    -word / -model:x        negates a term

Terms are ANDed. Matching is case-insensitive.
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass
from typing import Callable

from console.records import RequestRecord, text_of

_NUMERIC = re.compile(r"^(latency|ttft|tokens|cost|in|out)(>=|<=|>|<|=)([0-9.]+)(ms|s|k)?$")
_OPS = {">": operator.gt, "<": operator.lt, ">=": operator.ge, "<=": operator.le, "=": operator.eq}
_FIELD_ALIASES = {
    "model": "model",
    "prompt": "prompt",
    "version": "version",
    "status": "status",
    "user": "user_id",
    "session": "session_id",
    "env": "environment",
    "environment": "environment",
    "provider": "provider",
    "finish": "finish_reason",
    "variant": "variant",
    "id": "request_id",
    "error": "error_type",
}

Predicate = Callable[[RequestRecord], bool]


class FilterError(ValueError):
    pass


def _numeric_value(record: RequestRecord, name: str) -> float | None:
    if name == "latency":
        return record.latency_ms
    if name == "ttft":
        return record.ttft_ms
    if name == "tokens":
        return record.input_tokens + record.output_tokens
    if name == "in":
        return record.input_tokens
    if name == "out":
        return record.output_tokens
    return record.cost_usd


def _threshold(number: str, unit: str | None, token: str) -> float:
    try:
        threshold = float(number)
    except ValueError:
        raise FilterError(f"not a number in {token!r}") from None
    return threshold * 1000.0 if unit in ("s", "k") else threshold


def _numeric_term(match: re.Match[str]) -> Predicate:
    name, op, number, unit = match.groups()
    threshold = _threshold(number, unit, match.group(0))
    compare = _OPS[op]

    def predicate(record: RequestRecord) -> bool:
        value = _numeric_value(record, name)
        return value is not None and compare(value, threshold)

    return predicate


def _field_term(field: str, wanted: str) -> Predicate:
    if field == "prompt":
        prompt_id, _, version = wanted.partition("@")

        def prompt_matches(record: RequestRecord) -> bool:
            return prompt_id in record.prompt_id.lower() and (
                not version or record.prompt_version.lower() == version
            )

        return prompt_matches
    if field == "version":
        return lambda record: record.prompt_version.lower() == wanted
    if field == "status":
        return lambda record: record.status == wanted
    if field == "model":
        return lambda record: wanted in record.model.lower()

    def attribute_matches(record: RequestRecord) -> bool:
        value = getattr(record, field)
        return value is not None and wanted in str(value).lower()

    return attribute_matches


def _text_term(word: str) -> Predicate:
    def predicate(record: RequestRecord) -> bool:
        return (
            word in record.request_id.lower()
            or word in text_of(record.output).lower()
            or word in text_of(record.input).lower()
            or word in (record.error_message or "").lower()
            or word in (record.error_type or "").lower()
        )

    return predicate


@dataclass(frozen=True, slots=True)
class Term:
    """One parsed word of the filter; the store turns the same terms into SQL
    (console.store.filter_sql), so the live view and the history agree."""

    kind: str  # "numeric", "field" or "text"
    name: str  # numeric: latency/ttft/tokens/in/out/cost; field: a record attribute; text: ""
    op: str  # numeric: > < >= <= =; otherwise ""
    value: str | float
    negated: bool
    predicate: Predicate


def _parse_term(token: str, negated: bool) -> Term:
    numeric = _NUMERIC.match(token)
    if numeric:
        name, op, number, unit = numeric.groups()
        threshold = _threshold(number, unit, numeric.group(0))
        return Term("numeric", name, op, threshold, negated, _numeric_term(numeric))
    name, sep, value = token.partition(":")
    if sep and name in _FIELD_ALIASES:
        if not value:
            raise FilterError(f"{name}: needs a value")
        field = _FIELD_ALIASES[name]
        return Term("field", field, "", value, negated, _field_term(field, value))
    return Term("text", "", "", token, negated, _text_term(token))


@dataclass(frozen=True)
class RecordFilter:
    text: str
    terms: tuple[Term, ...]

    def __call__(self, record: RequestRecord) -> bool:
        return all(term.predicate(record) != term.negated for term in self.terms)

    def __bool__(self) -> bool:
        return bool(self.terms)


def parse_filter(text: str) -> RecordFilter:
    """Parse the filter text; raises FilterError with a readable reason."""
    terms = []
    for token in text.lower().split():
        negated = token.startswith("-") and len(token) > 1
        terms.append(_parse_term(token[1:] if negated else token, negated))
    return RecordFilter(text=text.strip(), terms=tuple(terms))
