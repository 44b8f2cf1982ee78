"""A SQLite store read with plain sqlite3: what `report` and `check` read, without SQLAlchemy.

SQLAlchemy is a fifth of a `report` process (its import alone ~0.2 s here); a command that only
reads a file-backed SQLite store already at CURRENT_VERSION opens it as a `SqliteReader`
(console/commands/store_access.py `open_reader`), which answers what a report reads
(console/store/window_report.py, rollup_reads.py) with the Store's own SQL
(console/store/read_queries.py) and the Store's loads (console/store/column_loads.py). Any
other store (PostgreSQL, an older schema, a URL SQLAlchemy must parse) is opened as a Store:
the figures are the same either way (tests/test_sqlite_reader.py).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from typing import Callable

from console.analytics.columns import Columns
from console.store import read_queries
from console.store.column_loads import load_file
from console.store.schema_facts import CURRENT_VERSION, stored_version_of_sqlite
from console.store.verdicts import _CURRENT


class SqliteReader:
    """The reading side of a Store over one sqlite3 connection (never written through)."""

    def __init__(self, path: str, conn: sqlite3.Connection) -> None:
        self.sqlite_path = path
        self.conn = conn

    @classmethod
    def open(cls, path: str) -> SqliteReader | None:
        """The reader of the store file at `path`, or None when it is not a store at
        CURRENT_VERSION (missing, older, newer, not a database): open those as a Store."""
        if not os.path.isfile(path):
            return None
        try:
            conn = sqlite3.connect(path, timeout=30, check_same_thread=False)
        except sqlite3.Error:
            return None
        try:
            if stored_version_of_sqlite(conn) == CURRENT_VERSION:
                return cls(path, conn)
        except sqlite3.DatabaseError:  # not a database: the Store's open says so
            pass
        conn.close()
        return None

    @property
    def display_url(self) -> str:
        return f"sqlite:///{self.sqlite_path}"

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> SqliteReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def read_connection(self):
        """The connection the rollup reads use (rollups.Db takes a sqlite3 connection)."""
        return contextlib.nullcontext(self.conn)

    def _one(self, query: str, params: dict):
        return self.conn.execute(query, params).fetchone()[0]

    def count_between(self, since_ts: float | None = None, before_ts: float | None = None) -> int:
        return int(self._one(*read_queries.count_between(since_ts, before_ts)))

    def newest_ts(self, rows: int, since_ts: float | None = None) -> float | None:
        found = self.conn.execute(*read_queries.ts_at_rank(True, since_ts, max(rows - 1, 0), newest_first=True)).fetchone()
        return None if found is None else float(found[0])

    def _ts_at(self, since_ts: float | None, offset: int) -> float | None:
        found = self.conn.execute(*read_queries.ts_at_rank(True, since_ts, offset, newest_first=False)).fetchone()
        return None if found is None else float(found[0])

    def load_columns(
        self, since_ts: float | None = None, *, until_id: int | None = None, before_ts: float | None = None,
        verdicts: bool = True, processes: int = 1, progress: Callable[[int], object] | None = None,
        spare: int = 0, blocks: bool = True,
    ) -> Columns:
        """Store.load_columns (the same loads, the same arguments)."""
        columns = load_file(
            self.sqlite_path, since_ts, until_id, before_ts, processes=processes, progress=progress, spare=spare,
            blocks=blocks, count_between=self.count_between, ts_at=self._ts_at,
        )  # fmt: skip
        if verdicts:
            self.apply_verdicts(columns)
        return columns

    def apply_verdicts(self, columns: Columns) -> None:
        columns.apply_verdicts(dict(self.conn.execute(_CURRENT).fetchall()))

    def first_seen_between(
        self, since_ts: float | None, before_ts: float, until_id: int | None = None
    ) -> tuple[dict[str, float], dict[tuple[str, str], float]]:
        models_q, prompts_q, params = read_queries.first_seen_between(True, since_ts, before_ts, until_id)
        models = {m: float(ts) for m, ts in self.conn.execute(models_q, params) if ts is not None}
        prompts = {(p, v): float(ts) for p, v, ts in self.conn.execute(prompts_q, params) if ts is not None}
        return models, prompts

    def spend_nano_between(self, start_ts: float, end_ts: float, scope: dict[str, str] | None = None) -> int:
        return int(self._one(*read_queries.spend_nano_between(True, start_ts, end_ts, scope)))
