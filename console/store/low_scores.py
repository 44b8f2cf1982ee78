"""The triage queue's low-scored requests, read so that a rebuild costs what changed.

The queue is rebuilt every half second while scores arrive and the triage screen is open.
One SQL statement (each request's lowest score under the threshold, joined to `requests`
for the tie order, newest first) took 0.8 s of CPU on a 1M-row store of 31 days whose
backlog was a quarter scored (16,808 low-scored requests, 13,417 of them tied at 0.0): the
join seeks (day, request_id) once per stored day and low-scored request, on every rebuild,
and the aggregate walked all 251k scores by their request_id index, not the 21k under the
threshold by the score index. With the triage screen open, scoring the backlog fell from
~8,400 to ~170 rows/s.

Here the scores under the threshold are read by the score index and folded per request in
Python (plain SQL on both dialects), and the newest `ts` of a request is looked up only for
the score groups that can reach the queue's `limit`, once per console: a stored row's ts never
changes, so LowScores keeps what it found (a request_id stored again on a later UTC day while
the console runs keeps the ts first found: only its place among equal scores could differ).
"""

from __future__ import annotations

import math

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection

from console.store.day_dedup import window_days

LOOKUP_CHUNK = 500
# a store whose low-scored requests outgrow this starts its cache afresh (memory stays bounded;
# the next rebuild looks up what it needs again)
MAX_CACHED = 500_000
DAY = 86400
_MISSING = float("nan")  # a score whose request is not in the store (nothing to list)

_NEWEST = text("SELECT r.request_id, max(r.ts) FROM requests r WHERE r.request_id IN :ids GROUP BY r.request_id").bindparams(
    bindparam("ids", expanding=True)
)
_NEWEST_ON_DAY = text(
    "SELECT r.request_id, max(r.ts) FROM requests r WHERE r.day = :day AND r.request_id IN :ids GROUP BY r.request_id"
).bindparams(bindparam("ids", expanding=True))
_UNDER = text("SELECT request_id, score FROM scores WHERE score < :below")
_LABELLED = text("SELECT DISTINCT request_id FROM labels WHERE active")
_COUNT_UNLABELLED = text(
    "SELECT count(DISTINCT request_id) FROM scores s WHERE score < :below "
    "AND NOT EXISTS (SELECT 1 FROM labels l WHERE l.request_id = s.request_id AND l.active)"
)


def lowest_scores(conn: Connection, below: float, unlabelled: bool) -> dict[str, float]:
    """request_id -> its lowest score, for the requests with a score under `below` (without
    the ones with an active label when `unlabelled`)."""
    lowest: dict[str, float] = {}
    for request_id, score in conn.execute(_UNDER, {"below": below}):
        found = lowest.get(request_id)
        if found is None or score < found:
            lowest[request_id] = score
    if unlabelled and lowest:
        for (request_id,) in conn.execute(_LABELLED):
            lowest.pop(request_id, None)
    return lowest


def count_unlabelled(conn: Connection, below: float) -> int:
    """Requests with a score under `below` and no active label (through the score index)."""
    return int(conn.execute(_COUNT_UNLABELLED, {"below": below}).scalar_one())


class LowScores:
    """The lowest-scored requests in the queue's order. What it learned of each request's
    newest ts (or of the days it is not on) is kept for the next rebuild."""

    def __init__(self) -> None:
        self._newest: dict[str, float] = {}  # request_id -> its newest ts (NaN: not stored)
        self._before_day: dict[str, int] = {}  # request_id -> no row of it on this UTC day or later

    def lowest(self, conn: Connection, below: float, limit: int, unlabelled: bool = True) -> list[tuple[str, float]]:
        """(request_id, lowest score) under `below`, lowest first, the newest request first on
        ties; a score whose request is not stored is left out; at most `limit`."""
        return self.lowest_and_count(conn, below, limit, unlabelled)[0]

    def lowest_and_count(
        self, conn: Connection, below: float, limit: int, unlabelled: bool = True
    ) -> tuple[list[tuple[str, float]], int]:
        """lowest(), and how many requests have a score under `below` (count_unlabelled's
        count when `unlabelled`), from one read of the scores."""
        if len(self._newest) + len(self._before_day) > MAX_CACHED:
            self._newest.clear()
            self._before_day.clear()
        by_score = sorted(lowest_scores(conn, below, unlabelled).items(), key=lambda item: item[1])
        picked: list[tuple[str, float]] = []
        start = 0
        while start < len(by_score) and len(picked) < limit:
            score, end = by_score[start][1], start
            while end < len(by_score) and by_score[end][1] == score:
                end += 1
            tied = [request_id for request_id, _ in by_score[start:end]]
            picked.extend((request_id, score) for request_id in self._newest_of(conn, tied, limit - len(picked)))
            start = end
        return picked, len(by_score)

    def _newest_of(self, conn: Connection, request_ids: list[str], want: int) -> list[str]:
        """The `want` stored requests of request_ids with the newest ts, newest first."""
        days = window_days(conn, None, None)
        if days is None:  # PostgreSQL, a store of the old layout: one seek an id
            self._look_up(conn, [rid for rid in request_ids if rid not in self._newest])
        else:
            self._look_up_by_day(conn, request_ids, want, *days)
        found = [(self._newest[rid], rid) for rid in request_ids if rid in self._newest]
        found = sorted((pair for pair in found if not math.isnan(pair[0])), reverse=True)
        return [rid for _ts, rid in found[:want]]

    def _look_up(self, conn: Connection, request_ids: list[str]) -> None:
        for start in range(0, len(request_ids), LOOKUP_CHUNK):
            chunk = request_ids[start : start + LOOKUP_CHUNK]
            self._newest.update(dict.fromkeys(chunk, _MISSING))
            self._newest.update((rid, float(ts)) for rid, ts in conn.execute(_NEWEST, {"ids": chunk}))

    def _look_up_by_day(self, conn: Connection, request_ids: list[str], want: int, first: int, last: int) -> None:
        """A day store finds a request_id by a seek per UTC day: the days are asked newest
        first, and only until `want` of the ids are known to be newer than every row of the
        day to ask next (the rest are older: only the day they are not on is kept)."""
        newest, before_day = self._newest, self._before_day
        known = [newest[rid] for rid in request_ids if rid in newest and not math.isnan(newest[rid])]
        pending = {rid: before_day.get(rid, last + 1) for rid in request_ids if rid not in newest}
        day = max(pending.values(), default=first) - 1
        while pending and day >= first:
            if len(known) >= want and sorted(known, reverse=True)[want - 1] >= (day + 1) * DAY:
                return
            asked = [rid for rid, below in pending.items() if below > day]
            for start in range(0, len(asked), LOOKUP_CHUNK):
                chunk = asked[start : start + LOOKUP_CHUNK]
                for rid, ts in conn.execute(_NEWEST_ON_DAY, {"day": day, "ids": chunk}):
                    newest[rid] = float(ts)
                    known.append(float(ts))
                    before_day.pop(rid, None)
                    del pending[rid]
            for rid in pending:
                before_day[rid] = pending[rid] = min(pending[rid], day)
            day -= 1
        for rid in pending:  # on no stored day
            newest[rid] = _MISSING
            before_day.pop(rid, None)
