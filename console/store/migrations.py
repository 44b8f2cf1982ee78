"""Schema versions: a new store is created at the current version, an older one is upgraded.

The version lives in `schema_version` (one row per version reached). A store made before
versioning (a `requests` table but no `schema_version`) is version 1. Opening a store
newer than this console is an error that says so, never a silent downgrade.

Versions:
1. the first schema.
2. source_offsets keyed by (host, source), inode and offset 64-bit: in a shared store
   several hosts tail files with the same path, and a 2 GiB log overflowed PostgreSQL's
   32-bit INTEGER.
3. regression_runs.host and .pid: the process running a run, so a run left "running" by a
   process killed with it is marked "interrupted" rather than shown running forever.
4. labels.case_pending: set while a bad label's regression case is being appended, so a
   label and its case left half-done by a crash are finished on the next start.
5. column_blocks: the numbers of the requests as numpy arrays beside the rows.
6. requests.estimated_cost_usd: the spend of a request whose usage an instrumentation only
   estimated, counted apart from real spend.
7. rollups and rollup_users: per minute and per hour cells of counts, tokens, spend and
   latency sketches (console.store.rollups), built from the rows already stored.
8. body_blocks: request bodies zstd-compressed in blocks of row ids (console.store.body_blocks);
   on SQLite the bodies already stored move into blocks (the file keeps its size until a
   VACUUM; new rows reuse the freed pages). The model and prompt indexes are dropped (the
   filter's names come from the rollups).
9. day cells (rollups with span 86400) and rollup_hours (every request of an hour: the time
   series), built from the hour cells already stored (console/store/rollup_builds.py): a
   month's window reads ~1/20 of the cells it read from the hour cells. An index of the user
   day cells (rollup_tables.USER_DAYS_INDEX).
10. rollups.rated: the requests of a cell with a feedback value (the denominator of a bad
   rate: a request nobody rated is not a good one), the cells rebuilt from the rows stored
   (as 7 built them) so every cell, minute to day, holds its rows' count.

Not a version: a SQLite store made by a console with console/store/day_dedup.py dedups by
(UTC day of ts, request_id) (a virtual `day` column, a UNIQUE INDEX on (day, request_id), a
planted sqlite_stat1 row) where older ones keep UNIQUE (request_id). No bump, because a
console at version 9 or later opens and writes such a store correctly: its INSERT OR IGNORE skips
duplicates by whichever unique index the table has, its lookups by request_id read the
planted statistic from the file, and it reads no column by position; a bump would only make
it refuse the store. Older stores are not rebuilt (10M rows: minutes of a locked store).

Upgrades run under a lock (an advisory lock on PostgreSQL, BEGIN IMMEDIATE on SQLite) and
in one transaction, so consoles opening one store at once upgrade it exactly once, and a
failed upgrade leaves the old schema as it was. A table added without a version bump is
created by create_all on every open, as before versioning.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager, suppress
from typing import Callable, Iterator

from sqlalchemy import Column, Connection, Engine, Float, Index, Integer, Table, create_engine, event, inspect, text
from sqlalchemy.pool import NullPool
from sqlmodel import SQLModel

from console.store.engine import StoreError
from console.store import day_dedup, rollup_tables  # noqa: F401  (its tables join the metadata create_all makes)
from console.store.schema_facts import CURRENT_VERSION
from console.store.tables import RequestRow

MIGRATION_LOCK_KEY = 0x6C6C6D6F70_01  # an arbitrary advisory lock id: "llmop" + 1

schema_version = Table(
    "schema_version",
    SQLModel.metadata,
    Column("version", Integer, primary_key=True),
    Column("migrated_at", Float, nullable=False),
)


Notice = Callable[[str], None]  # told what an open is doing when it takes a while


def migrate(engine: Engine, host: str, notice: Notice | None = None) -> int | None:
    """Bring the store to CURRENT_VERSION; returns the version found (None: a new store).
    notice: told before an upgrade starts, or before waiting for another's (a 10M-row store's
    upgrade can take a minute: a command or the console's header says why nothing moves)."""
    notice = notice or (lambda _text: None)
    if engine.dialect.name == "sqlite":
        return _migrate_sqlite(engine, host, notice)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        return _migrate(conn, host, notice)


def stored_version(conn: Connection) -> int | None:
    """The store's schema version; None when it has no tables yet."""
    tables = set(inspect(conn).get_table_names())
    if "schema_version" in tables:
        version = conn.execute(text("SELECT max(version) FROM schema_version")).scalar()
        if version is not None:
            return int(version)
    return 1 if "requests" in tables else None


def _migrate(conn: Connection, host: str, notice: Notice = lambda _text: None) -> int | None:
    found = stored_version(conn)
    if found is None:
        SQLModel.metadata.create_all(conn)
        _stamp(conn, CURRENT_VERSION)
        return None
    if found > CURRENT_VERSION:
        raise StoreError(
            f"the store's schema is version {found}, newer than this console's {CURRENT_VERSION}: "
            "upgrade llmops-console to open it"
        )
    if found < CURRENT_VERSION:
        notice(f"upgrading the store from schema version {found} to {CURRENT_VERSION} (once; "
               "a large store takes a while)")  # fmt: skip
    for version in range(found, CURRENT_VERSION):
        STEPS[version + 1](conn, host)
        _stamp(conn, version + 1)
    SQLModel.metadata.create_all(conn)  # tables new since (checkfirst)
    ensure_indexes(conn)
    return found


def missing_indexes(conn: Connection) -> list[Index]:
    """Indexes of the tables that an older store lacks (create_all only makes the indexes
    of tables it creates)."""
    present = {i["name"] for i in inspect(conn).get_indexes(RequestRow.__tablename__)}
    return [index for index in RequestRow.__table__.indexes if index.name not in present]


def ensure_indexes(conn: Connection) -> None:
    """Builds the missing ones (once; a million-row store takes a few seconds), under the
    migration lock the caller holds."""
    for index in missing_indexes(conn):
        index.create(conn, checkfirst=True)


def _stamp(conn: Connection, version: int) -> None:
    schema_version.create(conn, checkfirst=True)
    conn.execute(schema_version.insert().values(version=version, migrated_at=time.time()))


def _migrate_sqlite(engine: Engine, host: str, notice: Notice) -> int | None:
    with engine.connect() as conn:  # the common case, without the write lock
        if stored_version(conn) == CURRENT_VERSION and not missing_indexes(conn):
            SQLModel.metadata.create_all(conn)
            day_dedup.keep_statistic(conn)
            conn.commit()
            return CURRENT_VERSION
    database = engine.url.database
    if not database or database == ":memory:":  # one connection, nobody to race with
        with engine.begin() as conn:
            return _migrate(conn, host, notice)
    with _upgrade_lock(database, notice):
        return _migrate_sqlite_locked(engine, host, notice)


UPGRADE_BUSY_TIMEOUT_S = 30.0  # as every SQLite write: then the store is named as locked


@contextmanager
def _upgrade_lock(database: str, notice: Notice) -> Iterator[None]:
    """Held by a process upgrading a SQLite store, so that another one opening it meanwhile
    (the live console's other threads, `report` in a second terminal) waits as long as the
    upgrade takes instead of failing at the write lock's 30 s: version 10 rebuilds the cells
    of a 10M-row store in about 50 s, and a second opener failed with 'database is locked'.
    A store locked by anything else still fails after 30 s (this lock is free then). flock:
    let go when the holder dies; the file is removed after the upgrade (a waiter holding the
    removed file's lock only finds the store upgraded)."""
    try:
        import fcntl
    except ImportError:  # no flock (Windows): the write lock's 30 s as before
        yield
        return
    path = f"{database}-upgrade.lock"
    try:
        handle = open(path, "a")
    except OSError:  # a read-only directory: whatever opens the store fails the same way
        yield
        return
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            notice("waiting for the store's upgrade, which another process or thread is running")
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            with suppress(OSError):
                os.unlink(path)
            fcntl.flock(handle, fcntl.LOCK_UN)


def _migrate_sqlite_locked(engine: Engine, host: str, notice: Notice) -> int | None:
    # A connection of its own whose transaction is BEGIN IMMEDIATE: the version is read
    # again under the write lock, and pysqlite's DDL is part of the transaction.
    locked = create_engine(engine.url, poolclass=NullPool, connect_args={"timeout": UPGRADE_BUSY_TIMEOUT_S})

    @event.listens_for(locked, "connect")
    def _autocommit_driver(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(locked, "begin")
    def _begin_immediate(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    try:
        with locked.begin() as conn:
            return _migrate(conn, host, notice)
    finally:
        locked.dispose()


# -- the steps: STEPS[n] upgrades version n-1 to n -------------------------------------------


def _v2_offsets_per_host(conn: Connection, host: str) -> None:
    columns = {c["name"] for c in inspect(conn).get_columns("source_offsets")}
    if "host" in columns:
        return  # created by create_all at the new shape already
    if conn.dialect.name == "postgresql":
        pk_name = inspect(conn).get_pk_constraint("source_offsets").get("name") or "source_offsets_pkey"
        conn.exec_driver_sql("ALTER TABLE source_offsets ADD COLUMN host VARCHAR NOT NULL DEFAULT ''")
        conn.execute(text("UPDATE source_offsets SET host = :host"), {"host": host})
        conn.exec_driver_sql("ALTER TABLE source_offsets ALTER COLUMN host DROP DEFAULT")
        conn.exec_driver_sql(f'ALTER TABLE source_offsets DROP CONSTRAINT "{pk_name}"')
        conn.exec_driver_sql("ALTER TABLE source_offsets ADD PRIMARY KEY (host, source)")
        conn.exec_driver_sql(
            'ALTER TABLE source_offsets ALTER COLUMN inode TYPE BIGINT, ALTER COLUMN "offset" TYPE BIGINT'
        )
        return
    # SQLite cannot change a primary key in place: the documented copy-and-rename.
    conn.exec_driver_sql("DROP TABLE IF EXISTS source_offsets_new")
    conn.exec_driver_sql(
        "CREATE TABLE source_offsets_new (host VARCHAR NOT NULL, source VARCHAR NOT NULL, "
        'inode BIGINT NOT NULL, "offset" BIGINT NOT NULL, line_no INTEGER NOT NULL, '
        "updated_at FLOAT NOT NULL, PRIMARY KEY (host, source))"
    )
    conn.execute(
        text(
            'INSERT INTO source_offsets_new (host, source, inode, "offset", line_no, updated_at) '
            'SELECT :host, source, inode, "offset", line_no, updated_at FROM source_offsets'
        ),
        {"host": host},
    )
    conn.exec_driver_sql("DROP TABLE source_offsets")
    conn.exec_driver_sql("ALTER TABLE source_offsets_new RENAME TO source_offsets")


def _add_columns(conn: Connection, table: str, columns: dict[str, str]) -> None:
    """ALTER TABLE ... ADD COLUMN for each column (name -> type and default) the table lacks;
    a table not made yet is left to create_all, which makes it at the new shape."""
    if not inspect(conn).has_table(table):
        return
    present = {c["name"] for c in inspect(conn).get_columns(table)}
    for name, ddl in columns.items():
        if name not in present:
            conn.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {name} {ddl}")


def _v3_run_process(conn: Connection, host: str) -> None:
    _add_columns(conn, "regression_runs", {"host": "VARCHAR", "pid": "INTEGER"})


def _v4_label_case_pending(conn: Connection, host: str) -> None:
    _add_columns(conn, "labels", {"case_pending": "BOOLEAN NOT NULL DEFAULT FALSE"})


def _v5_column_blocks(conn: Connection, host: str) -> None:
    """The column blocks, and on SQLite the blocks of the rows already stored (once: about
    as long as one `report` over them took before)."""
    from console.store.column_blocks import fill_gaps
    from console.store.tables import ColumnBlock

    ColumnBlock.__table__.create(conn, checkfirst=True)
    if conn.dialect.name == "sqlite":
        fill_gaps(conn.connection.dbapi_connection)


def _v6_estimated_cost(conn: Connection, host: str) -> None:
    """requests.estimated_cost_usd (NULL for the rows already stored; the estimates read
    before it stay in their metadata). SQLite's column blocks written before it lack the
    array: it reads as NaN (column_blocks.RawBlock.decode)."""
    _add_columns(conn, "requests", {"estimated_cost_usd": "FLOAT"})


def _v7_rollups(conn: Connection, host: str) -> None:
    """The rollup tables, and the cells of the rows already stored (once: from the column
    blocks on SQLite, from the rows elsewhere)."""
    from console.store.rollup_builds import build_all, stored_rows

    for table in (rollup_tables.RollupCell, rollup_tables.RollupUserCell, rollup_tables.RollupHourCell):
        table.__table__.create(conn, checkfirst=True)
    build_all(conn.connection.dbapi_connection if conn.dialect.name == "sqlite" else conn, stored_rows(conn))


def _v8_body_blocks(conn: Connection, host: str) -> None:
    from console.store.body_blocks import compact
    from console.store.tables import BodyBlock

    BodyBlock.__table__.create(conn, checkfirst=True)
    for index in ("ix_requests_model", "ix_requests_prompt"):  # see RequestRow's table args
        conn.exec_driver_sql(f"DROP INDEX IF EXISTS {index}")
    if conn.dialect.name == "sqlite":
        compact(conn.connection.dbapi_connection)


def _v9_day_cells(conn: Connection, host: str) -> None:
    from console.store.rollup_builds import build_coarse

    rollup_tables.RollupHourCell.__table__.create(conn, checkfirst=True)
    rollup_tables.USER_DAYS_INDEX.create(conn, checkfirst=True)
    build_coarse(conn.connection.dbapi_connection if conn.dialect.name == "sqlite" else conn)


def _v10_rated(conn: Connection, host: str) -> None:
    """rollups.rated, and every cell made again from the rows stored (once: about as long as
    version 7's build; a count per cell key cannot be added to the stored cells in SQL
    without a join of every row to its minute, hour and day cells)."""
    from console.store.rollup_builds import build_all, stored_rows

    if "rated" in {c["name"] for c in inspect(conn).get_columns("rollups")}:
        return  # the table was made at the new shape in this upgrade (by 7): its cells count rated
    _add_columns(conn, "rollups", {"rated": "BIGINT NOT NULL DEFAULT 0"})
    build_all(conn.connection.dbapi_connection if conn.dialect.name == "sqlite" else conn, stored_rows(conn))


STEPS: dict[int, Callable[[Connection, str], None]] = {
    2: _v2_offsets_per_host,
    3: _v3_run_process,
    4: _v4_label_case_pending,
    5: _v5_column_blocks,
    6: _v6_estimated_cost,
    7: _v7_rollups,
    8: _v8_body_blocks,
    9: _v9_day_cells,
    10: _v10_rated,
}
assert sorted(STEPS) == list(range(2, CURRENT_VERSION + 1)), "one step per version"
