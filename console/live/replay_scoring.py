"""Triage in a replay (console/live/replay.py): the evaluation store as of the replay's moment,
scoring in memory.

The scoring loop and the triage queue (console/live/evaluation_feed.py) see only requests with
ts <= the moment. A replay never writes to the store (issue 21, point 1), so the scores it
gives and the backlog it would leave are kept here, in memory, and read together with the
scores an earlier console stored (a request scored here shows its replay scores). Labels,
notes and cases pass through to the real EvaluationStore: they are real writes.
"""

from __future__ import annotations

from typing import Callable, Iterable

from console.store.day_dedup import days_bound
from console.store.evaluation import CHUNK, LightRow

Scores = list[tuple[str, float, str]]  # (scorer, score, reason), lowest score first


class MomentBoundEvaluation:
    """The evaluation store as of a replay's moment (`until()`), its own scores in memory.

    The scoring loop walks row ids; a row inside a walked id range whose ts is past the moment
    (rows stored out of time order) is passed over and kept in the in-memory backlog: the
    store's backlog and scores are left as they were, for the next live console to go on from."""

    def __init__(self, evaluation, until: Callable[[], float]) -> None:
        self._evaluation = evaluation
        self._until = until
        self._newest: tuple[float, int] | None = None  # (moment, the newest id with ts <= it)
        self._passed_over: set[int] = set()
        self._walked: dict[str, float] = {}  # ts of the rows of the last requests_down_from
        self._scores: dict[str, Scores] = {}  # the replay's scores, by request_id
        self._ts: dict[str, float] = {}  # ts of the requests in _scores
        self._stored_low: dict[str, float] = {}  # the lowest stored score of a request in _scores
        self.backlog: list[tuple[int, int]] | None = None  # what a live console would save; None: the store's

    def __getattr__(self, name: str):
        return getattr(self._evaluation, name)

    def _scalar(self, sql: str, **params) -> int:
        from sqlalchemy import text

        with self._evaluation.engine.connect() as conn:
            if "{days}" in sql:
                sql = sql.format(days=_days_to(conn, params["m"], params))
            return int(conn.execute(text(sql), params).scalar() or 0)

    # -- what to score ---------------------------------------------------------------------

    def newest_id(self) -> int:
        """The highest id among the rows the moment has reached (incremental as it moves on)."""
        moment = self._until()
        if self._newest is None or moment < self._newest[0]:
            newest = self._scalar("SELECT max(id) FROM requests WHERE ts <= :m", m=moment)
        elif moment > self._newest[0]:
            newer = self._scalar("SELECT max(id) FROM requests WHERE ts > :a AND ts <= :m", a=self._newest[0], m=moment)
            newest = max(self._newest[1], newer)
        else:
            newest = self._newest[1]
        self._newest = (moment, newest)
        return newest

    def scored_through(self) -> int:
        """The highest id with stored scores among the rows the moment has reached (scores an
        earlier console gave later requests do not say the ones before the moment were scored).
        Asked once, when the scoring loop starts: the replay has scored nothing yet."""
        return self._scalar("SELECT max(r.id) FROM scores s JOIN requests r ON r.request_id = s.request_id "
                            "WHERE r.ts <= :m", m=self._until())

    def count_between(self, low: int, high: int) -> int:
        return self._scalar("SELECT count(*) FROM requests WHERE id > :low AND id <= :high AND ts <= :m",
                            low=low, high=high, m=self._until())

    def requests_down_from(self, high: int, low: int, limit: int = CHUNK) -> list[LightRow]:
        from sqlalchemy import text

        moment = self._until()
        query = text(
            "SELECT id, request_id, status, feedback, latency_ms, model, prompt_id, prompt_version, ts "
            "FROM requests WHERE id > :low AND id <= :high AND ts <= :m ORDER BY id DESC LIMIT :limit"
        )
        with self._evaluation.engine.connect() as conn:
            found = conn.execute(query, {"low": low, "high": high, "m": moment, "limit": limit}).all()
            rows = [LightRow(*row[:-1]) for row in found]
            self._walked = {row[1]: float(row[-1]) for row in found}
            walked_down_to = rows[-1].id - 1 if len(rows) == limit else low
            later = text("SELECT id FROM requests WHERE id > :low AND id <= :high AND ts > :m")
            self._passed_over.update(int(i) for (i,) in conn.execute(later, {"low": walked_down_to, "high": high, "m": moment}))
        return rows

    def _with_passed_over(self, ranges) -> list[tuple[int, int]]:
        from console.evaluation.triage import merge_ranges

        return merge_ranges([*ranges, *((i - 1, i) for i in self._passed_over)])

    def scoring_backlog(self) -> list[tuple[int, int]]:
        return self._evaluation.scoring_backlog() if self.backlog is None else list(self.backlog)

    def save_scoring_backlog(self, ranges: Iterable[tuple[int, int]]) -> None:
        self.backlog = self._with_passed_over(ranges)

    # -- the replay's scores, in memory --------------------------------------------------------

    def write_scores(self, rows, now: float | None = None, backlog=None) -> int:
        """Kept in memory: a request's scores replace the ones it had (stored ones are hidden)."""
        rows = list(rows)
        new: dict[str, Scores] = {}
        for request_id, scorer, score, reason in rows:
            new.setdefault(request_id, []).append((scorer, float(score), reason))
        unknown = [rid for rid in new if rid not in self._walked and rid not in self._ts]
        ts = {**self._ts_of(unknown), **self._walked}
        stored = self._evaluation.scores_of(rid for rid in new if rid not in self._scores)
        for request_id, scores in new.items():
            self._scores[request_id] = sorted(scores, key=lambda s: (s[1], s[0]))
            self._ts[request_id] = ts.get(request_id, self._ts.get(request_id, float("inf")))
            if stored.get(request_id):
                self._stored_low[request_id] = stored[request_id][0][1]
        if backlog is not None:
            self.save_scoring_backlog(backlog)
        return len(rows)

    def _ts_of(self, request_ids: list[str]) -> dict[str, float]:
        from sqlalchemy import bindparam, text

        if not request_ids:
            return {}
        # ORDER BY id: an id stored on two UTC days (console/store/day_dedup.py) is its newest
        query = text("SELECT request_id, ts FROM requests WHERE request_id IN :ids ORDER BY id").bindparams(
            bindparam("ids", expanding=True))
        with self._evaluation.engine.connect() as conn:
            return {rid: float(ts) for rid, ts in conn.execute(query, {"ids": request_ids})}

    def _labelled(self) -> set[str]:
        """Requests with an active label (as the store's `NOT EXISTS ... l.active` reads them)."""
        from sqlalchemy import text

        with self._evaluation.engine.connect() as conn:
            return {rid for (rid,) in conn.execute(text("SELECT DISTINCT request_id FROM labels WHERE active"))}

    def _low_in_memory(self, below: float, moment: float, skip: set[str]) -> list[tuple[str, float, float]]:
        """(request_id, lowest score, ts) of the replay's scores under `below`, up to the moment."""
        return [(rid, scores[0][1], self._ts[rid]) for rid, scores in self._scores.items()
                if scores and scores[0][1] < below and self._ts[rid] <= moment and rid not in skip]

    def scores_of(self, request_ids: Iterable[str]) -> dict[str, Scores]:
        ids = list(dict.fromkeys(request_ids))
        found = self._evaluation.scores_of(rid for rid in ids if rid not in self._scores)
        found.update({rid: list(self._scores[rid]) for rid in ids if self._scores.get(rid)})
        return found

    def records(self, request_ids) -> dict:
        """Full records of the requests the moment has reached (the queue's labelled ones too)."""
        moment = self._until()
        return {rid: record for rid, record in self._evaluation.records(request_ids).items() if _epoch(record.ts) <= moment}

    def low_scored(self, below: float, limit: int, *, unlabelled: bool = True) -> list[tuple[str, float]]:
        """The store's low scores up to the moment (those of requests the replay scored again
        left out) and the replay's, lowest first, newest request first on ties."""
        from sqlalchemy import text

        moment = self._until()
        labelled = self._labelled() if unlabelled else set()
        found = self._low_in_memory(below, moment, labelled)
        where = "AND NOT EXISTS (SELECT 1 FROM labels l WHERE l.request_id = w.request_id AND l.active)" if unlabelled else ""
        query = (
            "SELECT w.request_id, w.score, max(r.ts) FROM "
            "(SELECT request_id, min(score) AS score FROM scores WHERE score < :below GROUP BY request_id) w "
            "JOIN requests r ON r.request_id = w.request_id WHERE r.ts <= :m{days} " + where + " "
            "GROUP BY w.request_id, w.score ORDER BY w.score, max(r.ts) DESC, w.request_id LIMIT :limit OFFSET :offset"
        )
        page, offset, stored = max(limit, 1) * 2, 0, 0
        with self._evaluation.engine.connect() as conn:
            bound: dict = {}
            statement = text(query.format(days=_days_to(conn, moment, bound)))
            while stored < limit:  # a page more when requests the replay scored again took places
                params = {"below": below, "m": moment, "limit": page, "offset": offset, **bound}
                rows = conn.execute(statement, params).all()
                kept = [(rid, float(score), float(ts)) for rid, score, ts in rows if rid not in self._scores]
                found.extend(kept)
                stored += len(kept)
                offset += page
                if len(rows) < page:
                    break
        found.sort(key=lambda item: (item[1], -item[2]))
        return [(rid, score) for rid, score, _ in found[:limit]]

    def low_scored_and_count(self, below: float, limit: int) -> tuple[list[tuple[str, float]], int]:
        """As EvaluationStore's: low_scored, and count_low_unlabelled when the list is full."""
        low = self.low_scored(below, limit)
        return low, self.count_low_unlabelled(below) if len(low) >= limit else len(low)

    def provider_error_counts(
        self, since: float | None = None, until: float | None = None,
    ) -> list[tuple[str, str, int, float]]:
        """Only the failures the moment has reached: a replay's triage knows nothing later."""
        from console.store.error_groups import error_counts

        moment = self._until()
        return error_counts(self._evaluation.engine, since, moment if until is None else min(until, moment))

    def count_low_unlabelled(self, below: float) -> int:
        moment = self._until()
        stored = self._scalar(
            "SELECT count(*) FROM (SELECT DISTINCT request_id FROM scores WHERE score < :below) w "
            "WHERE EXISTS (SELECT 1 FROM requests r WHERE r.request_id = w.request_id AND r.ts <= :m{days}) "
            "AND NOT EXISTS (SELECT 1 FROM labels l WHERE l.request_id = w.request_id AND l.active)",
            below=below, m=moment,
        )
        labelled = self._labelled()
        hidden = sum(1 for rid, low in self._stored_low.items()
                     if low < below and self._ts[rid] <= moment and rid not in labelled)  # scored again here
        return stored - hidden + len(self._low_in_memory(below, moment, labelled))


def _days_to(conn, moment: float, params: dict) -> str:
    """' AND ' the term bounding `r` to the stored days up to the moment (its parameters added
    to params), on a store with a day column: the join by request_id seeks those days only
    (console/store/day_dedup.py); '' on the other layouts."""
    days = days_bound(conn, None, moment, params)
    return "" if days is None else " AND " + days


def _epoch(ts) -> float:
    return ts.timestamp() if hasattr(ts, "timestamp") else float(ts)
