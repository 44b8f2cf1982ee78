"""Engines from URLs: SQLite (WAL) by default, PostgreSQL for teams."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from console.store.body_blocks import reader_for
from console.store.locations import DEFAULT_STORE_PATH, default_store_url, normalise_url

__all__ = ["DEFAULT_STORE_PATH", "StoreError", "create_store_engine", "default_host", "default_store_url", "normalise_url"]


class StoreError(Exception):
    """The store cannot be opened or written; the message is meant for the user."""


def default_host() -> str:
    """This machine's name in a shared store (offsets are kept per host); LLMOPS_HOST overrides."""
    return os.environ.get("LLMOPS_HOST") or socket.gethostname() or "localhost"


def create_store_engine(url: str) -> Engine:
    url = normalise_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreError(f"not a store URL: {url!r} ({exc})") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(parsed)
    if backend == "postgresql":
        try:
            return create_engine(parsed, pool_pre_ping=True)
        except (NoSuchModuleError, ImportError) as exc:
            raise StoreError(f"cannot open {parsed.render_as_string()}: {exc}") from None
    raise StoreError(
        f"unsupported store {backend!r} in {url!r}: use sqlite:///PATH or postgresql+psycopg://..."
    )


def _sqlite_engine(parsed) -> Engine:
    database = parsed.database
    if database and database != ":memory:":
        path = Path(database).expanduser()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the store directory {path.parent}: {exc}") from None
    engine = create_engine(parsed, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()
        reader = reader_for(str(database) if database and database != ":memory:" else None)
        # the `/` filter's text words over bodies kept in blocks (console.store.filter_sql)
        dbapi_connection.create_function(
            "body_has", 2, (lambda row_id, word: False) if reader is None else reader.has, deterministic=True
        )
        # a loose body's text lowered as the blocks' are (SQLite's lower() knows only ASCII)
        dbapi_connection.create_function("text_lower", 1, _text_lower, deterministic=True)

    return engine


def _text_lower(value):
    return value.lower() if isinstance(value, str) else value


def create_tables(engine: Engine) -> None:
    """Create missing tables only; Store uses console.store.migrations, which also upgrades."""
    from sqlmodel import SQLModel

    from console.store import rollup_tables, tables  # noqa: F401  (register the tables on SQLModel.metadata)

    SQLModel.metadata.create_all(engine)
