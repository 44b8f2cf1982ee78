"""How a command opens the store named by --store (default: .llmops/console.db here).

Every command goes through open_store, so a bad URL, an unreachable server or a locked
file reads the same everywhere: a UsageError with the store's own message. `report` and
`check` go through open_reader, which reads a SQLite store at the current schema with plain
sqlite3 (console/store/sqlite_reader.py: no SQLAlchemy imported) and opens any other as a Store.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from console.commands.errors import UsageError
from console.store.locations import default_store_url, normalise_url, plain_sqlite_file

if TYPE_CHECKING:
    from console.store import Store
    from console.store.sqlite_reader import SqliteReader


def _parse(url: str):
    from sqlalchemy.engine import make_url

    try:
        return make_url(url)
    except Exception as exc:  # sqlalchemy's ArgumentError, a ValueError for a bad port...: not a URL
        raise UsageError(f"not a store URL: {url!r} ({exc})") from None


def _sqlite_file(url: str) -> str | None:
    """The database file of a file-backed SQLite URL, else None."""
    parsed = _parse(url)
    database = parsed.database
    if parsed.get_backend_name() == "sqlite" and database not in (None, "", ":memory:"):
        return database
    return None


def open_store(url: str | None, *, missing_hint: str | None = None) -> Store:
    """The store, created (or upgraded) as needed.

    missing_hint: a command that only reads (report, compare) passes what to do instead; a
    SQLite file that does not exist is then a UsageError naming it, not a new empty store,
    and one at this schema version is opened without importing the table definitions
    (Store's for_reading)."""
    from console.store import Store, StoreError

    url = normalise_url(url or default_store_url())  # a bare path is a SQLite file
    database = _sqlite_file(url)
    if missing_hint is not None and database is not None and not Path(database).exists():
        raise UsageError(f"no store at {database} ({missing_hint})")
    try:
        return Store(url, for_reading=missing_hint is not None, notice=_say_on_stderr)
    except StoreError as exc:
        raise UsageError(str(exc)) from None


def _say_on_stderr(text: str) -> None:
    """What opening the store is doing when it takes a while (an upgrade): on stderr, so a
    command's output (report --json) stays what it was."""
    import sys

    print(f"{text} ...", file=sys.stderr, flush=True)


def open_reader(url: str | None, *, missing_hint: str) -> SqliteReader | Store:
    """For a command that only reads rows and rollups (report, check): a plain file-backed
    SQLite store at the current schema as a SqliteReader, without SQLAlchemy; any other
    (PostgreSQL, an older schema, a URL only SQLAlchemy reads) as open_store opens it."""
    url = normalise_url(url or default_store_url())
    database = plain_sqlite_file(url)
    if database is not None:
        if not Path(database).exists():
            raise UsageError(f"no store at {database} ({missing_hint})")
        from console.store.sqlite_reader import SqliteReader

        reader = SqliteReader.open(database)
        if reader is not None:
            return reader
    return open_store(url, missing_hint=missing_hint)


def check_store(url: str | None) -> str:
    """--store, or the default store, once an engine can be made for it (the console opens
    the store itself, later, from the URL as given)."""
    from console.store import StoreError
    from console.store.engine import create_store_engine

    url = url or default_store_url()
    _parse(normalise_url(url))
    try:
        engine = create_store_engine(url)
    except StoreError as exc:
        raise UsageError(str(exc)) from None
    try:
        if engine.url.get_backend_name() != "sqlite":
            # a server store is connected to once here: a database or role that does not exist,
            # a host that does not resolve, a refused port stop the command with the reason,
            # not a console at $0 whose history never loads
            _connect_once(engine)
    finally:
        engine.dispose()
    return url


def _connect_once(engine) -> None:
    from sqlalchemy.exc import DBAPIError

    try:
        with engine.connect():
            pass
    except DBAPIError as exc:  # OperationalError: the server's or the resolver's reason
        shown = engine.url.render_as_string(hide_password=True)
        raise UsageError(f"cannot open the store {shown}: {exc.orig}") from None
