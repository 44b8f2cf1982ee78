"""What each webhook was told, kept in the store: one row per message (firing or resolved).

A table of the store itself (`alert_notices`, created on first use, on SQLite and
PostgreSQL alike), not a file beside it: a team's PostgreSQL store is checked from cron on
several hosts, which must agree on what was already posted; the row of a message and its
delivery are written in a transaction (no half-written state file); and the live console,
which already holds the store, reads the pending failures from it for its header.

A webhook is known by a hash of its URL (the URL itself is a secret: Slack's carries the
token), and shown by its host. An alert's episode is open for a webhook while its last row
is a 'firing' one. A row whose `delivered` is NULL is pending: the next run posts it again.

Two runs at once (cron on two hosts, or a slow run overlapping the next) must not both open
an episode or post one message twice: a run works on a webhook only while it holds that
webhook's lease (`notify_leases`, one row per webhook, taken by INSERT or by taking over an
expired one, renewed before each post); the other run leaves the webhook to it.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, delete, or_, select, update
from sqlalchemy.exc import IntegrityError

_METADATA = MetaData()
NOTICES = Table(
    "alert_notices",
    _METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("target", String(32), nullable=False, index=True),  # sha256 of the URL, 16 bytes in hex
    Column("host", String(255), nullable=False),  # shown instead of the URL
    Column("alert_key", Text, nullable=False),  # kind:subject
    Column("event", String(16), nullable=False),  # firing | resolved
    Column("severity", String(8), nullable=False),
    Column("at", Float, nullable=False),  # the moment check judged (epoch seconds)
    Column("body", Text, nullable=False),  # exactly what is posted
    Column("delivered", Float, nullable=True),  # wall clock of the 2xx; NULL: pending
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text, nullable=True),
)

LEASES = Table(
    "notify_leases",
    _METADATA,
    Column("target", String(32), primary_key=True),
    Column("holder", String(128), nullable=False),  # host:pid:random of the run holding it
    Column("until", Float, nullable=False),  # wall clock: past it, another run may take it over
)


def target_id(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:32]


def target_host(url: str) -> str:
    return urlsplit(url).hostname or "?"


@dataclass(frozen=True)
class Notice:
    id: int
    target: str
    host: str
    alert_key: str
    event: str
    severity: str
    at: float
    body: str
    delivered: float | None
    attempts: int
    last_error: str | None


def ensure_table(engine) -> None:
    """Create the tables on first use. Two first runs at once may both try: the loser of one
    table's race tries again, since the winner may not have made the next table yet."""
    from sqlalchemy import inspect
    from sqlalchemy.exc import DBAPIError

    tables = [NOTICES, LEASES]
    for attempt in range(5):
        try:
            _METADATA.create_all(engine, tables=tables, checkfirst=True)
            return
        except DBAPIError:
            with engine.connect() as conn:
                if all(inspect(conn).has_table(table.name) for table in tables):
                    return
            if attempt == 4:
                raise
            time.sleep(0.05 * (attempt + 1))


def take_lease(engine, target: str, holder: str, seconds: float) -> bool:
    """True when this run holds the webhook's lease for `seconds` from now: it was free,
    expired, or already this run's (a renewal); False while another run holds it."""
    now = time.time()
    with engine.begin() as conn:
        taken = conn.execute(
            update(LEASES)
            .where(LEASES.c.target == target, or_(LEASES.c.holder == holder, LEASES.c.until < now))
            .values(holder=holder, until=now + seconds)
        ).rowcount
    if taken:
        return True
    try:
        with engine.begin() as conn:
            conn.execute(LEASES.insert().values(target=target, holder=holder, until=now + seconds))
    except IntegrityError:  # another run inserted it first, or holds it unexpired
        return False
    return True


def release_lease(engine, target: str, holder: str) -> None:
    with engine.begin() as conn:
        conn.execute(delete(LEASES).where(LEASES.c.target == target, LEASES.c.holder == holder))


def _notices(rows) -> list[Notice]:
    return [Notice(**row._mapping) for row in rows]


def open_episodes(conn, target: str) -> dict[str, Notice]:
    """alert_key -> the 'firing' notice of each episode still open for this webhook."""
    rows = _notices(conn.execute(select(NOTICES).where(NOTICES.c.target == target).order_by(NOTICES.c.id)))
    latest: dict[str, Notice] = {}
    for notice in rows:
        latest[notice.alert_key] = notice
    return {key: notice for key, notice in latest.items() if notice.event == "firing"}


def pending(conn, target: str) -> list[Notice]:
    query = select(NOTICES).where(NOTICES.c.target == target, NOTICES.c.delivered.is_(None)).order_by(NOTICES.c.id)
    return _notices(conn.execute(query))


def add(conn, target: str, host: str, alert_key: str, event: str, severity: str, at: float, body: str) -> None:
    conn.execute(NOTICES.insert().values(
        target=target, host=host, alert_key=alert_key, event=event, severity=severity, at=at, body=body, attempts=0,
    ))  # fmt: skip


def mark(conn, notice_id: int, *, delivered: float | None, attempts: int, error: str | None) -> None:
    conn.execute(update(NOTICES).where(NOTICES.c.id == notice_id).values(delivered=delivered, attempts=attempts, last_error=error))


def pending_failures(engine, urls: list[str] | None = None) -> list[Notice]:
    """The messages not delivered yet: refused, or waiting behind one that was (for the
    console's header); only those of `urls` when given (the webhooks configured now)."""
    from sqlalchemy import inspect

    with engine.connect() as conn:
        if not inspect(conn).has_table(NOTICES.name):
            return []
        query = select(NOTICES).where(NOTICES.c.delivered.is_(None)).order_by(NOTICES.c.id)
        if urls is not None:
            query = query.where(NOTICES.c.target.in_([target_id(url) for url in urls]))
        return _notices(conn.execute(query))
