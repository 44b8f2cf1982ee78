"""The `/` filter language, parsed once and applied to records.

    model:gpt-4o            the model is gpt-4o (not gpt-4o-mini)
    model:gpt-4o*           the model's name starts with gpt-4o (* is any characters: *mini*)
    prompt:support-answer@v8  that prompt at that version (prompt:support-answer: any version)
    version:v8              prompt version is v8 (not v80)
    status:error            status is error (or ok)
    user:u_123  env:staging  provider:openai  finish:length  variant:B  id:req_  error:rate
                            these match a part of the value
    latency>2s  latency>500ms  ttft>0.5s  tokens>4k  cost>0.01   (also <, >=, <=, =)
    since:1h                the requests from an hour before now on (any window: 15m, 90m, 7d);
    since:2026-12-07T10:00Z from that moment on (RFC 3339; a date alone is its UTC midnight)
    anything else           every word must appear in the input, output, error or ids
    "foo:bar"               a word in quotes is always a word, even with a colon
    -word / -model:x        negates a term

Terms are ANDed. Matching is case-insensitive. model:, prompt: and version: name one thing
exactly, as `compare --a model=gpt-4o` does, so the filters the console writes itself (a
pane's Enter, an alert's look, triage) select that model's requests and no other's.
A pane's figure over a window is the requests since the window's start: its filter carries
`since:<window>` (window_filter), so the requests shown are the ones counted.
A relative since: is measured from the `now` given to parse_filter (the figures' clock) once,
when the filter is parsed: the bound stays where it was put while the view follows new rows,
and RecordFilter.since says where (the requests view's title shows it).
A term that cannot mean anything raises FilterError with what was wrong: an unknown key, a
status other than ok or error, a latency without its unit or not a number at all, a since:
that is neither a duration nor a moment.
"""

from __future__ import annotations

import operator
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

from console.analytics.windows import UnknownWindow, window_seconds
from console.formatting import parse_rfc3339
from console.records import RequestRecord, text_of

_NUMERIC_KEYS = ("latency", "ttft", "tokens", "cost", "in", "out")
_OPERATOR = r"(>=|<=|>|<|=)"
_NUMERIC = re.compile(rf"^({'|'.join(_NUMERIC_KEYS)}){_OPERATOR}(.*)$")
_NUMBER = r"([0-9]+\.?[0-9]*|\.[0-9]+)"
_DURATION = re.compile(rf"^{_NUMBER}(ms|s)?$")
_COUNT = re.compile(rf"^{_NUMBER}(k)?$")
_AMOUNT = re.compile(rf"^\$?{_NUMBER}$")
_UNITS = ("ms", "s", "k")
_SPACED_KEYS = ("latency", "ttft", "tokens", "cost")  # may stand apart from their operator (latency > 2s)
_KEYED = re.compile(r"^([a-z][a-z_]*):(.*)$")
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
SINCE = "since"  # since:1h, since:2026-12-07T10:00Z: the requests from that moment on
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
KEYS = (*(k for k in _FIELD_ALIASES if k != "environment"), SINCE)  # key:value (environment: env's long form)
NAMED_FIELDS = ("model", "prompt", "version")  # matched whole (or by * pattern), not by a part
STATUSES = ("ok", "error")
_EXAMPLES = {"latency": "2s", "ttft": "500ms", "tokens": "4k", "in": "1000", "out": "500", "cost": "0.01"}

Predicate = Callable[[RequestRecord], bool]


class FilterError(ValueError):
    pass


# -- names: exactly, or by a * pattern ----------------------------------------------


def name_matches(pattern: str, name: str | None) -> bool:
    """Whether `name` is the one `pattern` (lowered) names: equal ignoring case, where a `*`
    in the pattern stands for any characters (gpt-4o* for gpt-4o and gpt-4o-mini)."""
    if name is None:
        return False
    if "*" not in pattern:
        return name.lower() == pattern
    return _glob(pattern).fullmatch(name.lower()) is not None


@lru_cache(maxsize=64)
def _glob(pattern: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")), re.DOTALL)


def split_prompt(wanted: str) -> tuple[str, str]:
    """prompt:'s value as (prompt id pattern, version pattern); either empty for any. The last
    @ splits them, as the Versions pane's prompt@version keys are split."""
    prompt_id, at, version = wanted.rpartition("@")
    return (prompt_id, version) if at else (wanted, "")


# -- numbers ------------------------------------------------------------------------


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


def _threshold(name: str, text: str, token: str) -> float:
    """The term's threshold in the record's unit (ms, tokens, dollars). A duration needs its
    unit: a bare `latency>2` read as milliseconds where every figure shown is in seconds."""
    if name in ("latency", "ttft"):
        duration = _DURATION.match(text)
        if not duration:
            raise FilterError(f"{token}: not a duration (e.g. {name}>2s, {name}>500ms)")
        number, unit = duration.groups()
        if unit is None:
            raise FilterError(f"{token}: give the unit: {token}s for seconds or {token}ms for milliseconds")
        return float(number) * (1000.0 if unit == "s" else 1.0)
    if name == "cost":
        amount = _AMOUNT.match(text)
        if not amount:
            raise FilterError(f"{token}: not an amount in dollars (e.g. cost>0.01)")
        return float(amount.group(1))
    count = _COUNT.match(text)
    if not count:
        raise FilterError(f"{token}: not a number of tokens (e.g. {name}>4000, {name}>4k)")
    number, unit = count.groups()
    return float(number) * (1000.0 if unit == "k" else 1.0)


def _numeric_term(name: str, op: str, threshold: float) -> Predicate:
    compare = _OPS[op]

    def predicate(record: RequestRecord) -> bool:
        value = _numeric_value(record, name)
        return value is not None and compare(value, threshold)

    return predicate


# -- time -----------------------------------------------------------------------------


def _since_bound(value: str, now: float) -> tuple[float | None, bool]:
    """since:'s value as (the moment, whether it was relative to now); (None, True) for
    since:all. A duration is any window the console takes (1h, 90m, 7d: windows.window_seconds);
    a moment is RFC 3339 with its offset, or a date alone (UTC midnight)."""
    try:
        seconds = window_seconds(value)
    except UnknownWindow:
        pass
    else:
        return (None if seconds is None else now - seconds), True
    try:
        moment = parse_rfc3339(f"{value}T00:00:00Z" if _DATE.match(value) else value)
    except ValueError:
        if _DATE.match(value[:10]):  # a moment mistyped, or without its offset (the text is lowered)
            raise FilterError(f"since:{value.upper()}: a moment is RFC 3339 with its offset, "
                              "since:2026-12-07T10:00Z (or a date alone: its UTC midnight)") from None
        raise FilterError(
            f"since:{value}: not a duration (since:1h, since:90m, since:7d) nor a moment (since:2026-12-07T10:00Z)"
        ) from None
    return moment, False


def _since_term(bound: float) -> Predicate:
    return lambda record: record.ts >= bound


# -- fields and words ---------------------------------------------------------------


def _field_term(field: str, wanted: str) -> Predicate:
    if field == "prompt":
        prompt_id, version = split_prompt(wanted)

        def prompt_matches(record: RequestRecord) -> bool:
            return (not prompt_id or name_matches(prompt_id, record.prompt_id)) and (
                not version or name_matches(version, record.prompt_version)
            )

        return prompt_matches
    if field == "version":
        return lambda record: name_matches(wanted, record.prompt_version)
    if field == "status":
        return lambda record: record.status == wanted
    if field == "model":
        return lambda record: name_matches(wanted, record.model)

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

    kind: str  # "numeric", "field", "time" or "text"
    name: str  # numeric: latency/ttft/tokens/in/out/cost; field: a record attribute; time: "ts"; text: ""
    op: str  # numeric: > < >= <= =; time: >=; otherwise ""
    value: str | float  # time: the moment (epoch seconds), a relative one measured once
    negated: bool
    predicate: Predicate
    relative: bool = False  # time: written as a duration before now (since:1h)


def _parse_term(token: str, negated: bool, now: float) -> Term | None:
    if len(token) > 1 and token.startswith('"') and token.endswith('"'):
        word = token[1:-1]
        return Term("text", "", "", word, negated, _text_term(word))
    numeric = _NUMERIC.match(token)
    if numeric:
        name, op, text = numeric.groups()
        threshold = _threshold(name, text, token)
        return Term("numeric", name, op, threshold, negated, _numeric_term(name, op, threshold))
    keyed = _KEYED.match(token)
    if not keyed:
        return Term("text", "", "", token, negated, _text_term(token))
    name, value = keyed.groups()
    if name in _NUMERIC_KEYS:
        raise FilterError(f"{name} is compared: {name}>{_EXAMPLES[name]} (also <, >=, <=, =)")
    if name == SINCE:
        if not value:
            raise FilterError("since: needs a duration or a moment (since:1h, since:2026-12-07T10:00Z)")
        bound, relative = _since_bound(value, now)
        if bound is None:  # since:all: every request
            return None
        return Term("time", "ts", ">=", bound, negated, _since_term(bound), relative)
    if name not in _FIELD_ALIASES:
        raise FilterError(f"unknown key {name!r} (keys: {', '.join(KEYS)}); to look for the word, quote it: \"{token}\"")
    if not value:
        raise FilterError(f"{name}: needs a value")
    if name == "status" and value not in STATUSES:
        raise FilterError(f"status is ok or error, not {value!r}")
    if name == "prompt" and not any(split_prompt(value)):
        raise FilterError("prompt: needs a prompt id, a version or both (prompt:support-answer@v8)")
    field = _FIELD_ALIASES[name]
    return Term("field", field, "", value, negated, _field_term(field, value))


def _tokens(text: str) -> list[str]:
    """The words of the filter, with a numeric term written with spaces made one word again:
    `latency>2 s`, `latency > 2s` and `tokens >= 4 k` are latency>2s and tokens>=4k."""
    tokens: list[str] = []
    for word in text.split():
        if tokens and _continues(tokens[-1].lstrip("-"), word):
            tokens[-1] += word
        else:
            tokens.append(word)
    return tokens


def _continues(term: str, word: str) -> bool:
    """Whether `word` is the rest of the numeric term so far: its value (latency> 2s), its
    operator (latency >2s; not after in or out, which are English words) or its unit (2 s)."""
    numeric = _NUMERIC.match(term)
    if numeric:
        value = numeric.group(3)
        return not value or (word in _UNITS and re.fullmatch(_NUMBER, value) is not None)
    return term in _SPACED_KEYS and re.match(_OPERATOR, word) is not None


@dataclass(frozen=True)
class RecordFilter:
    text: str
    terms: tuple[Term, ...]

    def __call__(self, record: RequestRecord) -> bool:
        return all(term.predicate(record) != term.negated for term in self.terms)

    def __bool__(self) -> bool:
        return bool(self.terms)

    @property
    def since(self) -> float | None:
        """The moment the requests selected start at (the latest since: term), or None."""
        bounds = [float(t.value) for t in self.terms if t.kind == "time" and not t.negated]
        return max(bounds) if bounds else None

    @property
    def relative_since(self) -> bool:
        """Whether a since: term was written before now (since:1h), so its moment is news."""
        return any(t.kind == "time" and t.relative for t in self.terms)


def parse_filter(text: str, now: float | None = None) -> RecordFilter:
    """Parse the filter text; raises FilterError with a readable reason. `now`: the moment a
    relative since: (since:1h) is measured from, the figures' clock (default: the wall's)."""
    moment = time.time() if now is None else now
    terms = []
    for token in _tokens(text.lower()):
        negated = token.startswith("-") and len(token) > 1
        term = _parse_term(token[1:] if negated else token, negated, moment)
        if term is not None:
            terms.append(term)
    return RecordFilter(text=text.strip(), terms=tuple(terms))


def window_filter(text: str, window: str | None) -> str:
    """A filter the console writes for a figure over a window (a pane's row, an alert): with
    `since:<window>`, so the requests it shows are those counted; none for "all"."""
    if not window or window == "all":
        return text
    return f"{text} {SINCE}:{window}"


def filter_word(word: str) -> str:
    """`word` as the filter reads it literally: quoted when the filter would read it as a
    term (a colon: a key; a leading - or ": negation or quotes; latency>2s: a comparison)."""
    if ":" in word or word.startswith(("-", '"')) or _NUMERIC.match(word.lower()) or word.lower() in _SPACED_KEYS:
        return f'"{word}"'
    return word


def near_names(record_filter: RecordFilter, models: Iterable[str], prompt_ids: Iterable[str]) -> list[str]:
    """Hints for model: and prompt: terms that name no known model or prompt exactly but are a
    part of some (model:gpt, which before matched gpt-4o and gpt-4o-mini), with the pattern
    that would match those."""
    hints = []
    known = {"model": sorted(set(models)), "prompt": sorted(set(prompt_ids))}
    for term in record_filter.terms:
        if term.kind != "field" or term.name not in known:
            continue
        wanted = str(term.value) if term.name == "model" else split_prompt(str(term.value))[0]
        near = near_name(wanted, known[term.name])
        if near is not None:
            hints.append(f"no {term.name} is named {near.wanted!r}; {term.name}:{near.pattern} matches {near.shown}")
    return hints


@dataclass(frozen=True)
class NearName:
    """Names that contain a name nothing is called, and the * pattern that matches them."""

    wanted: str  # lowered
    pattern: str  # gpt* (each starts with it), else *mini*
    names: tuple[str, ...]

    @property
    def shown(self) -> str:
        return ", ".join(self.names[:3]) + (", …" if len(self.names) > 3 else "")


def near_name(wanted: str, known: Iterable[str]) -> NearName | None:
    """When no name in `known` is `wanted` (ignoring case) but some contain it: those names
    (gpt -> gpt-4o, gpt-4o-mini). The `/` filter's hint and compare's for an empty arm."""
    wanted = wanted.lower()
    names = sorted({name for name in known if name})
    if not wanted or "*" in wanted or any(name_matches(wanted, name) for name in names):
        return None
    containing = tuple(name for name in names if wanted in name.lower())
    if not containing:
        return None
    pattern = f"{wanted}*" if all(n.lower().startswith(wanted) for n in containing) else f"*{wanted}*"
    return NearName(wanted, pattern, containing)
