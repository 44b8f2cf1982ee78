"""Scores and labels in the store: what console/evaluation reads and writes, over a Store.

    evaluation = EvaluationStore(store)
    evaluation.write_scores(results)
    label = evaluation.add_label("req_1", "bad", reason="hallucination", author="ana")

Labels keep their history: every verdict is a new row, the newest active row of a request
is its verdict, and undo deactivates a row (the one before it is the verdict again).
Nothing here touches the source logs. Plain SQL that SQLite and PostgreSQL both run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Iterable, Iterator, Sequence

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection, Engine

from console.records import RequestRecord
from console.store.body_blocks import fill, reader_of_engine
from console.store.error_groups import ErrorCounts
from console.store.low_scores import LowScores, count_unlabelled
from console.store.rows import BODY_AT, SELECT_COLUMNS, record_from_row
from console.store.store import Store
from console.store.tables import LabelRow, ScoreRow
from console.store.verdicts import current_verdicts

VERDICTS = ("bad", "good")
_LABEL_COLUMNS = "id, request_id, verdict, reason, note, author, created_at, active, case_id, case_pending"
CHUNK = 500


@dataclass(frozen=True, slots=True)
class Label:
    id: int
    request_id: str
    verdict: str
    reason: str | None
    note: str | None
    author: str
    created_at: float
    active: bool
    case_id: str | None
    case_pending: bool = False  # its case is being appended (left set by a crash: see Labeller.recover)


@dataclass(frozen=True, slots=True)
class LightRow:
    """The columns sampling needs, without the request text."""

    id: int
    request_id: str
    status: str
    feedback: float | None
    latency_ms: float
    model: str
    prompt_id: str
    prompt_version: str


def _label(row: Sequence) -> Label:
    return Label(
        int(row[0]), row[1], row[2], row[3], row[4], row[5], float(row[6]), bool(row[7]), row[8], bool(row[9])
    )


def _chunks(items: Sequence, size: int = CHUNK) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# Consoles on one PostgreSQL team store each score in the background and replace scores and the
# backlog by DELETE then INSERT: under READ COMMITTED two such transactions at once both delete,
# then the second insert collides with the first's (UniqueViolation on scoring_backlog_pkey, a
# console died of it in the team-store trial). They take this lock first, one at a time.
SCORES_LOCK_KEY = 0x6C6C6D6F70_03  # an arbitrary advisory lock id: "llmop" + 3


def _serialize_scoring(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCORES_LOCK_KEY})


def _save_backlog(conn: Connection, ranges: Iterable[tuple[int, int]]) -> None:
    conn.execute(text("DELETE FROM scoring_backlog"))
    rows = [{"low": low, "high": high} for low, high in ranges]
    if rows:
        conn.execute(text("INSERT INTO scoring_backlog (low, high) VALUES (:low, :high)"), rows)


class EvaluationStore:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.engine: Engine = store.engine
        self._low_scores = LowScores()  # the low-scored requests' ts, found once
        self._error_counts = ErrorCounts()  # read on from the last row counted

    # -- requests to score ------------------------------------------------------------------

    def scored_through(self) -> int:
        """The highest requests.id that has scores (0 when none): scoring resumes after it."""
        query = text("SELECT max(r.id) FROM scores s JOIN requests r ON r.request_id = s.request_id")
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar() or 0)

    def count_after(self, after_id: int) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM requests WHERE id > :a"), {"a": after_id}).scalar_one())

    def requests_after(self, after_id: int, limit: int = CHUNK) -> list[LightRow]:
        query = text(
            "SELECT id, request_id, status, feedback, latency_ms, model, prompt_id, prompt_version "
            "FROM requests WHERE id > :after ORDER BY id LIMIT :limit"
        )
        with self.engine.connect() as conn:
            return [LightRow(*row) for row in conn.execute(query, {"after": after_id, "limit": limit})]

    def newest_id(self) -> int:
        """The highest requests.id (0 in an empty store)."""
        with self.engine.connect() as conn:
            return int(conn.execute(text("SELECT max(id) FROM requests")).scalar() or 0)

    def count_between(self, low: int, high: int) -> int:
        """Requests with low < id <= high."""
        query = text("SELECT count(*) FROM requests WHERE id > :low AND id <= :high")
        with self.engine.connect() as conn:
            return int(conn.execute(query, {"low": low, "high": high}).scalar_one())

    def requests_down_from(self, high: int, low: int, limit: int = CHUNK) -> list[LightRow]:
        """Requests with low < id <= high, newest (highest id) first."""
        query = text(
            "SELECT id, request_id, status, feedback, latency_ms, model, prompt_id, prompt_version "
            "FROM requests WHERE id > :low AND id <= :high ORDER BY id DESC LIMIT :limit"
        )
        with self.engine.connect() as conn:
            return [LightRow(*row) for row in conn.execute(query, {"low": low, "high": high, "limit": limit})]

    def scoring_backlog(self) -> list[tuple[int, int]]:
        """The (low, high] ranges of row ids a scoring loop left unscored, highest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(text("SELECT low, high FROM scoring_backlog ORDER BY high DESC")).all()
        return [(int(low), int(high)) for low, high in rows]

    def save_scoring_backlog(self, ranges: Iterable[tuple[int, int]]) -> None:
        """Replace the stored ranges (what a console closed now would leave to the next)."""
        with self.engine.begin() as conn:
            _serialize_scoring(conn)
            _save_backlog(conn, ranges)

    def records(self, request_ids: Iterable[str]) -> dict[str, RequestRecord]:
        """Full records (with input and output) by request_id; unknown ids are left out. An id
        a SQLite store holds on two UTC days (console/store/day_dedup.py) is its newest request."""
        ids = list(dict.fromkeys(request_ids))
        query = text(
            f"SELECT r.id, {SELECT_COLUMNS} FROM requests r LEFT JOIN request_bodies b ON b.id = r.id "
            "WHERE r.request_id IN :ids ORDER BY r.id"
        ).bindparams(bindparam("ids", expanding=True))
        found: dict[str, RequestRecord] = {}
        bodies = reader_of_engine(self.engine)
        with self.engine.connect() as conn:
            for chunk in _chunks(ids):
                for row in fill(bodies, conn.execute(query, {"ids": list(chunk)}).all(), 0, BODY_AT + 1):
                    record = record_from_row(row[1:])
                    found[record.request_id] = record
        return found

    # -- scores -------------------------------------------------------------------------------

    def write_scores(
        self,
        rows: Iterable[tuple[str, str, float, str]],
        now: float | None = None,
        backlog: Iterable[tuple[int, int]] | None = None,
    ) -> int:
        """(request_id, scorer, score, reason) rows; a request's earlier scores are replaced.
        With `backlog`, the ranges still to score are saved in the same transaction, so a
        crash leaves the scores and what they took off the backlog together."""
        rows = list(rows)
        if not rows and backlog is None:
            return 0
        created = time.time() if now is None else now
        delete = text("DELETE FROM scores WHERE request_id IN :ids").bindparams(bindparam("ids", expanding=True))
        insert = ScoreRow.__table__.insert()
        with self.engine.begin() as conn:
            _serialize_scoring(conn)
            for chunk in _chunks(sorted({row[0] for row in rows})):
                conn.execute(delete, {"ids": list(chunk)})
            if rows:
                conn.execute(
                    insert,
                    [{"request_id": r, "scorer": s, "score": v, "reason": why, "created_at": created} for r, s, v, why in rows],
                )
            if backlog is not None:
                _save_backlog(conn, backlog)
        return len(rows)

    def scores_of(self, request_ids: Iterable[str]) -> dict[str, list[tuple[str, float, str]]]:
        """request_id -> [(scorer, score, reason)], lowest score first."""
        ids = list(dict.fromkeys(request_ids))
        query = text(
            "SELECT request_id, scorer, score, reason FROM scores WHERE request_id IN :ids ORDER BY score, scorer"
        ).bindparams(bindparam("ids", expanding=True))
        found: dict[str, list[tuple[str, float, str]]] = {}
        with self.engine.connect() as conn:
            for chunk in _chunks(ids):
                for rid, scorer, score, reason in conn.execute(query, {"ids": list(chunk)}):
                    found.setdefault(rid, []).append((scorer, float(score), reason))
        return found

    def low_scored(self, below: float, limit: int, *, unlabelled: bool = True) -> list[tuple[str, float]]:
        """(request_id, lowest score) under `below`, lowest first (newest request first on ties;
        an id stored on two UTC days is listed once, at its newest): console/store/low_scores.py."""
        with self.engine.connect() as conn:
            return self._low_scores.lowest(conn, below, limit, unlabelled)

    def count_low_unlabelled(self, below: float) -> int:
        with self.engine.connect() as conn:
            return count_unlabelled(conn, below)

    def low_scored_and_count(self, below: float, limit: int) -> tuple[list[tuple[str, float]], int]:
        """low_scored's unlabelled requests and count_low_unlabelled's count, from one read of
        the scores under `below` (what the triage queue asks each rebuild)."""
        with self.engine.connect() as conn:
            return self._low_scores.lowest_and_count(conn, below, limit)

    def provider_error_counts(
        self, since: float | None = None, until: float | None = None,
    ) -> list[tuple[str, str, int, float]]:
        """Failed requests per (model, error_type), stamped from `since` up to `until` when
        given (the figures' window): the triage queue's provider-error lines."""
        return self._error_counts(self.engine, since, until)

    def count_scored(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(text("SELECT count(DISTINCT request_id) FROM scores")).scalar_one())

    # -- labels ---------------------------------------------------------------------------------

    def add_label(
        self,
        request_id: str,
        verdict: str,
        *,
        author: str,
        reason: str | None = None,
        note: str | None = None,
        created_at: float | None = None,
        case_pending: bool = False,
    ) -> Label:
        """A new label row; case_pending says its regression case is about to be appended."""
        if verdict not in VERDICTS:
            raise ValueError(f"a verdict is 'bad' or 'good', not {verdict!r}")
        values = {
            "request_id": request_id, "verdict": verdict, "reason": reason, "note": note, "author": author,
            "created_at": time.time() if created_at is None else created_at, "active": True, "case_id": None,
            "case_pending": case_pending,
        }  # fmt: skip
        with self.engine.begin() as conn:
            new_id = conn.execute(LabelRow.__table__.insert().values(**values)).inserted_primary_key[0]
        return Label(id=int(new_id), **values)

    def _one(self, conn: Connection, where: str, params: dict) -> Label | None:
        row = conn.execute(text(f"SELECT {_LABEL_COLUMNS} FROM labels WHERE {where}"), params).first()
        return None if row is None else _label(row)

    def label(self, label_id: int) -> Label | None:
        with self.engine.connect() as conn:
            return self._one(conn, "id = :id", {"id": label_id})

    def current_label(self, request_id: str) -> Label | None:
        with self.engine.connect() as conn:
            return self._one(conn, "request_id = :r AND active ORDER BY id DESC LIMIT 1", {"r": request_id})

    def history(self, request_id: str) -> list[Label]:
        """Every label the request was given, oldest first, undone ones included."""
        query = text(f"SELECT {_LABEL_COLUMNS} FROM labels WHERE request_id = :r ORDER BY id")
        with self.engine.connect() as conn:
            return [_label(row) for row in conn.execute(query, {"r": request_id})]

    def current_labels(self, request_ids: Iterable[str] | None = None, limit: int = 1000) -> list[Label]:
        """The current label of each labelled request (or of the given ones), newest first."""
        columns = ", ".join("l." + c.strip() for c in _LABEL_COLUMNS.split(","))
        query = (
            f"SELECT {columns} FROM labels l JOIN "
            "(SELECT request_id, max(id) AS id FROM labels WHERE active GROUP BY request_id) c ON c.id = l.id"
        )
        with self.engine.connect() as conn:
            if request_ids is None:
                statement = text(query + " ORDER BY l.id DESC LIMIT :limit")
                return [_label(row) for row in conn.execute(statement, {"limit": limit})]
            statement = text(query + " WHERE l.request_id IN :ids ORDER BY l.id DESC").bindparams(
                bindparam("ids", expanding=True)
            )
            ids = list(dict.fromkeys(request_ids))
            found = [_label(row) for chunk in _chunks(ids) for row in conn.execute(statement, {"ids": list(chunk)})]
        return sorted(found, key=lambda label: -label.id)

    def current_verdicts(self) -> dict[str, str]:
        return current_verdicts(self.engine)

    def deactivate(self, label_id: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(text("UPDATE labels SET active = :no WHERE id = :id"), {"no": False, "id": label_id})

    def set_note(self, label_id: int, note: str | None) -> None:
        with self.engine.begin() as conn:
            conn.execute(text("UPDATE labels SET note = :note WHERE id = :id"), {"note": note, "id": label_id})

    def set_case(self, label_id: int, case_id: str | None) -> None:
        """Record the case the label added; it is no longer pending."""
        with self.engine.begin() as conn:
            conn.execute(
                text("UPDATE labels SET case_id = :c, case_pending = :no WHERE id = :id"),
                {"c": case_id, "no": False, "id": label_id},
            )

    def set_case_pending(self, label_id: int, pending: bool) -> None:
        """Say a case is about to be appended for the label (True), or that none is (False);
        a case id already recorded is kept."""
        with self.engine.begin() as conn:
            conn.execute(text("UPDATE labels SET case_pending = :p WHERE id = :id"), {"p": pending, "id": label_id})

    def pending_labels(self) -> list[Label]:
        """Labels whose case was being appended when their process stopped, oldest first."""
        query = text(f"SELECT {_LABEL_COLUMNS} FROM labels WHERE case_pending ORDER BY id")
        with self.engine.connect() as conn:
            return [_label(row) for row in conn.execute(query)]

    def added_case(self, request_id: str) -> bool:
        """Whether a label of this request (undone or not) ever added a regression case."""
        query = text("SELECT 1 FROM labels WHERE request_id = :r AND case_id IS NOT NULL LIMIT 1")
        with self.engine.connect() as conn:
            return conn.execute(query, {"r": request_id}).first() is not None

    def export_rows(self, verdict: str | None = None, history: bool = False) -> Iterator[dict]:
        """Labels joined with their requests, oldest label first: current verdicts only,
        unless history (every row, with `active`). A label's request is the newest with its id
        (a SQLite store holds an id on two UTC days as two requests: console/store/day_dedup.py)."""
        columns = (
            "l.request_id, l.verdict, l.reason, l.note, l.author, l.created_at, l.active, l.case_id, "
            "r.ts, r.model, r.prompt_id, r.prompt_version, r.status, b.output, r.id, b.input_is_json"
        )
        query = (
            f"SELECT {columns} FROM labels l "
            "LEFT JOIN requests r ON r.id = (SELECT max(id) FROM requests WHERE request_id = l.request_id) "
        )
        query += "LEFT JOIN request_bodies b ON b.id = r.id"
        conditions, params = [], {}
        if not history:
            conditions.append("l.id IN (SELECT max(id) FROM labels WHERE active GROUP BY request_id)")
        if verdict is not None:
            conditions.append("l.verdict = :verdict")
            params["verdict"] = verdict
        if conditions:
            query += " WHERE " + " AND ".join(conditions)
        names = [c.strip().split(".")[1] for c in columns.split(",")][:-2]
        bodies = reader_of_engine(self.engine)
        with self.engine.connect() as conn:
            for row in conn.execute(text(query + " ORDER BY l.id"), params):
                found = dict(zip(names, row))
                if row[-1] is None and row[-2] is not None and bodies is not None:  # the body is in a block
                    body = bodies.bodies([row[-2]]).get(row[-2])
                    found["output"] = None if body is None else body[1]
                yield found
