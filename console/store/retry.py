"""How a store operation the store refuses is tried again: one policy for every writer and
follower (`ingest`, `ingest --follow`, the live console's tail and its store follow).

A fault that may pass (a full disk, a read-only or locked store, the PostgreSQL server
restarting, a dropped connection) is retried after a pause doubling from `first_s` to
`most_s`, for as long as the give-up rule allows; an error retrying cannot fix (no such
table or column: the schema is not what this console writes) stops after `permanent_tries`;
anything else is a bug, raised as it is (console.store.write_faults.write_fault tells them apart).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, TypeVar

from console.store.engine import StoreError
from console.store.write_faults import PERMANENT, StoreBroken, StoreLocked, fault_reason, write_fault

# Module defaults, read when a policy is made (so a test can shorten them for every caller).
RETRY_FIRST_S = 0.5
RETRY_MOST_S = 10.0
PERMANENT_TRIES = 3
STOP_CHECK_S = 0.1  # how often a pause looks at should_stop

T = TypeVar("T")


class StoreGaveUp(StoreError):
    """A fault that may pass lasted longer than the policy's give-up rule."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """give_up_after_s: None never gives up (the live console, `ingest --follow`); a number
    stops after that long of failures, and then a locked SQLite store (which its own lock
    retries already waited for) fails at once."""

    give_up_after_s: float | None = None
    first_s: float = field(default_factory=lambda: RETRY_FIRST_S)
    most_s: float = field(default_factory=lambda: RETRY_MOST_S)
    permanent_tries: int = field(default_factory=lambda: PERMANENT_TRIES)


def store_faults() -> tuple[type[BaseException], ...]:
    """The exception classes a store operation may fail with that are store faults: the OS's,
    SQLite's, SQLAlchemy's (which wrap psycopg's) and psycopg's own, and StoreError.
    write_fault then tells the transient from the permanent."""
    import sqlite3

    from sqlalchemy.exc import SQLAlchemyError

    faults: tuple[type[BaseException], ...] = (OSError, sqlite3.Error, SQLAlchemyError, StoreError)
    try:
        import psycopg
    except ImportError:  # PostgreSQL support not installed
        return faults
    return (*faults, psycopg.Error)


def retry_store(
    operation: Callable[[], T],
    policy: RetryPolicy,
    *,
    where: str,
    on_trouble: Callable[[str | None], object],
    should_stop: Callable[[], bool] | None = None,
    doing: str = "write to",
    reset: Callable[[], object] | None = None,
    hint: str = "",
) -> T | None:
    """operation() (a write of one batch, a poll), tried again while the store refuses it for
    a reason that may pass. A write's batch is the same each time, so its rows and its offsets
    go in together or not at all, and a retry after a commit whose answer was lost stores no
    row twice (rows are unique by request_id). reset() after each failure: a write's retry
    gets a fresh connection (store.discard_writer).

    on_trouble(message) before each pause ("cannot {doing} the store: why; retry n in p s"),
    on_trouble(None) once it goes through or fails for good. None if should_stop() turned
    true meanwhile. Fails with StoreBroken (an error retrying cannot fix, after the policy's
    permanent_tries), StoreGaveUp or StoreLocked (the give-up rule), each naming the store
    (`where`) and ending with `hint` (what the user can do)."""
    faults = store_faults()
    ending = f"\n{hint}" if hint else ""
    pause = policy.first_s
    started: float | None = None
    failures = permanent = 0
    while True:
        try:
            result = operation()
        except faults as exc:
            kind = write_fault(exc)
            if kind is None:  # not a store fault: a bug, raised as it is
                raise
            if reset is not None:
                reset()
            failures += 1
            reason = fault_reason(exc)
            if isinstance(exc, StoreLocked) and policy.give_up_after_s is not None:
                _cleared(on_trouble, failures - 1)
                raise StoreLocked(f"{reason}{ending}") from None
            if kind == PERMANENT:
                permanent += 1
                if permanent >= policy.permanent_tries:
                    _cleared(on_trouble, failures - 1)
                    raise StoreBroken(
                        f"cannot {doing} the store {where}, an error retrying cannot fix: {reason}\n"
                        f"Opening the store again recreates missing tables.{ending}"
                    ) from None
            now = time.monotonic()
            started = now if started is None else started
            if policy.give_up_after_s is not None and now - started + pause > policy.give_up_after_s:
                _cleared(on_trouble, failures - 1)
                raise StoreGaveUp(
                    f"cannot {doing} the store {where}: gave up after {failures} tries "
                    f"in {now - started:.0f} s: {reason}{ending}"
                ) from None
            on_trouble(f"cannot {doing} the store: {reason}; retry {failures} in {pause:g} s")
            if sleep_unless_stopped(pause, should_stop):
                return None
            pause = min(pause * 2, policy.most_s)
            continue
        _cleared(on_trouble, failures)
        return result


def _cleared(on_trouble: Callable[[str | None], object], troubles_said: int) -> None:
    """The trouble is over (gone through, or failed for good): the header stops saying it."""
    if troubles_said:
        on_trouble(None)


def sleep_unless_stopped(seconds: float, should_stop: Callable[[], bool] | None) -> bool:
    """Sleep, looking at should_stop every STOP_CHECK_S; True when it turned true."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        if should_stop is not None and should_stop():
            return True
        time.sleep(min(left, STOP_CHECK_S))
    return should_stop is not None and should_stop()
