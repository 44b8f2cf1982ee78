"""The `/` filter language (console.analytics.filters) as SQL over the store.

The requests view pages the whole history from the store, so a filter has to run there,
with the same meaning as in memory. Terms on the indexed columns (model, prompt id and
version, status) are turned into `IN` lists of the values the store actually holds (its
vocabulary, read from the same indexes) that the term names (exactly, or by a `*` pattern:
filters.name_matches), so SQLite and PostgreSQL answer them from the index instead of
scanning a million rows. A since: term is `r.ts >=` its moment: the history is read newest
first on the ts index, so the scan stops at that moment instead of going on to the oldest row.
Other terms become plain conditions; text words search the bodies table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from console.analytics.filters import RecordFilter, Term, name_matches, split_prompt

# (column, ...) -> the distinct values stored, as tuples; supplied by the store.
Vocabulary = Callable[[tuple[str, ...]], list[tuple]]

_NUMERIC_SQL = {
    "latency": "r.latency_ms",
    "ttft": "r.ttft_ms",
    "tokens": "(r.input_tokens + r.output_tokens)",
    "in": "r.input_tokens",
    "out": "r.output_tokens",
    "cost": "r.cost_usd",
}
_TEXT_COLUMNS = ("r.request_id", "b.output", "b.input", "b.error_message", "r.error_type")
_CONTAINS_COLUMNS = {
    "user_id", "session_id", "environment", "provider", "finish_reason", "variant",
    "request_id", "error_type",
}  # fmt: skip


@dataclass(frozen=True)
class WordTerm:
    """A text word of a store with body blocks, for a scan that looks in the blocks itself
    (console.store.word_history): `loose` is its condition without them (request id, error
    type, a loose body), the blocks are asked for the rows whose body is in one."""

    word: str
    negated: bool
    loose: str


@dataclass
class FilterSQL:
    """A WHERE fragment over `requests r` (and `request_bodies b` when needs_body).

    With body blocks, also the text words apart: `where_apart` is the other terms' fragment
    and `words` the words, for a scan that asks the blocks a stretch of rows at a time
    instead of `body_has` a row at a time (both share `params`)."""

    where: str = ""
    params: dict[str, object] = field(default_factory=dict)
    needs_body: bool = False
    where_apart: str = ""
    words: list[WordTerm] = field(default_factory=list)

    def add(self, value: object) -> str:
        name = f"f{len(self.params)}"
        self.params[name] = value
        return f":{name}"


def like_pattern(word: str) -> str:
    """`%word%` with LIKE's wildcards escaped (used with ESCAPE '\\')."""
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def compile_filter(
    record_filter: RecordFilter | None, vocabulary: Vocabulary | None = None, *, blocks: bool = False
) -> FilterSQL:
    """The filter's terms ANDed; a negated term is NOT of its condition, with NULL as false
    (as in memory, where a missing value never matches).

    With a vocabulary, terms on indexed columns become IN lists of stored values (for
    scanning the history); without, they compare lower(column) (for a short range of new rows,
    where a value first seen after the vocabulary was read must still match).

    blocks: the store keeps bodies in compressed blocks (console.store.body_blocks): a text
    word also asks `body_has(r.id, word)` of the rows without a loose body (a SQLite function
    the store's engine registers)."""
    compiled = FilterSQL()
    if not record_filter:
        return compiled
    parts, apart = [], []
    for term in record_filter.terms:
        if term.kind == "text":
            compiled.needs_body = True
            loose = _text_condition(str(term.value), compiled, lowered=not blocks)
            condition = loose
            if blocks:
                compiled.words.append(WordTerm(str(term.value), term.negated, loose))
                condition += f" OR (b.id IS NULL AND body_has(r.id, {compiled.add(str(term.value))}))"
        else:
            condition = _condition(term, compiled, vocabulary)
        # WHERE already takes NULL as false; the guard is only needed under NOT (and would
        # keep the planner off the indexes if used everywhere)
        part = f"NOT COALESCE(({condition}), FALSE)" if term.negated else f"({condition})"
        parts.append(part)
        if not (blocks and term.kind == "text"):
            apart.append(part)
    compiled.where = " AND ".join(parts)
    compiled.where_apart = " AND ".join(apart)
    return compiled


def _text_condition(word: str, compiled: FilterSQL, lowered: bool = True) -> str:
    """lowered=False for SQLite (a store with blocks is one): its LIKE already ignores ASCII
    case, so the ids and error types need no lower() (a copy of each: 0.8 s of a 1M-row
    scan); its lower() knows only ASCII, so a loose body is lowered by Python's str.lower
    (`text_lower`, registered by console.store.engine) as the blocks' texts are, and "café"
    finds "CAFÉ" in both."""
    pattern = compiled.add(like_pattern(word))
    if lowered:
        return " OR ".join(f"lower({column}) LIKE {pattern} ESCAPE '\\'" for column in _TEXT_COLUMNS)
    wanted = compiled.add(word)
    ids = " OR ".join(f"{column} LIKE {pattern} ESCAPE '\\'" for column in _TEXT_COLUMNS if column.startswith("r."))
    bodies = " OR ".join(f"instr(text_lower({column}), {wanted}) > 0" for column in _TEXT_COLUMNS if column.startswith("b."))
    # CASE, not AND: SQLite evaluates AND's both sides, so text_lower ran three times a row
    # (1M rows: a second) on rows with no loose body
    return f"{ids} OR (CASE WHEN b.id IS NULL THEN FALSE ELSE ({bodies}) END)"


def _condition(term: Term, compiled: FilterSQL, vocabulary: Vocabulary) -> str:
    if term.kind == "time":  # since: a range on the ts index, which ends the newest-first scan there
        return f"r.ts >= {compiled.add(float(term.value))}"
    if term.kind == "numeric":
        column = _NUMERIC_SQL[term.name]
        op = "=" if term.op == "=" else term.op
        return f"{column} IS NOT NULL AND {column} {op} {compiled.add(float(term.value))}"
    wanted = str(term.value)
    if term.name == "model":
        if vocabulary is None:
            return _name_condition("r.model", wanted, compiled)
        models = [m for (m,) in vocabulary(("model",)) if name_matches(wanted, m)]
        return _in_list("r.model", models, compiled)
    if term.name == "status":
        # in the partial status index's own words (console.store.tables): a bound value does
        # not prove it on PostgreSQL once psycopg prepares the statement (a generic plan)
        if wanted == "error":
            return "r.status = 'error'"
        return f"r.status = {compiled.add(wanted)}"
    if term.name in ("prompt", "version"):
        prompt_id, version = split_prompt(wanted) if term.name == "prompt" else ("", wanted)
        if vocabulary is None:
            conditions = [_name_condition("r.prompt_id", prompt_id, compiled)] if prompt_id else []
            if version:
                conditions.append(_name_condition("r.prompt_version", version, compiled))
            return " AND ".join(conditions)
        pairs = [
            (pid, ver)
            for pid, ver in vocabulary(("prompt_id", "prompt_version"))
            if pid is not None and ver is not None
            and (not prompt_id or name_matches(prompt_id, pid)) and (not version or name_matches(version, ver))
        ]  # fmt: skip
        if not pairs:
            return "1 = 0"
        return " OR ".join(
            f"(r.prompt_id = {compiled.add(pid)} AND r.prompt_version = {compiled.add(ver)})" for pid, ver in pairs
        )
    if term.name in _CONTAINS_COLUMNS:
        return f"lower(r.{term.name}) LIKE {compiled.add(like_pattern(wanted))} ESCAPE '\\'"
    raise ValueError(f"no SQL for the filter field {term.name!r}")


def glob_like(pattern: str) -> str:
    """A name pattern's `*` (any characters) as LIKE's %, its own % and _ escaped."""
    escaped = pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%")


def _name_condition(column: str, pattern: str, compiled: FilterSQL) -> str:
    """A model, prompt id or version named exactly (ignoring case) or by a * pattern, as
    console.analytics.filters.name_matches reads it."""
    if "*" not in pattern:
        return f"lower({column}) = {compiled.add(pattern)}"
    return f"lower({column}) LIKE {compiled.add(glob_like(pattern))} ESCAPE '\\'"


def _in_list(column: str, values: list[str], compiled: FilterSQL) -> str:
    if not values:
        return "1 = 0"
    return f"{column} IN ({', '.join(compiled.add(v) for v in values)})"
