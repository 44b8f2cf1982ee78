"""Which store write failures clear by themselves, and the errors the writers raise.

console/store/retry.py retries a write by what write_fault says: a transient fault (a full
disk, a locked store, a dropped connection) is tried again, a permanent one (the schema is not
what this console writes) stops with a message; anything else is a bug, raised as it is.
"""

from __future__ import annotations

from console.store.engine import StoreError


class StoreLocked(StoreError):
    """Another process held the SQLite store's write lock through every retry."""


class StoreBroken(StoreError):
    """A write failed with an error that retrying cannot fix (the schema is not what this
    console writes: a table or column dropped, a constraint); the message says what to do."""


# -- which write failures clear by themselves -------------------------------------------------

TRANSIENT, PERMANENT = "transient", "permanent"
# PEP 249 exception names, as sqlite3, psycopg and SQLAlchemy's wrappers all spell them.
_TRANSIENT_DBAPI = frozenset({"OperationalError", "InterfaceError", "InternalError", "DisconnectionError"})
_PERMANENT_DBAPI = frozenset({"ProgrammingError", "IntegrityError", "DataError", "NotSupportedError"})
# SQLite reports schema mistakes as OperationalError, like a lock or a full disk: by message.
_PERMANENT_MESSAGES = (
    "no such table", "no such column", "has no column named", "no such index", "no such function",
    "syntax error", "file is not a database", "database disk image is malformed",
)


def write_fault(exc: BaseException) -> str | None:
    """How a failed store write should be handled:

    TRANSIENT: it may clear by itself, so the same batch is tried again (a full disk, a
    read-only or locked store, the server restarting, the connection dropped);
    PERMANENT: retrying cannot fix it (no such table or column, a constraint or a type
    error: the store's schema is not what this console writes);
    None: not a store fault at all (a bug), to be raised as it is.
    """
    if isinstance(exc, StoreBroken):
        return PERMANENT
    if isinstance(exc, StoreError):  # e.g. locked through every retry, or the writer process
        return PERMANENT if _permanent_message(str(exc)) else TRANSIENT
    if isinstance(exc, OSError):  # disk full, read-only file system, I/O error, timeout
        return TRANSIENT
    if getattr(exc, "connection_invalidated", False):  # SQLAlchemy saw the connection drop
        return TRANSIENT
    names = {cls.__name__ for cls in type(exc).__mro__}
    orig = getattr(exc, "orig", None)  # the driver's exception inside SQLAlchemy's wrapper
    if orig is not None:
        names |= {cls.__name__ for cls in type(orig).__mro__}
    if names & _PERMANENT_DBAPI:
        return PERMANENT
    if names & _TRANSIENT_DBAPI:
        return PERMANENT if _permanent_message(str(orig or exc)) else TRANSIENT
    if "DatabaseError" in names:  # sqlite3.DatabaseError itself: not a database, malformed
        return PERMANENT
    return None


def _permanent_message(message: str) -> bool:
    message = message.lower()
    return any(part in message for part in _PERMANENT_MESSAGES)


def fault_reason(exc: BaseException) -> str:
    """One line for the user: the driver's message without SQLAlchemy's SQL and links."""
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc) or type(exc).__name__
    return " ".join(text.split())
