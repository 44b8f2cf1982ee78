"""Where a store is: the default path and a URL from what a user typed, without SQLAlchemy
(the sqlite3 reader of `report` and `check` must not import it: console/store/sqlite_reader.py)."""

from __future__ import annotations

from pathlib import Path

DEFAULT_STORE_PATH = Path(".llmops") / "console.db"


def default_store_url(base_dir: Path | None = None) -> str:
    path = (base_dir or Path.cwd()) / DEFAULT_STORE_PATH
    return f"sqlite:///{path}"


def normalise_url(url: str) -> str:
    """Accept a bare file path as a SQLite store, as people type at 3 a.m."""
    if "://" not in url:
        return f"sqlite:///{Path(url).expanduser().resolve()}"
    return url


def plain_sqlite_file(url: str) -> str | None:
    """The database file of a plain file URL, `sqlite:///PATH` (after normalise_url), else None:
    anything SQLAlchemy's parser would read differently (a query string, a percent escape, a
    driver, memory) is left to it."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or any(mark in url for mark in "?#%") or url.startswith(prefix + "~"):
        return None
    path = url[len(prefix):]
    return path if path not in ("", ":memory:") else None
